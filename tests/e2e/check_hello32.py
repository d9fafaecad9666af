"""End-to-end checks on the hello32 sample (32-bit protected-mode ELF at 1 MiB).  Run by
run_e2e.sh inside gdb; see e2e.py for the environment.

The server may describe a 32-bit guest with the x86-64 register set, so these checks use what
works either way: breakpoints by address, $pc/$esp/$eip (pseudo-registers under x86-64), and
memory reads for cdecl arguments at [esp + 4].  With an i386 description they also check
source-level breakpoints, bt and finish.

hello32's exit code is ((counter + exit_bias) & 0x7f) << 1 | 1; unchanged, counter ends at
sum_to(5) = 15 and exit_bias is 10: exit code 51 (samples/hello32/hello32.c)."""

from e2e import (
    address_of,
    check,
    check_equal,
    check_in,
    connect,
    continue_to_exit,
    elf_entry,
    expect_serial,
    finish_value,
    frame_name,
    has_register,
    main,
    pc,
    run,
    set_breakpoint,
    uvalue,
    value,
    IMAGE,
)


def arg(n):
    """The n-th (from 1) 32-bit cdecl argument, at a function's first instruction."""
    return uvalue(f"*(unsigned int *)($esp + {4 * n})", 32)


def source_level_checks():
    """With an i386 register description gdb unwinds 32-bit frames: break by name with a
    condition, backtrace through the recursion, finish with the returned value."""
    run("tbreak fib if n == 1")
    run("continue")
    check_equal(frame_name(), "fib", "function at tbreak fib if n == 1")
    check_equal(value("n"), 1, "n at the bottom of the recursion")
    bt = run("bt")
    for n in range(1, 11):
        check_in(f"fib (n={n})", bt, "bt inside the recursion")
    check_in("kmain", bt, "bt")
    finish_value(1)
    check_equal(frame_name(), "fib", "function after finish (the caller)")
    check_equal(value("n"), 2, "n in the caller after finish")


def system_registers():
    """Flat 32-bit protected mode without paging, as the loader starts it; a debug register
    written here is read back after the guest has run (the stepi further on)."""
    cr0 = uvalue("$cr0", 32)
    check_equal(cr0 & 0x80000001, 1, "PE without PG in $cr0")
    efer = run("p $efer")
    check("LMA" not in efer and "LME" not in efer, f"no long mode in $efer: {efer!r}")
    check_in(" DB ", run("p $cs_attr"), "p $cs_attr (a 32-bit code segment)")
    check_equal(uvalue("$cs_base"), 0, "$cs_base (flat)")
    check_equal(uvalue("$cs_limit", 32), 0xFFFFFFFF, "$cs_limit (flat)")
    run("info registers cr0 efer cs_attr gdtr_base gdtr_limit dr7")
    run("set $dr1 = 0x4000")
    check_equal(uvalue("$dr1"), 0x4000, "$dr1 after a write")


def basic():
    connect()
    system_registers()
    entry = elf_entry(IMAGE)
    check_equal(pc(), entry, "$pc at the first stop (ELF entry)")
    ip = "$eip" if has_register("eip") else "$rip"  # x86-64 descriptions have no $eip
    check_equal(uvalue(ip), entry, f"{ip} at the first stop")
    regs = run("info registers")
    check("eip" in regs or "rip" in regs, f"info registers shows no eip/rip: {regs!r}")
    check_equal(uvalue("$eflags") & 0x200, 0, "IF in $eflags")
    run("x/i $pc")

    set_breakpoint("break *sum_to")
    fib_bp = set_breakpoint("hbreak *fib")
    run("continue")
    check_equal(pc(), address_of("fib"), "$pc at hbreak *fib")
    check_equal(arg(1), 10, "fib's argument n")
    check_equal(uvalue("*(unsigned int *)$esp", 32) != 0, True, "a return address on the stack")
    run(f"delete {fib_bp}")
    if not has_register("rip"):
        source_level_checks()

    run("continue")
    check_equal(pc(), address_of("sum_to"), "$pc at break *sum_to")
    check_equal(arg(1), 5, "sum_to's argument n")
    check_equal(value("fib_result"), 55, "fib_result")
    check_equal(value("counter"), 0, "counter before sum_to")
    esp = uvalue("$esp", 32)
    run("stepi")  # push %ebp
    check_equal(pc(), address_of("sum_to") + 1, "$pc after stepi over push %ebp")
    check_equal(uvalue("$esp", 32), esp - 4, "$esp after push")
    run(f"info registers {ip[1:]}")
    check_equal(uvalue("$dr1"), 0x4000, "$dr1 after the guest ran")

    run("set var exit_bias = 0")
    check_equal(value("exit_bias"), 0, "exit_bias after set var")
    run("delete")
    expect_serial("hello from hello32\n")
    expect_serial("fib(10) = 55\n")
    expect_serial("sum_to(5) = 15\n")
    expect_serial("exit value = 15\n")
    continue_to_exit((15 << 1) | 1)


main({"basic": basic})
