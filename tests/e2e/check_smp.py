"""End-to-end checks on the smp sample (samples/smp/): one gdb thread per vCPU, all-stop,
scheduler-locking and non-stop mode.  Run by run_e2e.sh inside gdb; see e2e.py for the
environment, and E2E_CPUS: the --cpus given to hvgdb.

Thread N is vCPU N - 1, whose local APIC ID, and so the guest's CPU number, is N - 1: the BSP
is thread 1.  Every CPU loops in cpu_work() until its per_cpu_counter[] reaches `iterations`,
calling bump_shared() on every turn.  The guest rereads `iterations` on every turn, so most
scenarios set it to FOREVER and, to end the run, lower it to just above the largest counter:
every CPU then ends on the same count, whatever the host's speed.  Exit code:
((0x30 + CPUs) << 1) | 1 when the totals add up (samples/smp/smp.c).

non_stop drives a second gdb through GDB/MI (gdb_mi.py): see there why."""

import os
import re
import time

import gdb

from e2e import (
    CheckFailed,
    address_of,
    check,
    check_equal,
    check_in,
    connect,
    continue_to_exit,
    expect_exit,
    expect_serial,
    frame_name,
    log,
    main,
    run,
    run_stop,
    set_breakpoint,
    source_line,
    uvalue,
    value,
    SYMBOLS,
)
from gdb_mi import MiGdb, field

CPUS = int(os.environ.get("E2E_CPUS", "1"))
FOREVER = 0x7FFFFFFF
CPU_STACK_SIZE = 4096  # samples/smp/smp.h
THREAD_LINE = re.compile(r"^\*?\s+(\d+)\s+Thread (\d+) \(([^)]*)\)(.*)$", re.MULTILINE)


def exit_code(cpus=CPUS):
    return ((0x30 + cpus) << 1) | 1


def threads_listed(info):
    """{gdb thread number: the whole line} from `info threads`; checks each line's target id
    (Thread N) and description (vCPU N - 1, then the CPU mode)."""
    lines = {}
    for m in THREAD_LINE.finditer(info):
        number = int(m.group(1))
        check_equal(int(m.group(2)), number, "target id of gdb thread " + m.group(1))
        check_in(f"vCPU {number - 1}", m.group(3), f"description of thread {number}")
        lines[number] = m.group(0)
    check_equal(sorted(lines), list(range(1, CPUS + 1)), "threads in info threads")
    return lines


def counters(read=value):
    return [read(f"per_cpu_counter[{cpu}]") for cpu in range(CPUS)]


