"""End-to-end checks on paging64 (samples/paging64), a 64-bit guest that switches to its own
page tables and runs its kernel at 0xffffffff80000000, loaded at physical 0x200000.  Run by
run_e2e.sh inside gdb; see e2e.py for the environment.

Memory and software breakpoints take the addresses gdb has from the symbols, which are linear:
hvgdb translates them through the guest's page tables.  What is mapped changes as the guest
runs (start.S, paging64.c):
  before paging_enabled  the loader's identity map: the kernel's addresses are unmapped
  after it               the kernel, a 2 MiB alias of physical 0 at ALIAS, nothing at the
                         kernel's physical address; straddle[1] lies in a page that the guest
                         maps away from straddle[0]'s physical neighbour
  in after_unmap()       retired()'s page is unmapped

Exit code: (((mapped_value + 3) & 0x7f) << 1) | 1; this test sets mapped_value to 0x40: 135."""

import struct

import gdb

from e2e import (
    CheckFailed,
    IMAGE,
    address_of,
    cannot_access,
    check,
    check_equal,
    check_in,
    connect,
    continue_to_exit,
    elf_entry,
    expect_serial,
    frame_name,
    info_mem,
    main,
    packet_sent,
    pc,
    run,
    set_breakpoint,
    uvalue,
)

KERNEL_VIRT = 0xFFFFFFFF80000000
KERNEL_PHYS = 0x200000
ALIAS = 0xFFFFFFFF80200000  # a 2 MiB page onto physical 0
UNMAPPED = 0xFFFFFFFF80400000
NON_CANONICAL = 0x0000800000000000
PAGE = 4096

GUEST_STRADDLE = (0x1111111122222222, 0x3333333344444444)
NEW_STRADDLE = (0x5555555566666666, 0x7777777788888888)
NEW_VALUE = 0x40


def read(address, length):
    return bytes(gdb.selected_inferior().read_memory(address, length))


def write(address, data):
    log_line = f"write {len(data)} bytes at {address:#x}"
    run(f"echo {log_line}\\n")
    gdb.selected_inferior().write_memory(address, data)


def read_fails(address, length, what):
    try:
        data = read(address, length)
    except gdb.MemoryError as e:
        check_in("Cannot access memory", str(e), what)
        return
    raise CheckFailed(f"{what}: read of {length} bytes at {address:#x} gave {data.hex()}")


