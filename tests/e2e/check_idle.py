"""No busy polling (DESIGN.md, Threads): hvgdb's CPU time while the guest waits for the
debugger, while it is halted with interrupts off, and while it runs a busy loop.  Run by
run_e2e.sh inside gdb; see e2e.py for the environment.

The CPU time of each thread comes from /proc/PID/task/TID/stat (utime + stime) over
SAMPLE_SECONDS.  vCPU threads are the ones named vcpu<N>; every other thread is hvgdb's own
(network, console, main).  hvgdb's own threads together must stay under LIMIT of one CPU in
every case; while the guest waits or halts, the whole process must too.  While the guest runs a
busy loop the vCPU threads must be busy, which shows that the measurement sees CPU time.

Scenarios:
  halt  hello32.elf sent to its `hlt` loop (IF=0, so nothing wakes it), then a `jmp .` loop
  smp   smp.elf with the APs parked, waiting for their Startup IPI, then all CPUs counting, then
        every CPU halted: the APs in ap_park, the BSP sent to halt_forever
"""

import os
import re
import signal
import threading
import time

import gdb

from e2e import (
    HVGDB_PID,
    address_of,
    check,
    check_equal,
    connect,
    continue_to_exit,
    log,
    main,
    pc,
    run,
    value,
)

LIMIT = 0.02  # of one CPU
SAMPLE_SECONDS = 2.0
SETTLE_SECONDS = 0.5  # after a continue, before sampling
TICKS = os.sysconf("SC_CLK_TCK")
VCPU_THREAD = re.compile(r"vcpu\d+")


def thread_times(pid):
    """{tid: (name, utime + stime in clock ticks)} for every thread of process `pid`."""
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        # proc(5): fields 14 and 15, utime and stime; the name (field 2) may hold spaces, so
        # count from the parenthesis that closes it, after which field 3 begins.
        fields = stat[stat.rindex(")") + 2:].split()
        times[int(tid)] = (name, int(fields[11]) + int(fields[12]))
    return times


def process_time(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def sample(pid):
    """CPU use over SAMPLE_SECONDS, in CPUs: (whole process, {tid: (name, use)})."""
    threads_before, whole_before = thread_times(pid), process_time(pid)
    start = time.monotonic()
    time.sleep(SAMPLE_SECONDS)
    threads_after, whole_after = thread_times(pid), process_time(pid)
    seconds = time.monotonic() - start
    use = {tid: (name, (ticks - threads_before.get(tid, (name, 0))[1]) / TICKS / seconds)
           for tid, (name, ticks) in threads_after.items()}
    return (whole_after - whole_before) / TICKS / seconds, use


def check_idle(case, measured, whole_limited, vcpus_busy=False):
    """Checks one sample; `measured` is what sample() returned."""
    whole, threads = measured
    own = {tid: t for tid, t in threads.items() if not VCPU_THREAD.fullmatch(t[0])}
    vcpus = {tid: t for tid, t in threads.items() if VCPU_THREAD.fullmatch(t[0])}
    listing = ", ".join(f"{name} {use:.1%}" for name, use in sorted(threads.values()))
    log(f"cpu use, {case}: whole process {whole:.1%}; threads: {listing}")
    check(vcpus, f"no thread named vcpu<N> among {sorted(t[0] for t in threads.values())}")
    own_use = sum(use for _, use in own.values())
    check(own_use < LIMIT, f"{case}: hvgdb's own threads use {own_use:.1%} of a CPU")
    if whole_limited:
        check(whole < LIMIT, f"{case}: hvgdb uses {whole:.1%} of a CPU")
    if vcpus_busy:
        vcpu_use = sum(use for _, use in vcpus.values())
        check(vcpu_use > 0.1, f"{case}: the vCPU threads use only {vcpu_use:.1%} of a CPU")
    log(f"ok: {case}")


def sample_running(case, whole_limited, vcpus_busy=False):
    """continue; samples while the guest runs, then interrupts it (SIGINT to gdb, which gdb
    turns into an interrupt request) and checks the sample."""
    measured = {}

    def measure_then_interrupt():
        try:
            time.sleep(SETTLE_SECONDS)
            measured["use"] = sample(HVGDB_PID)
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    sampler = threading.Thread(target=measure_then_interrupt)
    sampler.start()
    run("continue")
    sampler.join()
    check("use" in measured, "the sample was not taken")
    check_idle(case, measured["use"], whole_limited, vcpus_busy)


def waiting_for_debugger():
    check(HVGDB_PID > 0, "run_e2e.sh gave no E2E_HVGDB_PID")
    check_idle("guest stopped, waiting for the debugger", sample(HVGDB_PID), True)


def halt():
    waiting_for_debugger()
    connect()
    halt_forever = address_of("halt_forever")
    check_equal(value("$eflags") & 0x200, 0, "IF at the entry")
    run("set var $pc = halt_forever")
    sample_running("guest halted with interrupts off", True)
    check(halt_forever <= pc() <= halt_forever + 3, f"the guest left its hlt loop: {pc():#x}")

    run("set var *(unsigned short *) halt_forever = 0xfeeb")  # jmp .
    run("set var $pc = halt_forever")
    sample_running("guest in a busy loop", False, vcpus_busy=True)
    check_equal(pc(), halt_forever, "$pc in the busy loop")

    run("set var $pc = exit_to_host")
    run("set var $eax = 7")
    continue_to_exit((7 << 1) | 1)


def smp():
    waiting_for_debugger()  # the APs wait for their Startup IPI
    connect()
    check(len(gdb.selected_inferior().threads()) >= 2, "smp runs with --cpus 2 or more")
    run("set var iterations = 0x7fffffff")
    sample_running("every CPU counting", False, vcpus_busy=True)
    counts = [value(f"per_cpu_counter[{t.num - 1}]") for t in gdb.selected_inferior().threads()]
    check(min(counts) > 0, f"every CPU counted: {counts}")

    # The CPUs end their loops; the APs halt in ap_park, the BSP stops before its exit.
    run(f"set var iterations = {max(counts) + 10}")
    run("break *exit_to_host")
    run("continue")
    check_equal(gdb.selected_thread().num, 1, "thread at exit_to_host")
    exit_value = value("$eax")
    run("delete")
    run("set var $pc = halt_forever")
    sample_running("every CPU halted with interrupts off", True)
    ap_park = address_of("ap_park")
    for thread in gdb.selected_inferior().threads():
        run(f"thread {thread.num}")
        where = address_of("halt_forever") if thread.num == 1 else ap_park
        check(where <= pc() <= where + 3, f"thread {thread.num} left its hlt loop: {pc():#x}")

    run("thread 1")
    run("set var $pc = exit_to_host")
    continue_to_exit(((exit_value << 1) | 1) & 0xFF)


main({"halt": halt, "smp": smp})
