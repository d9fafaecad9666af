"""End-to-end checks on firmware.bin, a 64 KiB firmware ROM run with --format firmware
(symbols from firmware.elf, linked at the ROM's low window 0xf0000).  Run by run_e2e.sh inside
gdb; see e2e.py for the environment.

The CPU starts in the reset state: CS = 0xf000 with base 0xffff0000, IP = 0xfff0, so gdb's PC
is the linear address 0xfffffff0, 16 bytes below 4 GiB, where the ROM's last bytes are.  The
far jump there reloads CS = 0xf000 the real-mode way (base 0xf0000): from `_start` on the code
runs in the low window, where its symbols are.  It prints two lines, checks RAM and that its
own store into the ROM is dropped, and exits through port 0xf4 with 0x21: exit code 67
(samples/firmware/firmware.s)."""

import os

import gdb

from e2e import (
    IMAGE,
    address_of,
    cannot_access,
    check,
    check_equal,
    check_in,
    connect,
    continue_to_exit,
    expect_serial,
    info_mem,
    main,
    packet_sent,
    pc,
    run,
    uvalue,
)

# firmware.elf next to firmware.bin: the same code with symbols, linked at 0xf0000.
SYMBOLS_ELF = os.path.splitext(IMAGE)[0] + ".elf"
RESET_LINEAR = 0xFFFFFFF0
LOW_WINDOW = 0xF0000
EXIT_CODE = (0x21 << 1) | 1


def processor_signature():
    """CPUID leaf 1 EAX of this host from /proc/cpuinfo (SDM vol. 2A, CPUID: the family and
    model fields and their extensions), which KVM gives the guest unchanged."""
    fields = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key.strip() in ("cpu family", "model", "stepping"):
                fields.setdefault(key.strip(), int(rest))
            if not line.strip():
                break
    family, model = fields["cpu family"], fields["model"]
    signature = fields["stepping"] | (model & 0xF) << 4
    signature |= (min(family, 0xF) << 8) | (max(family - 0xF, 0) << 20)
    if family in (6, 15):
        signature |= (model >> 4) << 16
    return signature


def memory(address, length):
    return bytes(gdb.selected_inferior().read_memory(address, length))


def basic():
    connect()  # no symbols yet: gdb disassembles with the target's i8086 description
    check_equal(pc(), RESET_LINEAR, "$pc (CS.base + IP) at the reset vector")
    check_equal(uvalue("$cs", 16), 0xF000, "$cs at reset")
    check_equal(uvalue("$eip", 32), RESET_LINEAR, "$eip as gdb sees it (linear)")
    check_equal(uvalue("$edx", 32), processor_signature(),
                "$edx: the processor signature after reset")
    check_equal(uvalue("$cr0", 32), 0x60000010, "$cr0 at reset")

    # 16-bit code: EA 00 00 00 F0 is `ljmp $0xf000, $0x0` (as 32-bit code it would be a 7-byte
    # jump to 0xff..:0xf0000000).
    check_in("ljmp   $0xf000,$0x0", run("x/i $pc"), "the reset vector's instruction")
    top = memory(RESET_LINEAR, 16)
    low = memory(0xFFFF0, 16)
    check_equal(top[:5].hex(), "ea000000f0", "bytes at 0xfffffff0")
    check_equal(low.hex(), top.hex(), "the same 16 bytes through the low window at 0xffff0")

    # Symbols from the ELF32 file switch gdb to i386; real-mode code wants i8086 back.
    run(f"file {SYMBOLS_ELF}")
    run("set architecture i8086")
    check_equal(address_of("reset_vector"), 0xFFFF0, "reset_vector's symbol (low window)")

    run("stepi")  # the far jump
    check_equal(pc(), address_of("_start"), "$pc after stepping the far jump")
    check_equal(pc(), LOW_WINDOW, "_start is the first byte of the low window")
    check_equal(uvalue("$cs", 16), 0xF000, "$cs after the far jump")

    # A hardware breakpoint after the jump, at its low-window linear address.
    run("hbreak *rom_checked")
    run("continue")
    check_equal(pc(), address_of("rom_checked"), "$pc at hbreak *rom_checked")
    check_equal(uvalue("$cs", 16), 0xF000, "$cs at rom_checked")
    rom_byte = memory(address_of("rom_byte"), 1)[0]
    check_equal(rom_byte, 0xA5, "the ROM byte the guest tried to overwrite")
    check_equal(uvalue("*(unsigned short *)0x500", 16), 0x1234, "the guest's word in RAM")
    run("delete")

    # A software breakpoint in ROM (this scenario runs with --memory-map off, as gdb without
    # a map or lldb would set it): hvgdb patches its own copy, reads show the original.
    original = memory(address_of("putc_debugcon"), 1)
    run("break *putc_debugcon")
    check_equal(memory(address_of("putc_debugcon"), 1), original,
                "the ROM byte under a software breakpoint, as gdb reads it")
    run("continue")
    check_equal(pc(), address_of("putc_debugcon"), "$pc at break *putc_debugcon")
    check_equal(uvalue("$al", 8), ord("f"), "$al: first character of 'firmware done'")
    check_in("out    %al,$0xe9", run("x/i $pc"), "the instruction under the breakpoint")
    run("delete")

    expect_serial("hello from the firmware\n")
    expect_serial("firmware done\n")
    continue_to_exit(EXIT_CODE)


