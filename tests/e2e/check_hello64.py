"""End-to-end checks on the hello64 sample (64-bit long mode ELF at 1 MiB), one scenario per
ctest test.  Run by run_e2e.sh inside gdb; see e2e.py for the environment.

hello64's exit code is ((counter + exit_bias) & 0x7f) << 1 | 1; unchanged, counter ends at 10
and exit_bias is 11: exit code 43 (samples/hello64/hello64.c)."""

import os
import signal
import threading

import gdb

from e2e import (
    CheckFailed,
    address_of,
    check,
    check_equal,
    check_in,
    connect,
    continue_to_exit,
    elf_entry,
    expect_exit,
    expect_log,
    expect_no_serial,
    expect_serial,
    finish_value,
    frame_name,
    main,
    pc,
    request_reattach,
    run,
    run_stop,
    serial_output,
    set_breakpoint,
    source_line,
    uvalue,
    value,
    wait_for_serial,
    IMAGE,
    PHASE,
)

LOOP_COUNT = 10
EXIT_BIAS = 11


def exit_code(counter=LOOP_COUNT, bias=EXIT_BIAS):
    return (((counter + bias) & 0x7F) << 1) | 1


def expect_full_serial(bias=EXIT_BIAS, greeting="hello from hello64", norm2=100):
    expect_serial(greeting + "\n")
    expect_serial("add(2, 3) = 5\n")
    expect_serial("factorial(6) = 720\n")
    expect_serial(f"origin norm2 x2 = {norm2}\n")
    expect_serial(f"counter = {LOOP_COUNT}\n")
    expect_serial(f"exit value = {(LOOP_COUNT + bias) & 0x7f}\n")


def registers():
    """Initial state from the loader, register reads after stepi, register writes (P/G)."""
    connect()
    entry = elf_entry(IMAGE)
    check_equal(pc(), entry, "$pc at the first stop (ELF entry)")
    check_equal(uvalue("$rip"), entry, "$rip at the first stop")
    check_equal(frame_name(), "_start", "function at the entry")
    regs = run("info registers")
    for name in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r15", "rip",
                 "eflags", "cs", "ss", "ds"):
        check(f"\n{name} " in "\n" + regs, f"info registers lists no {name}: {regs!r}")
    check_in(hex(entry), run("info registers rip"), "info registers rip")
    rsp = uvalue("$rsp")
    check(0 < rsp <= 128 << 20, f"$rsp at the entry points into RAM: {rsp:#x}")
    check_equal(rsp % 16, 0, "$rsp % 16 at the entry (loader gives an aligned stack)")
    check_equal(uvalue("$eflags") & 0x200, 0, "IF in $eflags")
    check_in("mov", run("x/i $pc"), "x/i $pc at _start")

    run("stepi")  # mov $stack_top, %rsp
    check_equal(uvalue("$rsp"), address_of("stack_top"), "$rsp after the first stepi")
    run("stepi")  # xor %ebp, %ebp
    run("stepi")  # call kmain
    check_equal(frame_name(), "kmain", "function after stepping into the call")
    check_equal(pc(), address_of("kmain"), "$pc after stepping into kmain")
    check_equal(uvalue("*(unsigned long *)$rsp"), address_of("exit_to_host"),
                "return address pushed by call kmain")

    # A register write: the exit value travels in eax from kmain to `outl %eax, $0xf4`.
    run("break *exit_to_host")
    run("continue")
    check_equal(pc(), address_of("exit_to_host"), "$pc at exit_to_host")
    check_equal(uvalue("$rax"), (LOOP_COUNT + EXIT_BIAS) & 0x7F, "$rax (kmain's result)")
    run("set var $rax = 5")
    check_equal(uvalue("$rax"), 5, "$rax after set var $rax = 5")
    run("set var $rbx = 0x1122334455667788")
    check_equal(uvalue("$rbx"), 0x1122334455667788, "$rbx after set var")
    expect_full_serial()
    continue_to_exit((5 << 1) | 1)