def wait_until(condition, what, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        check(time.monotonic() < deadline, f"no {what} within {seconds}s")
        time.sleep(0.05)


def every_cpu_working(read=value):
    """Whether every CPU has made a turn of cpu_work()'s loop."""
    return all(count > 0 for count in counters(read))


def in_stack(esp, thread):
    """Whether esp lies in thread's stack: the BSP's boot stack or cpu_stacks[APIC ID]."""
    if thread == 1:
        return address_of("stack_bottom") <= esp < address_of("stack_top")
    base = address_of("cpu_stacks") + (thread - 1) * CPU_STACK_SIZE
    return base <= esp < base + CPU_STACK_SIZE


def expect_summary(iterations):
    total = CPUS * iterations
    if CPUS > 1:
        expect_serial(f"smp: cpus in the MADT = {CPUS},")
    for cpu in range(CPUS):
        expect_serial(f"smp: cpu {cpu} counted {iterations}\n")
    expect_serial(f"smp: shared_counter = {total}, sum of the per-CPU counters = {total}, "
                  f"expected {total}\n")
    expect_serial(f"smp: ok, cpus = {CPUS}\n")


def finish_run():
    """All threads stopped: every CPU ends its loop at one count just above the largest counter,
    and the guest exits with its totals right."""
    run("delete")
    final = max(counters()) + 100
    run(f"set var iterations = {final}")
    expect_summary(final)
    continue_to_exit(exit_code())


def stop_in_thread(thread, location, ready=lambda: True, attempts=40):
    """Continues to `location` (a breakpoint for `thread` only) until thread `thread` stops
    there with ready() true; deletes the breakpoint."""
    bp = set_breakpoint(f"break {location} thread {thread}")
    for _ in range(attempts):
        output = run_stop("continue")
        check_in(f"Thread {thread} hit Breakpoint {bp}", output, "the stop")
        check_equal(gdb.selected_thread().num, thread, "thread after the stop")
        if ready():
            run(f"delete {bp}")
            return
    raise CheckFailed(f"thread {thread} was not ready at {location} in {attempts} stops")


def threads():
    """info threads lists every vCPU; each thread shows its own registers, pc and backtrace."""
    connect()
    run(f"set var iterations = {FOREVER}")
    check_equal(len(gdb.selected_inferior().threads()), CPUS, "threads gdb knows")
    threads_listed(run("info threads"))

    bp = set_breakpoint("break ap_main")
    started = set()
    for _ in range(CPUS - 1):  # each AP stops once at ap_main
        output = run_stop("continue")
        thread = gdb.selected_thread().num
        check_in(f"Thread {thread} hit Breakpoint {bp}, ap_main", output, "stop at ap_main")
        check(thread != 1 and thread not in started, f"thread {thread} stopped at ap_main")
        check_equal(value("cpu"), thread - 1, f"ap_main's cpu (APIC ID) in thread {thread}")
        started.add(thread)
    run(f"delete {bp}")
    for line in threads_listed(run("info threads")).values():
        check_in("protected mode", line, "every CPU's mode once the APs are up")

    esps = {}
    for thread in range(1, CPUS + 1):
        run(f"thread {thread}")
        check_equal(gdb.selected_thread().num, thread, "selected thread")
        registers = run("info registers")
        check("eip" in registers or "rip" in registers, "info registers shows the pc")
        run("p $pc")
        backtrace = run("bt")
        check_in("kmain" if thread == 1 else "ap_main", backtrace, f"bt of thread {thread}")
        esps[thread] = uvalue("$esp", 32)
        check(in_stack(esps[thread], thread),
              f"thread {thread}'s esp {esps[thread]:#x} lies in its own stack")
    check_equal(len(set(esps.values())), CPUS, "distinct esp values across the threads")
    run("thread 1")
    check_equal(uvalue("$esp", 32), esps[1], "thread 1's esp, read again after the others")
    finish_run()


def all_stop():
    """A breakpoint every CPU hits: each stop names its thread and stops the others; every hit
    is reported once, so the stops add up to CPUs * iterations."""
    iterations = 5
    connect()
    run(f"set var iterations = {iterations}")
    bp = set_breakpoint("break bump_shared")
    hits = {thread: 0 for thread in range(1, CPUS + 1)}
    for n in range(1, CPUS * iterations + 1):
        output = run_stop("continue")
        check("exited" not in output, f"the guest exited after {n - 1} stops: a stop was lost")
        thread = gdb.selected_thread().num
        check_in(f"Thread {thread} hit Breakpoint {bp}, bump_shared", output, f"stop {n}")
        check_equal(frame_name(), "bump_shared", f"function at stop {n}")
        hits[thread] += 1
        now = counters()
        # A CPU increments its counter and then calls bump_shared: the stopped thread's count
        # equals its hits; another may be between the two, or stopped at the breakpoint with
        # its report still to come.
        check_equal(now[thread - 1], hits[thread], f"per_cpu_counter[{thread - 1}] at stop {n}")
        for other, seen in hits.items():
            check(seen <= now[other - 1] <= seen + 1,
                  f"thread {other}: per_cpu_counter {now[other - 1]} after {seen} reported hits")
    log(f"hits per thread: {hits}")
    check_equal(set(hits.values()), {iterations}, "hits of every thread")
    run(f"delete {bp}")
    expect_summary(iterations)
    continue_to_exit(exit_code())


def scheduler_locking():
    """With scheduler-locking on, stepping thread 2 leaves the other CPUs where they are."""
    connect()
    run(f"set var iterations = {FOREVER}")
    # Stop thread 2 in its loop while no CPU holds the lock: with the others frozen, thread 2
    # must be able to take it.
    stop_in_thread(2, source_line("per-cpu-bump"), ready=lambda: value("shared_lock") == 0)
    pcs = {}
    for thread in range(1, CPUS + 1):
        run(f"thread {thread}")
        pcs[thread] = uvalue("$pc")
    run("set scheduler-locking on")
    run("thread 2")
    before, shared = counters(), value("shared_counter")
    for _ in range(3):
        run("stepi")
    for _ in range(4):
        run("next")
    after = counters()
    check_equal(gdb.selected_thread().num, 2, "thread after stepping")
    check(after[1] > before[1], f"thread 2's counter advanced: {before[1]} -> {after[1]}")
    check(value("shared_counter") - shared <= after[1] - before[1],
          "shared_counter grew by thread 2's turns at most")
    for cpu in range(CPUS):
        if cpu != 1:
            check_equal(after[cpu], before[cpu], f"per_cpu_counter[{cpu}] while thread 2 steps")
    for thread in pcs:
        if thread != 2:
            run(f"thread {thread}")
            check_equal(uvalue("$pc"), pcs[thread], f"thread {thread}'s pc while thread 2 steps")
    run("set scheduler-locking off")
    finish_run()


def step_others():
    """With scheduler-locking off, the other CPUs run while thread 1 steps."""
    connect()
    run(f"set var iterations = {FOREVER}")
    run("set scheduler-locking off")
    stop_in_thread(1, source_line("per-cpu-bump"), ready=every_cpu_working)
    before = counters()
    for n in range(1, 41):
        run("next")
        check_equal(gdb.selected_thread().num, 1, "thread after next")
        now = counters()
        if all(now[cpu] > before[cpu] for cpu in range(CPUS)):
            log(f"ok: every CPU's counter advanced within {n} nexts of thread 1: {before} -> {now}")
            break
    else:
        raise CheckFailed(f"counters while thread 1 stepped: {before} -> {now}")
    finish_run()


def mi_counters(mi):
    return counters(mi.value)


def mi_function(mi):
    """The function of the selected thread's innermost frame."""
    return field(mi.command("-stack-info-frame")[0], "func")


def non_stop():
    """Non-stop mode: one thread stops and is inspected while the others run, continues, all
    stop on `interrupt -a`, and a breakpoint stops one thread while another runs on."""
    check(CPUS >= 2, "non_stop needs two CPUs or more")
    run(f"file {SYMBOLS}")  # this gdb reads symbol addresses, the MI one debugs
    mi = MiGdb()
    try:
        mi.connect(non_stop=True)
        mi.cli(f"set var iterations = {FOREVER}")
        for line in threads_listed(mi.cli("info threads")).values():
            check("(running)" not in line, f"a thread runs before the first continue: {line}")
        mi.cli("continue -a &")
        wait_until(lambda: every_cpu_working(mi.value), "start of every CPU's work")

        # Thread 2 stops; the others run on.
        mi.cli("thread 2")
        mi.cli("interrupt")
        mi.stopped(2)
        listed = threads_listed(mi.cli("info threads"))
        check("(running)" not in listed[2], f"thread 2 after interrupt: {listed[2]}")
        for thread in range(1, CPUS + 1):
            if thread != 2:
                check_in("(running)", listed[thread], f"thread {thread} while 2 is stopped")
        registers = mi.cli("info registers")
        check("eip" in registers or "rip" in registers, "info registers shows the pc")
        check_in("ap_main", mi.cli("bt"), "bt of the stopped thread 2")
        check(in_stack(mi.value("$esp") & 0xFFFFFFFF, 2), "thread 2's esp in cpu_stacks[1]")
        # Stopped anywhere, thread 2 may hold the spinlock, and then the others spin without
        # counting: finish takes it (alone) back to cpu_work, past bump_shared's unlock.
        for _ in range(4):
            if mi_function(mi) == "cpu_work":
                break
            mi.cli("finish")
            mi.stopped(2)
        check_equal(mi_function(mi), "cpu_work", "thread 2's function after finish")
        pc = mi.value("$pc")
        first = mi_counters(mi)
        time.sleep(1.0)
        second = mi_counters(mi)
        check_equal(second[1], first[1], "thread 2's counter while it is stopped")
        check_equal(mi.value("$pc"), pc, "thread 2's pc while it is stopped")
        for cpu in range(CPUS):
            if cpu != 1:
                check(second[cpu] > first[cpu],
                      f"CPU {cpu}'s counter runs on: {first[cpu]} -> {second[cpu]}")

        mi.cli("monitor regs")  # reads the stopped thread 2's registers

        # Thread 2 goes on.
        mi.cli("continue &")
        wait_until(lambda: mi.value("per_cpu_counter[1]") > second[1], "turn of thread 2")
        # hvgdb refuses to show the registers of gdb's thread while it runs (MI shows why in
        # a target stream record; the command fails).
        try:
            mi.cli("monitor regs")
            raise CheckFailed("'monitor regs' answered while thread 2 runs")
        except CheckFailed as e:
            check_in("Rcmd", str(e), "'monitor regs' while thread 2 runs")

        # interrupt -a stops every thread.
        mi.cli("interrupt -a")
        for thread in range(1, CPUS + 1):
            mi.stopped(thread)
        for line in threads_listed(mi.cli("info threads")).values():
            check("(running)" not in line, f"a thread runs after interrupt -a: {line}")
        held = mi_counters(mi)
        time.sleep(0.3)
        check_equal(mi_counters(mi), held, "counters after interrupt -a")

        # Thread 2 was held while the others ran, so the CPU furthest ahead ends its loop first
        # and stops at the breakpoint at the loop's end; thread 2 runs on.
        ahead = max(range(CPUS), key=lambda cpu: held[cpu])
        lead = held[ahead] - held[1]
        check(ahead != 1 and lead >= 20, f"thread 2 lags behind after its hold: {held}")
        final = held[ahead] + lead // 4
        mi.cli(f"set var iterations = {final}")
        mi.cli(f"break {source_line('cpu-done')}")
        mi.cli("continue -a &")
        stop = mi.wait_for(lambda r: r.startswith("*stopped"), "stop at the loop's end")
        check_equal(field(stop, "reason"), "breakpoint-hit", "reason of the first stop")
        check_equal(field(stop, "thread-id"), str(ahead + 1), "thread at the loop's end")
        check_equal(mi.value(f"per_cpu_counter[{ahead}]"), final, "counter at the loop's end")
        listed = threads_listed(mi.cli("info threads"))
        check_in("(running)", listed[2], "thread 2 while another is at the breakpoint")
        turns = mi.value("per_cpu_counter[1]")
        wait_until(lambda: mi.value("per_cpu_counter[1]") > turns, "turn of thread 2", 5)

        mi.cli("delete")
        mi.cli("continue -a &")
        exited = mi.wait_for(lambda r: r.startswith("*stopped") and "exited" in r,
                             "exit of the guest", 120)
        code = int(field(exited, "exit-code") or "0", 8)
        check_equal(code, exit_code(), "exit code gdb/mi reports")
        expect_exit(code)
        expect_summary(final)
    finally:
        mi.close()


main({
    "threads": threads,
    "all_stop": all_stop,
    "scheduler_locking": scheduler_locking,
    "step_others": step_others,
    "non_stop": non_stop,
})