def load_symbols():
    connect()
    run(f"file {SYMBOLS_ELF}")
    run("set architecture i8086")


def memory_map():
    """The default memory map (paged) of a firmware guest, with --log-packets: gdb lists the
    ROM's two windows as read-only, puts a breakpoint there in hardware by itself (Z1) and it
    is hit, refuses to write the ROM, and still asks hvgdb about the rest."""
    load_symbols()
    # The 64 KiB ROM shows at 0xffff0000 and again at 0xf0000.  gdb prints the end of the
    # last range (2^64, its address 0) as the end of a 32-bit space in a 32-bit view.
    check_equal(info_mem(), [(0x0, LOW_WINDOW, "rw"), (LOW_WINDOW, 0x100000, "ro"),
                             (0x100000, 0xFFFF0000, "rw"), (0xFFFF0000, 0x100000000, "ro"),
                             (0x100000000, 1 << 56, "rw"), (0xFF00000000000000, 0x100000000, "rw")],
                "the memory map gdb has (info mem)")

    putc = address_of("putc_debugcon")
    check_in("automatically using hardware breakpoints for read-only addresses",
             run("break *putc_debugcon"), "gdb's note on a breakpoint in ROM")
    run("continue")
    check_equal(pc(), putc, "$pc at break *putc_debugcon (in ROM)")
    check(packet_sent(f"Z1,{putc:x},"), f"gdb put a hardware breakpoint at {putc:#x} by itself")
    check(not packet_sent(f"Z0,{putc:x},"), "gdb sent no software breakpoint for the ROM")
    run("delete")

    rom_byte = address_of("rom_byte")
    cannot_access(f"set var *(unsigned char *){rom_byte:#x} = 0x5a", rom_byte, "a write to the ROM")
    check(not packet_sent(f"M{rom_byte:x},") and not packet_sent(f"X{rom_byte:x},"),
          "gdb sent no write for the ROM address")
    check_equal(memory(rom_byte, 1)[0], 0xA5, "the ROM byte after the refused write")
    run("set var *(unsigned short *)0x600 = 0x4321")
    check_equal(uvalue("*(unsigned short *)0x600", 16), 0x4321, "a word written to RAM")

    # Between RAM and ROM: in the map (paging could put memory there), so gdb asks hvgdb,
    # which has nothing there while paging is off.
    cannot_access("x/x 0x10000000", 0x10000000, "a read between RAM and ROM")
    check(packet_sent("m10000000,"), "gdb asked hvgdb for 0x10000000")

    expect_serial("hello from the firmware\n")
    expect_serial("firmware done\n")
    continue_to_exit(EXIT_CODE)


def physical_map():
    """--memory-map physical: RAM and ROM as they are; gdb refuses the holes without asking."""
    load_symbols()
    check_equal(info_mem(), [(0x0, LOW_WINDOW, "rw"), (LOW_WINDOW, 0x100000, "ro"),
                             (0x100000, 0x8000000, "rw"), (0xFFFF0000, 0x100000000, "ro")],
                "the memory map gdb has (info mem)")
    for hole in (0x10000000, 0xFEE00000):
        cannot_access(f"x/x {hole:#x}", hole, f"a read of the hole at {hole:#x}")
        check(not packet_sent(f"m{hole:x},"), f"gdb did not ask hvgdb for {hole:#x}")
    check_equal(uvalue("*(unsigned short *)0x7fffffe", 16), 0, "the last word of RAM")
    check_equal(memory(RESET_LINEAR, 1)[0], 0xEA, "the ROM's first byte at the reset vector")

    expect_serial("firmware done\n")
    continue_to_exit(EXIT_CODE)


main({"basic": basic, "memory_map": memory_map, "physical_map": physical_map})