def breakpoints():
    """Software breakpoints, arguments, finish with a value, a backtrace through the recursion."""
    connect()
    run("break add")
    run("continue")
    check_equal(frame_name(), "add", "function at breakpoint 1")
    check_equal(value("a"), 2, "argument a")
    check_equal(value("b"), 3, "argument b")
    check_in("a = 2", run("info args"), "info args")
    finish_value(5)
    check_equal(frame_name(), "kmain", "function after finish")

    run("break factorial if n == 1")
    run("continue")
    check_equal(frame_name(), "factorial", "function at the conditional breakpoint")
    check_equal(value("n"), 1, "n at the bottom of the recursion")
    bt = run("bt")
    for n in range(1, 7):
        check_in(f"factorial (n={n})", bt, "bt inside the recursion")
    check_in("kmain", bt, "bt")
    check_in("_start", bt, "bt")
    check_equal(bt.count("factorial (n="), 6, "factorial frames in bt")
    run("up 2")
    check_equal(value("n"), 3, "n two frames up")
    run("frame 0")
    finish_value(1)
    check_equal(frame_name(), "factorial", "function after finish (the caller)")
    check_equal(value("n"), 2, "n in the caller after finish")

    run("delete")
    run("tbreak tick")
    run("continue")
    check_equal(frame_name(), "tick", "function at the temporary breakpoint")
    check_equal(value("factorial_result"), 720, "factorial_result")
    run("info breakpoints")
    expect_full_serial()
    continue_to_exit(exit_code())


def stepping():
    """next, step, stepi, x/i, advance, until: source and instruction stepping."""
    connect()
    run("break kmain")
    run("continue")
    check_equal(frame_name(), "kmain", "function at break kmain")
    first = source_line("first-line")
    check_equal(gdb_line(), int(first.split(":")[1]), "line at break kmain")
    run("next")  # over serial_puts(greeting)
    run("next")  # over serial_putc('\n')
    check_equal(gdb_line(), line_number("call-add"), "line after two nexts")
    run("step")
    check_equal(frame_name(), "add", "function after step")
    check_equal(gdb_line(), line_number("add-body"), "line after step into add")

    before = pc()
    out = run("stepi")
    check(pc() != before, f"stepi did not move $pc (still {before:#x}): {out!r}")
    disasm = run("x/i $pc")
    check_in(f"=> {pc():#x}", disasm, "x/i $pc")
    run("x/4i $pc")
    run("nexti")
    run("info registers rip")
    finish_value(5)  # out of add (advance would stop there too: it ends with the frame)
    check_equal(frame_name(), "kmain", "function after finish")

    run(f"advance {source_line('loop-body')}")
    check_equal(frame_name(), "kmain", "function after advance")
    check_equal(gdb_line(), line_number("loop-body"), "line after advance")
    check_equal(value("i"), 0, "loop variable i at the first iteration")
    run("next")  # over tick(0)
    check_equal(value("counter"), 1, "counter after one loop iteration")
    for _ in range(3):  # i++ and the loop condition, back to the loop body
        if gdb_line() == line_number("loop-body"):
            break
        run("next")
    check_equal(gdb_line(), line_number("loop-body"), "line after going around the loop")
    check_equal(value("i"), 1, "loop variable i at the second iteration")
    run("step")
    check_equal(frame_name(), "tick", "function after step in the loop")
    check_equal(value("i"), 1, "tick's argument in the second iteration")
    run("finish")
    check_equal(value("counter"), 2, "counter after the second tick")
    run(f"until {source_line('exit-value')}")
    check_equal(value("counter"), LOOP_COUNT, "counter after until past the loop")
    expect_full_serial()
    continue_to_exit(exit_code())


