"""End-to-end checks on multiboot.elf, a Multiboot 1 kernel (samples/multiboot/multiboot.S),
started with a command line and one module.  Run by run_e2e.sh inside gdb; see e2e.py.

The debugger sees what the boot loader promised (Multiboot Specification 0.6.96, 3.2 and 3.3):
EAX = 0x2BADB002, EBX = the boot information, whose command line, module list, memory map and
boot loader name gdb reads from guest memory.  The kernel then checks the magic value itself
and exits with code 3."""

import os

import gdb

from e2e import (
    IMAGE,
    check,
    check_equal,
    connect,
    continue_to_exit,
    expect_serial,
    main,
    pc,
    elf_entry,
    uvalue,
)

# What CMakeLists.txt passes: --cmdline CMDLINE --module "MODULE MODULE_ARGS".
CMDLINE = "root=/dev/hvgdb quiet"
MODULE = os.environ["E2E_MODULE"]
MODULE_ARGS = "bootmod"


def u32(address):
    return uvalue(f"*(unsigned int *){address:#x}", 32)


def c_string(address):
    return gdb.parse_and_eval(f"(char *){address:#x}").string()


def info():
    connect()
    check_equal(pc(), elf_entry(IMAGE), "$pc at the kernel's entry")
    check_equal(uvalue("$eax", 32), 0x2BADB002, "EAX: the boot loader's magic value")
    mbi = uvalue("$ebx", 32)
    check(mbi != 0 and mbi % 4 == 0, f"EBX {mbi:#x}: the boot information's address")

    flags = u32(mbi)
    for bit, what in [(0, "mem_lower/mem_upper"), (2, "cmdline"), (3, "modules"),
                      (6, "memory map"), (9, "boot_loader_name")]:
        check(flags & (1 << bit), f"flags {flags:#x} lacks bit {bit} ({what})")
    mem_upper = u32(mbi + 8)
    check(mem_upper >= 64 * 1024, f"mem_upper {mem_upper} KiB: RAM above 1 MiB (128 MiB guest)")
    check_equal(c_string(u32(mbi + 16)), f"{IMAGE} {CMDLINE}", "the command line")
    check_equal(c_string(u32(mbi + 64)), "hvgdb", "boot_loader_name")

    # One module: page-aligned, its bytes and its string as given.
    check_equal(u32(mbi + 20), 1, "mods_count")
    mod = u32(mbi + 24)
    start, end = u32(mod), u32(mod + 4)
    check_equal(start % 4096, 0, "the module's start is page-aligned (header flag bit 0)")
    with open(MODULE, "rb") as f:
        expected = f.read()
    check_equal(end - start, len(expected), "the module's size")
    got = bytes(gdb.selected_inferior().read_memory(start, len(expected)))
    check(got == expected, "the module's bytes in guest memory")
    check_equal(c_string(u32(mod + 8)), f"{MODULE} {MODULE_ARGS}", "the module's string")

    # The memory map: entries of (size, base, length, type); RAM at 0 and at 1 MiB available.
    length, address = u32(mbi + 44), u32(mbi + 48)
    available = []
    at = address
    while at < address + length:
        size = u32(at)
        base = u32(at + 4) | (u32(at + 8) << 32)
        span = u32(at + 12) | (u32(at + 16) << 32)
        if u32(at + 20) == 1:
            available.append((base, span))
        at += size + 4
    check(any(base == 0 for base, _ in available), f"no available RAM at 0: {available}")
    check(any(base == 0x100000 and span >= 64 << 20 for base, span in available),
          f"no available RAM at 1 MiB: {available}")

    expect_serial("multiboot: magic and one module\n")
    continue_to_exit(3)


main({"info": info})