def virtual():
    connect()
    check_equal(pc(), elf_entry(IMAGE), "$pc at the first stop (ELF entry)")
    mapped_value = address_of("mapped_value")
    check(mapped_value >= KERNEL_VIRT, f"mapped_value at {mapped_value:#x}: a kernel address")
    cannot_access("x/x &mapped_value", mapped_value,
                  "the kernel before the guest's page tables are on")

    # A software breakpoint in identity-mapped code, under the loader's page tables.
    set_breakpoint("break *paging_enabled")
    run("continue")
    check_equal(pc(), address_of("paging_enabled"), "$pc at break *paging_enabled")

    # The guest's page tables are on.
    check_equal(uvalue("mapped_value", 32), 0, "mapped_value before kmain")
    start = address_of("_start")
    check_equal(read(ALIAS + start, 16), read(start, 16),
                "_start's bytes through the 2 MiB alias and through the identity map")
    cannot_access(f"x/x {KERNEL_PHYS:#x}", KERNEL_PHYS, "the kernel's physical address")

    # A software breakpoint at a kernel address, whose physical address is 0x200000 lower.
    set_breakpoint("break checkpoint")
    run("continue")
    check_equal(frame_name(), "checkpoint", "function at break checkpoint")
    check(pc() > address_of("checkpoint"), f"$pc {pc():#x} after checkpoint's prologue")

    # Reads of what the guest wrote through its virtual addresses.
    check_equal(uvalue("mapped_value", 32), 0x1234, "mapped_value as the guest wrote it")
    straddle = address_of("straddle")
    check_equal((straddle + 8) % PAGE, 0, "straddle's two words are on two pages")
    check_equal(read(straddle, 16), struct.pack("<2Q", *GUEST_STRADDLE),
                "straddle read across the page boundary in one access")
    check_equal(uvalue("straddle[1]"), GUEST_STRADDLE[1], "straddle[1] alone")

    # The end of the mapped kernel: a read that runs past it fails, the last word reads.
    end = address_of("kernel_virt_end")
    last_word = read(end - 8, 8)
    read_fails(end - 8, 16, "a read that runs off the end of the mapped kernel")
    cannot_access(f"x/x {UNMAPPED:#x}", UNMAPPED, "an address no entry maps")
    cannot_access(f"x/x {NON_CANONICAL:#x}", NON_CANONICAL, "a non-canonical address")

    # Writes: the guest sees them after it continues (serial output and exit code).
    run(f"set var mapped_value = {NEW_VALUE:#x}")
    check_equal(uvalue("mapped_value", 32), NEW_VALUE, "mapped_value after set var")
    write(straddle, struct.pack("<2Q", *NEW_STRADDLE))
    check_equal(read(straddle, 16), struct.pack("<2Q", *NEW_STRADDLE),
                "straddle after a write across the page boundary")
    cannot_access(f"set var *(int *){UNMAPPED:#x} = 1", UNMAPPED, "a write to an unmapped page")
    try:
        write(end - 8, b"\xa5" * 16)
        raise CheckFailed("a write that runs off the end of the mapped kernel succeeded")
    except gdb.MemoryError as e:
        check_in("Cannot access memory", str(e), "a write off the end of the mapped kernel")
    check_equal(read(end - 8, 8), last_word, "the mapped part of a failed write is unchanged")

    # Breakpoints at retired() stay inserted while the guest unmaps its page: gdb removes the
    # software one at the next stop, which must still find it.  The hardware one is linear.
    set_breakpoint("break after_unmap")
    retired_bp = set_breakpoint("break retired")
    retired_hbp = set_breakpoint("hbreak retired")
    run("continue")
    check_equal(frame_name(), "after_unmap", "function at break after_unmap")
    retired = address_of("retired")
    cannot_access("x/x retired", retired, "retired() while its page is unmapped")
    reply = run(f"maint packet Z0,{retired:x},1")
    check_in('received: "E', reply, "a software breakpoint inserted into an unmapped page")

    run(f"delete {retired_bp}")
    run("continue")
    check_equal(frame_name(), "retired", f"function at hbreak retired (breakpoint {retired_hbp})")
    check_equal(len(read(retired, 16)), 16, "retired() readable again")

    run("delete")
    expect_serial("paging64: running on its own page tables\n")
    expect_serial(f"mapped_value = {NEW_VALUE:#010x}\n")
    total = (NEW_STRADDLE[0] + NEW_STRADDLE[1]) & 0xFFFFFFFF
    expect_serial(f"straddle sum = {total:#010x}\n")
    value = (NEW_VALUE + 3) & 0x7F
    expect_serial(f"exit value = {value}\n")
    continue_to_exit((value << 1) | 1)