def globals_():
    """print and set globals (int, string, struct) and see the effect on output and exit code."""
    connect()
    check_equal(value("counter"), 0, "counter at the entry")
    check_equal(value("exit_bias"), EXIT_BIAS, "exit_bias at the entry")
    check_in('"hello from hello64"', run("print greeting"), "print greeting")
    origin = run("print origin")
    check_in("x = 3", origin, "print origin")
    check_in("y = 4", origin, "print origin")
    check_in('"origin"', run("print origin.label"), "print origin.label")
    check_in("type = int", run("whatis counter"), "whatis counter")

    run("set var greeting[0] = 'J'")
    check_in('"Jello from hello64"', run("print greeting"), "print greeting after set var")
    run("set var origin.x = 30")
    check_equal(value("origin.x"), 30, "origin.x after set var")
    run("set var exit_bias = 1")
    check_equal(value("exit_bias"), 1, "exit_bias after set var")
    run("print &counter")
    run("x/4xb &exit_bias")
    check_equal(uvalue("*(unsigned char *)&exit_bias", 8), 1, "exit_bias's low byte via x")

    # Break in the loop three times and watch the counter grow.
    run("break tick")
    for i in range(3):
        run("continue")
        check_equal(frame_name(), "tick", f"function at stop {i + 1} in the loop")
        check_equal(value("i"), i, "tick's argument")
        check_equal(value("counter"), i, "counter at tick entry")
    run("delete")
    expect_serial("Jello from hello64\n")
    expect_no_serial("hello from hello64")
    expect_serial("origin norm2 x2 = 3664\n")  # (30*2)^2 + (4*2)^2
    expect_serial("exit value = 11\n")
    continue_to_exit(exit_code(bias=1))


def hbreak():
    """Hardware breakpoints (Z1): on a function, several at once, one hit repeatedly."""
    connect()
    norm2_bp = set_breakpoint("hbreak point_norm2")
    run("continue")
    check_equal(frame_name(), "point_norm2", "function at hbreak 1")
    check_equal(value("scale"), 2, "argument scale")
    check_equal(value("p->x"), 3, "p->x")
    tick_bp = set_breakpoint("hbreak tick")
    set_breakpoint("hbreak wait_for_debugger")
    run(f"delete {norm2_bp}")
    for i in range(2):
        run("continue")
        check_equal(frame_name(), "tick", f"function at hbreak tick, hit {i + 1}")
        check_equal(value("i"), i, "tick's argument")
    run(f"delete {tick_bp}")
    run("continue")
    check_equal(frame_name(), "wait_for_debugger", "function at hbreak wait_for_debugger")
    check_equal(value("counter"), LOOP_COUNT, "counter after the loop")
    run("info breakpoints")
    expect_full_serial()
    continue_to_exit(exit_code())


def watchpoint():
    """A write watchpoint on a global with gdb's defaults (can-use-hw-watchpoints 1): Z2, held
    by a debug register where the host reports data breakpoints and by page protection where it
    does not; either way gdb reports a hardware watchpoint with the old and new values."""
    connect()
    check_in("Hardware watchpoint 1: counter", run("watch counter"), "watch counter")
    out = run_stop("continue")
    check_in("Hardware watchpoint 1: counter", out, "watchpoint report")
    check_in("Old value = 0", out, "watchpoint report")
    check_in("New value = 1", out, "watchpoint report")
    check_equal(frame_name(), "tick", "function where counter changes")
    check_equal(value("counter"), 1, "counter at the watchpoint stop")
    out = run_stop("continue")
    check_in("Old value = 1", out, "second watchpoint report")
    check_in("New value = 2", out, "second watchpoint report")
    check_equal(value("counter"), 2, "counter at the second watchpoint stop")
    run("delete")
    expect_full_serial()
    continue_to_exit(exit_code())


def software_watch():
    """gdb's own software watchpoints (can-use-hw-watchpoints 0: gdb single-steps the guest and
    compares the value) still work beside hvgdb's."""
    connect()
    run("break tick")
    run("continue")
    run("delete")
    run("set can-use-hw-watchpoints 0")
    out = run("watch counter")
    check_in("Watchpoint 2: counter", out, "software watchpoint")
    check(not out.startswith("Hardware"), f"a software watchpoint: {out!r}")
    out = run_stop("continue")
    check_in("Old value = 0", out, "software watchpoint report")
    check_in("New value = 1", out, "software watchpoint report")
    check_equal(frame_name(), "tick", "function where counter changes")
    check_equal(value("counter"), 1, "counter at the software watchpoint stop")
    run("delete")
    expect_full_serial()
    continue_to_exit(exit_code())


