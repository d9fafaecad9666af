"""End-to-end checks on fault.elf, a 32-bit protected-mode guest that stops the CPU with a
triple fault (an empty IDT, then ud2 at `fault_here`).  Run by run_e2e.sh inside gdb; see e2e.py
for the environment and samples/fault/fault.S for the guest.

A fault stops the guest with its state intact: gdb sees SIGSEGV (triple fault) or SIGILL (the
host hypervisor could not go on), registers and memory are readable, hvgdb prints what happened
in words, and `continue` reports the same fault again without running the guest until the
debugger changes the registers (README, "Faults")."""

import gdb

from e2e import (
    address_of,
    check,
    check_equal,
    check_in,
    connect,
    continue_to_exit,
    expect_exit,
    expect_log,
    expect_serial,
    log,
    main,
    pc,
    run,
    uvalue,
)

FAULT_EAX = 0x1234ABCD
RECOVERED_EXIT = (0x11 << 1) | 1
FPU_EXIT = (0x12 << 1) | 1

stops = []


def on_stop(event):
    """gdb's stop events: a SignalEvent carries the signal gdb announces as "Program received
    signal SIGSEGV" (that message goes to the terminal, not to a command's output)."""
    stops.append(getattr(event, "stop_signal", None))


def continue_to_signal(signal):
    """continue; the guest must stop with `signal` (gdb's name, e.g. SIGSEGV)."""
    stops.clear()
    output = run("continue")
    check(stops, f"gdb reported no stop; continue said: {output!r}")
    check_equal(stops[-1], signal, "the signal of the stop (Program received signal ...)")


def location(symbol):
    """How hvgdb names the place of a fault at `symbol` (CS = 0x08, flat 32-bit code)."""
    address = address_of(symbol)
    return f"0008:{address:08x} (linear {address:#x}, 32-bit protected mode)"


def check_state_at(symbol):
    check_equal(pc(), address_of(symbol), f"$pc at {symbol}")
    check_equal(uvalue("$cs", 16), 0x08, "$cs")
    check_equal(uvalue("$eax", 32), FAULT_EAX, "$eax as the guest left it")
    check_in('"FAULTMARK"', run("x/s &marker"), "guest memory after the fault")
    check_equal(uvalue("$idtr_limit", 16), 0, "$idtr_limit: the guest's empty IDT")


def triple():
    gdb.events.stop.connect(on_stop)
    connect()
    continue_to_signal("SIGSEGV")
    check_state_at("fault_here")
    check_in("ud2", run("x/i $pc"), "the faulting instruction")
    run("info registers")
    expect_log(f"vCPU 0 stopped: guest triple fault at {location('fault_here')}: the CPU would "
               "reset; stopped for inspection")

    # Continued as it is: the same fault, the guest did not run.
    continue_to_signal("SIGSEGV")
    check_state_at("fault_here")
    expect_log("(again: the vCPU does not run on from a fault until the debugger changes its "
               "registers or writes guest memory)")

    # Moved on by the debugger: the guest runs from there.
    run(f"set var $pc = {address_of('recovered'):#x}")
    expect_serial("fault: loading an empty IDT\n")
    expect_serial("fault: recovered by the debugger\n")
    continue_to_exit(RECOVERED_EXIT)


def host_emulation():
    """finit (fwait; fninit) in protected mode.  Hardware runs it; a host that emulates fwait
    and cannot (kvm_pvm) stops the guest with SIGILL and says that the host is to blame.  Either
    way the guest then exits with 37; which of the two happened is logged."""
    gdb.events.stop.connect(on_stop)
    connect()
    run(f"set var $pc = {address_of('fpu_init'):#x}")
    expect_serial("fault: finit ran\n")
    stops.clear()
    output = run("continue")
    exit_code = gdb.convenience_variable("_exitcode")
    if exit_code is not None:
        log("note: this host runs finit, there is no internal error to check")
        check_equal(int(exit_code), FPU_EXIT, "$_exitcode after finit ran")
        expect_exit(FPU_EXIT)
        return
    log("note: this host cannot run finit, checking the internal-error stop")
    check_equal(stops[-1] if stops else None, "SIGILL",
                f"the signal of the stop (Program received signal ...); continue said {output!r}")
    check_equal(pc(), address_of("fpu_init"), "$pc at the instruction the host failed on")
    check_in("finit", run("x/i $pc"), "the instruction")
    expect_log(f"vCPU 0 stopped: the host hypervisor failed to emulate the instruction at "
               f"{location('fpu_init')}; this is a limitation of the host, not of the guest")
    continue_to_signal("SIGILL")
    check_equal(pc(), address_of("fpu_init"), "$pc after continuing from the fault")
    # Past the fwait the host cannot emulate: fninit alone runs.
    run(f"set var $pc = {address_of('fpu_init') + 1:#x}")
    continue_to_exit(FPU_EXIT)


main({"triple": triple, "host_emulation": host_emulation})
