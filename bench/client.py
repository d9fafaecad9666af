"""One measurement, run inside gdb against hvgdb or QEMU: the same commands for every peer.

bench.py runs `gdb -batch -nx -ex 'set architecture i386:x86-64' -ex 'target remote ...'
-x client.py`; both peers show the bench guest with gdb's x86-64 registers (QEMU's
qemu-system-x86_64 always does, hvgdb with --arch x86-64), and gdb loads no file: the same
gdb, setup and commands for every peer.  The environment says what to do:
  BENCH_OP       stepi, sw_break, hw_break, dump, dump_zeros or registers
  BENCH_COUNT    how many (steps, breakpoint round trips, register reads; bytes for dump)
  BENCH_RANDOM   a file of pseudo-random bytes, at least BENCH_COUNT of them: dump writes them
                 to guest memory at BENCH_DUMP_AT first (untimed) and dumps them, so that it
                 measures moving bytes, not how well a stub compresses runs of zeros (RSP
                 replies may be run-length encoded); dump_zeros dumps untouched memory there
  BENCH_TICK     address of tick(), the breakpoint target in the guest's loop
  BENCH_TICKS    address of `ticks`, the guest's count of tick() calls
  BENCH_DUMP_TO  the file a dump writes; a dump of random bytes is compared with them
First, untimed: an hbreak at tick() and a continue bring the guest into its loop (hvgdb starts
it at its entry point, QEMU at the reset vector of its firmware).  Then the timed loop, then
checks that the peer did what was asked.  Prints one line, "BENCH_RESULT {json}": seconds,
count, and "error" when something failed; then kills the peer.
"""

import json
import os
import sys
import time

import gdb

OP = os.environ["BENCH_OP"]
COUNT = int(os.environ["BENCH_COUNT"])
TICK = int(os.environ["BENCH_TICK"], 0)
TICKS = int(os.environ["BENCH_TICKS"], 0)
DUMP_TO = os.environ.get("BENCH_DUMP_TO", "/dev/null")
RANDOM = os.environ.get("BENCH_RANDOM", "")
DUMP_AT = int(os.environ.get("BENCH_DUMP_AT", "0"), 0)


class Failed(Exception):
    pass


# The first stop by a signal other than SIGTRAP (QEMU reports a KVM internal error as
# SIGABRT): a loop that met one did not measure what it says.
odd_stops = []


def on_stop(event):
    if isinstance(event, gdb.SignalEvent) and event.stop_signal != "SIGTRAP" and not odd_stops:
        odd_stops.append(event.stop_signal)


def expect_no_odd_stop(what):
    if odd_stops:
        raise Failed(f"{what}: the target stopped with {odd_stops[0]}")


def quiet(command):
    return gdb.execute(command, to_string=True)


def pc():
    return int(gdb.parse_and_eval("$pc")) & 0xFFFFFFFFFFFFFFFF


def ticks():
    return int(gdb.parse_and_eval(f"*(unsigned int *){TICKS:#x}"))


def expect_pc_at_tick(what):
    if pc() != TICK:
        raise Failed(f"{what}: stopped at {pc():#x}, not at tick() {TICK:#x}")


def enter_loop():
    quiet(f"hbreak *{TICK:#x}")
    quiet("continue")
    expect_pc_at_tick("reaching the loop")
    quiet("delete")


def stepi():
    before = ticks()
    start = time.perf_counter()
    for _ in range(COUNT):
        quiet("stepi")
    seconds = time.perf_counter() - start
    expect_no_odd_stop("stepi")
    # The loop is a dozen instructions: the steps went round it many times.
    if ticks() - before < COUNT // 40:
        raise Failed(f"{COUNT} steps made tick() run {ticks() - before} times")
    return seconds


def break_round_trips(kind):
    quiet(f"{kind} *{TICK:#x}")
    before = ticks()
    start = time.perf_counter()
    for _ in range(COUNT):
        quiet("continue")
        if odd_stops:
            break  # continuing a target that failed can hang it
    seconds = time.perf_counter() - start
    expect_no_odd_stop(kind)
    expect_pc_at_tick(kind)
    # One stop per call: tick() ran once between two stops, never skipped.
    if ticks() - before != COUNT:
        raise Failed(f"{COUNT} continues to {kind} made tick() run {ticks() - before} times")
    quiet("delete")
    return seconds


def dump(random):
    if random:
        quiet(f"restore {RANDOM} binary {DUMP_AT:#x} 0 {COUNT:#x}")
    start = time.perf_counter()
    quiet(f"dump binary memory {DUMP_TO} {DUMP_AT:#x} {DUMP_AT + COUNT:#x}")
    seconds = time.perf_counter() - start
    if random and DUMP_TO != "/dev/null":
        # What was dumped is what was written.
        with open(RANDOM, "rb") as f, open(DUMP_TO, "rb") as dumped:
            if f.read(COUNT) != dumped.read():
                raise Failed(f"dump: {DUMP_TO} differs from the {COUNT} bytes written")
    return seconds


def registers():
    expected = pc()
    start = time.perf_counter()
    for _ in range(COUNT):
        # The flush drops gdb's register cache, so the read fetches them again (a `g`).
        quiet("maintenance flush register-cache")
        value = int(gdb.parse_and_eval("$rip"))
    seconds = time.perf_counter() - start
    if value != expected:
        raise Failed(f"$rip read {value:#x} after the flushes, {expected:#x} before")
    return seconds


OPERATIONS = {
    "stepi": stepi,
    "sw_break": lambda: break_round_trips("break"),
    "hw_break": lambda: break_round_trips("hbreak"),
    "dump": lambda: dump(random=True),
    "dump_zeros": lambda: dump(random=False),
    "registers": registers,
}


def main():
    result = {"op": OP, "count": COUNT}
    try:
        quiet("set confirm off")
        quiet("set pagination off")
        gdb.events.stop.connect(on_stop)
        enter_loop()
        result["seconds"] = OPERATIONS[OP]()
    except (gdb.error, Failed) as e:
        result["error"] = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
    sys.stdout.write("BENCH_RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
    try:
        quiet("kill")
    except gdb.error:
        pass


main()