def read_watch():
    """rwatch (Z3) by page protection: stops after each instruction that reads the global,
    never for the writes to it."""
    connect()
    check_in("Hardware read watchpoint 1: counter", run("rwatch counter"), "rwatch counter")
    for i in range(2):
        out = run_stop("continue")
        check_in("Hardware read watchpoint 1: counter", out, f"read watchpoint report {i + 1}")
        check_in(f"Value = {i}", out, f"read watchpoint report {i + 1}")
        check_equal(frame_name(), "tick", f"function that reads counter, read {i + 1}")
        check_equal(value("i"), i, "tick's argument at the read")
    run("delete")
    expect_full_serial()
    continue_to_exit(exit_code())


def access_watch():
    """awatch (Z4): a struct (16 bytes, more than a debug register holds) stops at the read of
    a member; a global stops at each write."""
    connect()
    out = run("awatch origin")
    check_in("Hardware access (read/write) watchpoint 1: origin", out, "awatch origin")
    out = run_stop("continue")  # point_norm2 reads p->x
    check_in("Hardware access (read/write) watchpoint 1: origin", out, "access report")
    check_in("Value = {x = 3, y = 4", out, "access report of the read")
    check_equal(frame_name(), "point_norm2", "function that reads origin")
    run("delete")
    out = run("awatch last_tick")
    check_in("Hardware access (read/write) watchpoint 2: last_tick", out, "awatch last_tick")
    for i in range(2):
        out = run_stop("continue")  # tick(i): last_tick = i
        check_in("Hardware access (read/write) watchpoint 2: last_tick", out, "access report")
        check_in(f"Old value = {i - 1}", out, "access report of the write")
        check_in(f"New value = {i}", out, "access report of the write")
        check_equal(frame_name(), "tick", "function that writes last_tick")
    run("delete")
    expect_full_serial()
    continue_to_exit(exit_code())


def many_watches():
    """More watchpoints than the four debug registers, all at once and all reported as gdb's
    hardware watchpoints: writes, a struct, a read."""
    connect()
    for n, name in enumerate(("factorial_result", "last_tick", "counter", "origin", "exit_bias"),
                             start=1):
        check_in(f"Hardware watchpoint {n}: {name}", run(f"watch {name}"), f"watch {name}")
    check_in("Hardware read watchpoint 6: hold_at_end", run("rwatch hold_at_end"),
             "rwatch hold_at_end")
    run("info watchpoints")
    expected = (("Hardware watchpoint 1: factorial_result", "Old value = 0", "New value = 720"),
                ("Hardware watchpoint 2: last_tick", "Old value = -1", "New value = 0"),
                ("Hardware watchpoint 3: counter", "Old value = 0", "New value = 1"),
                ("Hardware watchpoint 2: last_tick", "Old value = 0", "New value = 1"))
    for report in expected:
        out = run_stop("continue")
        for text in report:
            check_in(text, out, "watchpoint report")
    run("delete 1-5")
    out = run_stop("continue")  # wait_for_debugger() reads hold_at_end
    check_in("Hardware read watchpoint 6: hold_at_end", out, "read watchpoint report")
    check_in("Value = 0", out, "read watchpoint report")
    check_equal(frame_name(), "wait_for_debugger", "function that reads hold_at_end")
    check_equal(value("counter"), LOOP_COUNT, "counter after the loop")
    run("delete")
    expect_full_serial()
    continue_to_exit(exit_code())


def reattach():
    """detach lets the guest run on; a second gdb connects (the guest stops) and finishes."""
    if PHASE == 1:
        connect()
        run("break tick")
        run("continue")
        check_equal(frame_name(), "tick", "function before detach")
        run("delete")
        run("set var hold_at_end = 1")  # spin in wait_for_debugger() instead of exiting
        run("detach")
        request_reattach()
        return
    # Phase 2, a new gdb: the guest ran on after the detach and spins in wait_for_debugger().
    wait_for_serial(f"counter = {LOOP_COUNT}\n")
    connect()
    # With --cpus 2 the idle AP may report the stop; the view is still the long-mode one.
    check_equal(value("sizeof($pc)"), 8, "sizeof($pc) in the second session")
    check_equal(value("hold_at_end"), 1, "hold_at_end in the second session")
    check_equal(value("counter"), LOOP_COUNT, "counter in the second session")
    check_in("kmain", run("bt"), "bt in the second session")
    run("set var hold_at_end = 0")
    expect_full_serial()
    continue_to_exit(exit_code())