def monitor():
    """The memory monitor commands: translate, phys and root."""
    connect()
    mapped_value = address_of("mapped_value")
    check_in("is not mapped", run(f"monitor translate {mapped_value:#x}"),
             "translate before the guest's page tables are on")
    set_breakpoint("break *paging_enabled")  # kernel addresses take breakpoints from here on
    run("continue")
    set_breakpoint("break checkpoint")
    run("continue")
    physical = mapped_value - KERNEL_VIRT + KERNEL_PHYS
    check_in(f"-> physical {physical:#x} (4 KiB page, writable, supervisor",
             run(f"monitor translate {mapped_value:#x}"), "translate of mapped_value")
    check_in("linear", run("monitor phys"), "the default addressing")

    # Physical mode: the kernel's physical address reads what its virtual one showed.
    check_in("guest-physical", run("monitor phys on"), "monitor phys on")
    check_equal(uvalue(f"*(unsigned int *){physical:#x}", 32), 0x1234,
                "mapped_value read at its physical address")
    cannot_access(f"x/x {mapped_value:#x}", mapped_value,
                  "a kernel virtual address in physical mode")
    check_in("linear", run("monitor phys off"), "monitor phys off")
    check_equal(uvalue("mapped_value", 32), 0x1234, "mapped_value back through the page tables")

    # Another root: the tables at CR3 as a number name the same address space; a root whose
    # tables map nothing makes the kernel unreadable until 'root cr3'.
    cr3 = uvalue("$cr3") & ~0xFFF
    check_in(f"page-table root {cr3:#x}", run(f"monitor root {cr3:#x}"), "monitor root")
    check_equal(uvalue("mapped_value", 32), 0x1234, "mapped_value through an explicit root")
    empty = KERNEL_PHYS + 0x180000  # guest RAM the guest never writes: all zero
    run(f"monitor root {empty:#x}")
    cannot_access("x/x &mapped_value", mapped_value, "the kernel under an empty root")
    check_in("CR3", run("monitor root cr3"), "monitor root cr3")
    check_equal(uvalue("mapped_value", 32), 0x1234, "mapped_value after 'root cr3'")
    for bad in ("monitor phys maybe", "monitor root zz", "monitor translate"):
        try:
            run(bad)
            raise CheckFailed(f"{bad!r} succeeded")
        except gdb.error:
            pass
    run("delete")
    continue_to_exit(((0x1234 + 3) & 0x7F) << 1 | 1)


def to_paging():
    connect()
    set_breakpoint("break *paging_enabled")
    run("continue")
    check_equal(pc(), address_of("paging_enabled"), "$pc at break *paging_enabled")
    run("delete")


def memory_map():
    """The default memory map (paged): all of the canonical address space is ram, so the
    kernel's higher-half addresses, mapped after gdb read the map, read and take breakpoints;
    gdb refuses the non-canonical hole without asking (--log-packets shows what it asked)."""
    to_paging()
    check_equal(info_mem(), [(0, 1 << 56, "rw"), (0xFF00000000000000, 1 << 64, "rw")],
                "the memory map gdb has (info mem): all but the non-canonical hole")
    check_equal(uvalue("checkpoints", 32), 0, "a kernel global at its higher-half address")
    set_breakpoint("break checkpoint")
    run("continue")
    check_equal(frame_name(), "checkpoint", "function at break checkpoint")
    check_equal(uvalue("mapped_value", 32), 0x1234, "mapped_value as the guest wrote it")

    hole = 0x0100000000000000
    cannot_access(f"x/x {hole:#x}", hole, "an address in the non-canonical hole")
    check(not packet_sent(f"m{hole:x},"), "gdb did not ask hvgdb about the hole")
    # Non-canonical under 4-level paging but not under 5-level: gdb asks, hvgdb refuses.
    cannot_access(f"x/x {NON_CANONICAL:#x}", NON_CANONICAL, "an address above 2^47")
    check(packet_sent(f"m{NON_CANONICAL:x},"), "gdb asked hvgdb about 2^47")
    run("delete")
    continue_to_exit(((0x1234 + 3) & 0x7F) << 1 | 1)


def physical_map():
    """--memory-map physical with a paging guest: the map has RAM only, so gdb refuses the
    kernel's higher-half addresses without asking, until `set mem inaccessible-by-default
    off` lets it ask hvgdb again."""
    to_paging()
    mapped_value = address_of("mapped_value")
    cannot_access("x/x &mapped_value", mapped_value, "a kernel address outside the map")
    check(not packet_sent(f"m{mapped_value:x},"), "gdb did not ask hvgdb about the kernel")
    run("set mem inaccessible-by-default off")
    check_equal(uvalue("mapped_value", 32), 0, "mapped_value once gdb asks hvgdb")
    check(packet_sent(f"m{mapped_value:x},"), "gdb asked hvgdb about the kernel address")
    continue_to_exit(((0x1234 + 3) & 0x7F) << 1 | 1)


main({"virtual": virtual, "monitor": monitor, "memory_map": memory_map,
      "physical_map": physical_map})
