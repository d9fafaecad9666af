"""End-to-end single steps on stepping.bin, the real-mode boot sector with an instruction of
each kind to step over (symbols from stepping.elf).  Run by run_e2e.sh inside gdb; see e2e.py
for the environment.

What one `stepi` is (README, "Stepping"): one instruction, OUT and IN included; a REP string
instruction one iteration per step where the CPU's trap flag does the stepping, several where
the host emulates it (the start-up banner says which, and only that outcome is accepted), and
never a stop at it with its count at 0; INT n, INT3 and INTO stop at the first instruction of
the guest's handler, with a FLAGS image on the stack that has no TF.

Scenarios: steps (stepi over each kind), hbreak (continue from a hardware breakpoint on INT n
and stepi from one on INTO: hvgdb steps off it with the debug registers off first)."""

import gdb

from e2e import (
    CheckFailed,
    address_of,
    check,
    check_equal,
    connect,
    continue_to_exit,
    expect_serial,
    hvgdb_log,
    log,
    main,
    pc,
    run,
    uvalue,
)

EXIT_CODE = (0x1A << 1) | 1
TF = 0x100
OF = 0x800


def rep_iterations_per_step():
    """'one' or 'several', from the banner's note on single steps."""
    banner = hvgdb_log()
    if "run one iteration of a REP string instruction" in banner:
        return "one"
    if "may run several iterations of a REP string instruction" in banner:
        return "several"
    raise CheckFailed(f"the banner says nothing about REP single steps: {banner!r}")


def stepi_to(label, what):
    run("stepi")
    check_equal(pc(), address_of(label), f"$pc after stepi over {what}")


def word(address):
    return uvalue(f"*(unsigned short *)({address})", 16)


def soft_count():
    return word(address_of("soft_count"))


def memory(symbol, length):
    inferior = gdb.selected_inferior()
    return bytes(inferior.read_memory(address_of(symbol), length))


def step_through_rep(start, end, count, per_step):
    """stepi from a REP string instruction at `start` until the PC leaves it."""
    check_equal(pc(), address_of(start), f"$pc at {start}")
    check_equal(uvalue("$cx", 16), count, f"$cx at {start}")
    steps, left = 0, count
    while pc() == address_of(start):
        check(steps < count, f"{start}: more steps than the {count} iterations")
        run("stepi")
        steps += 1
        now = uvalue("$cx", 16)
        check(now < left, f"{start}: a step ran no iteration ($cx {left} -> {now})")
        if pc() == address_of(start):
            check(now != 0, f"{start}: a step stopped at the instruction with $cx at 0")
        left = now
    check_equal(pc(), address_of(end), f"$pc after stepping {start} to the end")
    check_equal(left, 0, f"$cx after {start}")
    if per_step == "one":
        check_equal(steps, count, f"stepi count over {start} (one iteration each)")
    else:
        log(f"note: {steps} steps for {count} iterations of {start} (the host emulates it)")


def step_into_handler(instruction, after, calls):
    """stepi over a software interrupt at `instruction`: the handler's first instruction with
    the interrupt's frame pushed, then through the handler back to `after`."""
    check_equal(pc(), address_of(instruction), f"$pc at {instruction}")
    sp = uvalue("$sp", 16)
    flags = uvalue("$eflags", 32)
    stepi_to("soft_handler", instruction)
    check_equal(uvalue("$sp", 16), sp - 6, f"$sp in the handler of {instruction}")
    check_equal(word("$sp"), address_of(after), "return IP on the stack (CS is 0)")
    check_equal(word("$sp + 2"), 0, "return CS on the stack")
    pushed = word("$sp + 4")
    check_equal(pushed & TF, 0, "TF in the pushed FLAGS")
    check_equal(pushed & OF, flags & OF, "OF in the pushed FLAGS")
    stepi_to("soft_return", "incw soft_count")
    check_equal(soft_count(), calls, "soft_count in the handler")
    stepi_to(after, "iret")


def steps():
    connect()
    per_step = rep_iterations_per_step()
    log(f"host: a single step runs {per_step} REP iteration(s)")
    run("break *plain")
    run("continue")
    check_equal(pc(), address_of("plain"), "$pc at break *plain")
    run("delete")

    stepi_to("plain_2", "mov $1, %bx")
    stepi_to("plain_3", "add $2, %bx")
    stepi_to("plain_end", "shl $3, %bx")
    check_equal(uvalue("$bx", 16), 24, "$bx after the plain instructions")

    stepi_to("step_out", "mov $'!', %al")
    stepi_to("after_out", "out %al, $0xe9 (one instruction, not two)")
    expect_serial("!")
    stepi_to("step_in", "mov $0x3fd, %dx")
    stepi_to("after_in", "in %dx, %al")
    check_equal(uvalue("$al", 8), 0x60, "$al from COM1's line status")

    for label in ("mov $source, %si", "mov $dest, %di", "mov $5, %cx"):
        run("stepi")
        log(f"stepped over {label}")
    step_through_rep("step_movsb", "after_movsb", 5, per_step)
    check_equal(memory("dest", 6), b"hvgdb\0", "dest after rep movsb")
    check_equal(uvalue("$si", 16), address_of("source") + 5, "$si after rep movsb")

    for label in ("mov $'z', %al", "mov $fill, %di", "mov $4, %cx"):
        run("stepi")
        log(f"stepped over {label}")
    step_through_rep("step_stosb", "after_stosb", 4, per_step)
    check_equal(memory("fill", 5), b"zzzz\0", "fill after rep stosb")

    step_into_handler("step_int", "after_int", 1)
    step_into_handler("step_int3", "after_int3", 2)
    run("stepi")
    run("stepi")
    check(uvalue("$eflags", 32) & OF, "OF set before into")
    step_into_handler("step_into", "after_into", 3)

    continue_to_exit(EXIT_CODE)


def hbreak():
    connect()
    run("hbreak *step_int")
    run("break *after_int")
    run("continue")
    check_equal(pc(), address_of("step_int"), "$pc at hbreak *step_int")
    # Continuing steps off the hardware breakpoint first, through the handler, then runs on.
    run("continue")
    check_equal(pc(), address_of("after_int"), "$pc at break *after_int")
    check_equal(soft_count(), 1, "soft_count after the handler ran")
    check_equal(word("$sp - 2") & TF, 0, "TF in the FLAGS image the handler's iret popped")
    run("delete")
    run("hbreak *step_into")
    run("continue")
    check_equal(pc(), address_of("step_into"), "$pc at hbreak *step_into")
    check_equal(soft_count(), 2, "soft_count after int3 ran")
    # A step from the hardware breakpoint stops in the handler all the same.
    stepi_to("soft_handler", "into from a hardware breakpoint")
    check_equal(word("$sp"), address_of("after_into"), "return IP on the stack")
    check_equal(word("$sp + 4") & TF, 0, "TF in the pushed FLAGS")
    run("delete")
    continue_to_exit(EXIT_CODE)


main({"steps": steps, "hbreak": hbreak})