def reattach_stopped():
    """With --on-detach stop: gdb detaches at the breakpoint in tick(); the guest stays there,
    and a second gdb finds it in tick's first call, with no breakpoint left, and continues it
    to its exit."""
    if PHASE == 1:
        connect()
        run("break tick")
        run("continue")
        check_equal(frame_name(), "tick", "function before detach")
        check_equal(value("i"), 0, "tick's argument before detach")
        run("detach")
        request_reattach()
        return
    # Phase 2, a new gdb: the guest has not moved since the detach.
    expect_log("debugger detached; the guest stays stopped for the next debugger")
    check("counter = " not in serial_output(), "the guest ran on after the detach")
    connect()
    check_equal(frame_name(), "tick", "function in the second session")
    check_equal(value("i"), 0, "tick's argument in the second session")
    check_equal(value("counter"), 0, "counter in the second session")
    check_in("No breakpoints", run("info breakpoints"), "breakpoints in the second session")
    expect_full_serial()
    continue_to_exit(exit_code())


def interrupt():
    """Ctrl-C while the guest runs: gdb sends \\x03 and the server stops the guest."""
    connect()
    run("set var hold_at_end = 1")  # spin in wait_for_debugger() until released
    # gdb turns SIGINT during `continue` into an interrupt request to the remote target.
    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    run("continue")
    check_in("SIGINT", run("info program"), "info program after the interrupt")
    check_equal(frame_name(), "wait_for_debugger", "function where the guest was interrupted")
    check_equal(value("counter"), LOOP_COUNT, "counter when interrupted")
    run("set var hold_at_end = 0")
    expect_full_serial()
    continue_to_exit(exit_code())


def kill():
    """gdb's kill ends hvgdb with exit code 0, before the guest finishes."""
    connect()
    run("break tick")
    run("continue")
    check_equal(frame_name(), "tick", "function before kill")
    run("kill")
    expect_exit(0)
    expect_serial("hello from hello64\n")
    expect_no_serial("exit value")


def write_refused(command, register):
    """Runs a register write that hvgdb must refuse; gdb reports the error reply."""
    try:
        run(command)
    except gdb.error as e:
        check_in(f'Could not write register "{register}"', str(e), f"the refused {command!r}")
        return
    raise CheckFailed(f"{command!r} was accepted")


