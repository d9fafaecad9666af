"""End-to-end checks on boot.bin, the real-mode boot sector (symbols from boot.elf).  Run by
run_e2e.sh inside gdb; see e2e.py for the environment.

boot.bin starts at 0000:7C00 with DL = 0x80, far-jumps to CS = 0x07C0, calls `tick` 5 times
from `count_loop`, and exits through port 0xf4 with 0x10: exit code 33 (samples/boot/boot.s).
After the far jump the PC gdb sees must still be the linear address (CS.base + IP)."""

import gdb

from e2e import (
    CheckFailed,
    address_of,
    check,
    check_equal,
    check_in,
    connect,
    continue_to_exit,
    expect_serial,
    main,
    pc,
    run,
    uvalue,
)

LOOP_COUNT = 5


def tick_count():
    return uvalue("*(unsigned short *)&tick_count", 16)


def basic():
    connect()
    check_equal(pc(), 0x7C00, "$pc at the first stop")
    check_equal(uvalue("$cs", 16), 0, "$cs at the first stop")
    check_equal(uvalue("$dl", 8), 0x80, "$dl (boot drive) at the first stop")
    regs = run("info registers")
    check("rip" in regs or "eip" in regs, f"info registers shows no rip/eip: {regs!r}")
    check_in("0x7c00", run("info registers pc"), "info registers pc")
    check_equal(uvalue("$cr0", 32) & 1, 0, "PE in $cr0 (real mode)")
    check_equal(uvalue("$cs_base"), 0, "$cs_base at the first stop")
    # A CR0 that KVM refuses (paging without protected mode): an error, and nothing changes.
    try:
        run("set $cr0 = 0x80000010")
        raise CheckFailed("KVM took CR0 = 0x80000010")
    except gdb.error as e:
        check_in('Could not write register "cr0"', str(e), "the refused write of $cr0")
    check_equal(uvalue("$cr0", 32) & 0x80000001, 0, "PE and PG in $cr0 after the refused write")
    run("set $cr2 = 0xb000")

    run("hbreak *count_loop")
    run("continue")
    check_equal(pc(), address_of("count_loop"), "$pc (linear) at hbreak *count_loop")
    check_equal(uvalue("$cs", 16), 0x07C0, "$cs after the far jump")
    check_equal(uvalue("$cs_base"), 0x7C00, "$cs_base after the far jump (CS << 4)")
    check_equal(uvalue("$cs_limit", 32), 0xFFFF, "$cs_limit in real mode")
    check_equal(uvalue("$cr2"), 0xB000, "$cr2 written at the first stop")
    check_equal(tick_count(), 0, "tick_count at the first loop iteration")
    check_equal(uvalue("$cx", 16), LOOP_COUNT, "$cx (loop counter)")
    run("stepi")  # call tick
    check_equal(pc(), address_of("tick"), "$pc after stepi into call tick")
    check_equal(uvalue("$sp", 16), 0x7C00 - 2, "$sp after the call")
    check_equal(uvalue("*(unsigned short *)$sp", 16), address_of("count_loop") + 3 - 0x7C00,
                "return address on the stack (an IP, relative to CS = 0x07c0)")
    run("stepi")  # incw tick_count
    check_equal(tick_count(), 1, "tick_count after stepping over incw")

    for hit in range(2, LOOP_COUNT + 1):
        run("continue")
        check_equal(pc(), address_of("count_loop"), f"$pc at hbreak *count_loop, hit {hit}")
        check_equal(tick_count(), hit - 1, "tick_count")
    run("delete")

    run("break *putc_debugcon")  # a software breakpoint in real mode
    run("continue")
    check_equal(pc(), address_of("putc_debugcon"), "$pc at break *putc_debugcon")
    check_equal(uvalue("$al", 8), ord("b"), "$al: first character of the second message")
    check_equal(tick_count(), LOOP_COUNT, "tick_count after the loop")
    run("delete")

    expect_serial("hello from the boot sector\n")
    expect_serial("boot sector done\n")
    continue_to_exit((0x10 << 1) | 1)


main({"basic": basic})