def system():
    """The system registers in long mode: control registers, EFER, segment caches, descriptor
    tables, debug registers and MSRs; writes that KVM takes, and writes it refuses."""
    connect()
    cr0 = uvalue("$cr0")
    check_equal(cr0 & 0x80000001, 0x80000001, "PE and PG in $cr0 (long mode pages)")
    check_in("PG", run("p $cr0"), "p $cr0 (the x86_cr0 flags)")
    efer = run("p $efer")
    check_in("LME", efer, "p $efer")
    check_in("LMA", efer, "p $efer")
    check_equal(uvalue("$cr4") & 0x20, 0x20, "PAE in $cr4")
    check_in("PAE", run("p $cr4"), "p $cr4")
    cr3 = uvalue("$cr3")
    check(cr3 != 0 and cr3 % 0x1000 == 0, f"$cr3 is a page-aligned table address: {cr3:#x}")
    check_in(" L ", run("p $cs_attr"), "p $cs_attr (a 64-bit code segment)")
    check_equal(uvalue("$cs_base"), 0, "$cs_base")
    check_equal(uvalue("$ss_limit"), 0xFFFFFFFF, "$ss_limit (flat, granularity applied)")
    check_equal(uvalue("$gdtr_limit"), 4 * 8 - 1, "$gdtr_limit (the loader's four entries)")
    # The descriptor gdtr points at for the current CS has its L bit (53) set.
    descriptor = uvalue(f"*(unsigned long long *)($gdtr_base + {uvalue('$cs')})")
    check_equal((descriptor >> 53) & 1, 1, "L in the GDT descriptor of $cs")
    check_equal(uvalue("$dr7") & 0xFF, 0, "no breakpoint of the guest's own in $dr7")
    check_equal(uvalue("$apic_base") & 0xFFFFF000, 0xFEE00000, "$apic_base")
    tsc = uvalue("$tsc")
    check(tsc != 0, "$tsc counts")
    regs = run("info registers")
    for name in ("cr0", "cr3", "efer", "cs_base", "gdtr_base", "dr7", "lstar", "tsc"):
        check(f"\n{name} " in "\n" + regs, f"info registers lists no {name}")

    # Writes KVM takes, read back after an instruction has run.
    run("set $cr2 = 0x1234000")
    run("set $dr0 = 0x5000")
    run("set $lstar = 0xffffffff81000000")
    run("set $k_gs_base = 0xffff888000000000")
    run("stepi")
    check_equal(uvalue("$cr2"), 0x1234000, "$cr2 after a write and a stepi")
    check_equal(uvalue("$dr0"), 0x5000, "$dr0 after a write and a stepi")
    check_equal(uvalue("$lstar"), 0xFFFFFFFF81000000, "$lstar after a write and a stepi")
    check_equal(uvalue("$k_gs_base"), 0xFFFF888000000000, "$k_gs_base after a write")

    # Writes KVM refuses: an error reply, the state as it was, the session goes on.
    write_refused("set $cr0 = $cr0 & ~1", "cr0")  # PG without PE
    check_equal(uvalue("$cr0"), cr0, "$cr0 after the refused write")
    write_refused("set $efer = $efer & ~0x100", "efer")  # LME off while paging in long mode
    check_in("LMA", run("p $efer"), "p $efer after the refused write")
    write_refused("set $tsc = 1", "tsc")  # read-only
    run("stepi")
    check_equal(uvalue("$cr2"), 0x1234000, "$cr2 after the refused writes and a stepi")

    expect_full_serial()
    continue_to_exit(exit_code())



def console():
    """--console-to-debugger: the guest's serial lines show in gdb during `continue`, before
    the stop they came before; `monitor console forward off` stops that while the serial file
    still gets every line, and `on` brings it back."""
    connect()
    check_in("to the debugger: on", run("monitor console"), "monitor console")
    run("break tick")
    output = run_stop("continue", stderr=True)
    for line in ("hello from hello64\n", "add(2, 3) = 5\n", "factorial(6) = 720\n",
                 "origin norm2 x2 = 100\n"):
        check_in(line, output, "gdb's output during continue")
    check_in("Breakpoint 1, tick", output, "gdb's output during continue")
    check(output.index("origin norm2 x2") < output.index("Breakpoint 1, tick"),
          "the guest's last line comes before the stop")
    run("delete")

    check_in("to the debugger: off", run("monitor console forward off"), "forwarding off")
    run("break wait_for_debugger")
    output = run_stop("continue", stderr=True)
    check_in("Breakpoint 2, wait_for_debugger", output, "gdb's output during continue")
    check(f"counter = {LOOP_COUNT}" not in output, "no guest text in gdb with forwarding off")
    wait_for_serial(f"counter = {LOOP_COUNT}\n")
    run("delete")

    check_in("to the debugger: on", run("monitor console forward on"), "forwarding on")
    output = run_stop("continue", stderr=True)
    value_line = f"exit value = {(LOOP_COUNT + EXIT_BIAS) & 0x7f}\n"
    check_in(value_line, output, "gdb's output during the last continue")
    check_equal(int(gdb.convenience_variable("_exitcode")), exit_code(), "$_exitcode")
    expect_full_serial()
    expect_exit(exit_code())


def line_number(marker):
    return int(source_line(marker).split(":")[1])


def gdb_line():
    return gdb.selected_frame().find_sal().line


main({
    "registers": registers,
    "breakpoints": breakpoints,
    "stepping": stepping,
    "globals": globals_,
    "hbreak": hbreak,
    "watchpoint": watchpoint,
    "software_watch": software_watch,
    "read_watch": read_watch,
    "access_watch": access_watch,
    "many_watches": many_watches,
    "reattach": reattach,
    "reattach_stopped": reattach_stopped,
    "interrupt": interrupt,
    "kill": kill,
    "system": system,
    "console": console,
})
