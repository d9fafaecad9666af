#!/usr/bin/env python3
"""hvgdb against QEMU's gdbstub, with the real gdb client, on the same guest in the same run.

bench/run builds everything and calls this with the build directory (see its --help).  Each
measurement runs in rounds; in each round every peer gets a fresh process and one gdb session
(client.py) for it, the peers taking turns going first (A/B, then B/A, ...), so a change in
the machine's load falls on both alike.  Every start of a peer for gdb also times its start
to listening.  The table gives min/median/max per peer and the ratio of the medians as
"how many times faster hvgdb is" (a rate over a rate, or a time over a time).
"""

import argparse
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
MEMORY_MIB = 256  # enough for the 64 MiB dump; the same for every peer
MIB = 1 << 20
DUMP_AT = 16 * MIB  # guest memory that the image and boot data leave alone


@dataclass
class Peer:
    name: str
    argv: list  # the command, with {port} where the gdb port goes

    def command(self, port, extra=()):
        return [a.replace("{port}", str(port)) for a in self.argv] + list(extra)


def make_peers(build, guest, qemu, hvgdb=None):
    hvgdb = hvgdb or os.path.join(build, "hvgdb", "app", "hvgdb")
    # QEMU boots the Multiboot image with -kernel through qboot, its minimal firmware (SeaBIOS
    # takes seconds in real mode on kvm_pvm); its isa-debug-exit is hvgdb's exit port.
    # `-cpu host` aborts on kvm_pvm; without arch-capabilities it runs.
    common = ["-bios", "qboot.rom", "-m", f"{MEMORY_MIB}M", "-kernel", guest, "-S",
              "-gdb", "tcp:127.0.0.1:{port}", "-display", "none", "-nodefaults",
              "-serial", "none", "-monitor", "none", "-no-reboot",
              "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    return {
        "hvgdb": Peer("hvgdb", [hvgdb, "--gdb", "127.0.0.1:{port}", "--memory",
                                f"{MEMORY_MIB}M", "--arch", "x86-64", guest]),
        "QEMU-KVM": Peer("QEMU-KVM", [qemu, "-accel", "kvm", "-cpu", "host,-arch-capabilities"]
                         + common),
        "QEMU-TCG": Peer("QEMU-TCG", [qemu, "-accel", "tcg"] + common),
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """Whether a socket listens on 127.0.0.1:port, from the kernel's table: a probe connection
    would count as a debugger attaching (hvgdb stops, and on close resumes, the guest)."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        return any(f[1] == want and f[3] == "0A" for f in (line.split() for line in table)
                   if len(f) > 3)  # 0A: TCP_LISTEN


class Launch:
    """A peer process.  With a port, waits until it listens there (polled every 0.25 ms):
    `listen_ms` is exec to that moment, from which the kernel takes a connection (and
    queues it until the peer accepts: hvgdb listens before it builds its machine)."""

    def __init__(self, command, log, port=None, timeout=30.0):
        start = time.perf_counter()
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.listen_ms = None
        while port is not None and not listening(port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{os.path.basename(command[0])} exited with "
                                   f"{self.proc.returncode} before listening")
            if time.perf_counter() - start > timeout:
                self.end(grace=0)
                raise RuntimeError(f"not listening after {timeout:.0f} s")
            time.sleep(0.00025)
        if port is not None:
            self.listen_ms = (time.perf_counter() - start) * 1000

    def end(self, grace=10.0):
        """Waits up to `grace` seconds for the process to exit (gdb's kill, the guest's exit
        port), then kills it.  Returns (exit code, rusage: its CPU time, all threads)."""
        deadline = time.monotonic() + grace
        killed = False
        while True:
            try:
                pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            except ChildProcessError:  # reaped already (poll() saw it exit)
                return self.proc.returncode, None
            if pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                return self.proc.returncode, usage
            if not killed and time.monotonic() > deadline:
                self.proc.kill()
                killed = True
            time.sleep(0.005)


@dataclass
class Context:
    guest: str
    gdb: str
    raw_kvm: str
    peers: dict
    symbols: dict
    work: str
    verbose: bool = False
    only: list = None  # rows to measure, None: all
    samples: dict = field(default_factory=dict)  # (row, peer) -> [values]
    failures: dict = field(default_factory=dict)  # (row, peer) -> why

    def add(self, row, peer, value):
        self.samples.setdefault((row, peer), []).append(value)

    def fail(self, row, peer, why):
        self.failures.setdefault((row, peer), why)


def guest_symbols(guest):
    out = subprocess.run(["nm", guest], check=True, capture_output=True, text=True).stdout
    return {p[2]: int(p[0], 16) for p in (line.split() for line in out.splitlines())
            if len(p) == 3}


def cpu_seconds(usage):
    return usage.ru_utime + usage.ru_stime


def random_bytes(ctx, count):
    """A file of `count` pseudo-random bytes (the same in every run), made once per run."""
    path = os.path.join(ctx.work, f"random-{count}.bin")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(random.Random(count).randbytes(count))
    return path


def gdb_session(ctx, peer, op, count, timeout, prefix=()):
    """Starts `peer` (under `prefix`, a profiler), runs client.py for `op` in gdb against it.
    Returns (client's result, the Launch, rusage of the peer process); the result has gdb's
    CPU seconds as "gdb_cpu"."""
    log_path = os.path.join(ctx.work, f"{peer.name}-{op}.log")
    with open(log_path, "w") as log:
        port = free_port()
        launch = Launch(list(prefix) + peer.command(port), log, port)
        env = dict(os.environ, BENCH_OP=op, BENCH_COUNT=str(count),
                   BENCH_TICK=hex(ctx.symbols["tick"]), BENCH_TICKS=hex(ctx.symbols["ticks"]),
                   BENCH_DUMP_TO=os.path.join(ctx.work, "dump.bin"),
                   BENCH_RANDOM=random_bytes(ctx, count) if op == "dump" else "",
                   BENCH_DUMP_AT=hex(DUMP_AT))
        argv = [ctx.gdb, "-batch", "-nx", "-q", "-ex", "set architecture i386:x86-64",
                "-ex", f"target remote 127.0.0.1:{port}", "-x", os.path.join(HERE, "client.py")]
        result = {"error": f"no answer in {timeout:.0f} s"}
        before = cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN))
        try:
            run = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, timeout=timeout)
            log.write(run.stdout + run.stderr)
            lines = [s for s in run.stdout.splitlines() if s.startswith("BENCH_RESULT ")]
            result = json.loads(lines[-1].split(" ", 1)[1]) if lines else \
                {"error": f"gdb printed no result (see {log_path})"}
        except subprocess.TimeoutExpired:
            pass
        # Only gdb was reaped meanwhile: the peer is still running.
        result["gdb_cpu"] = cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN)) - before
        _, usage = launch.end()
    return result, launch, usage


LOOP_LINE = re.compile(r"loop (\d+) cycles 0x([0-9a-f]{8})0x([0-9a-f]{8})")


def parse_loop(text):
    """Iterations per TSC cycle from the guest's "loop N cycles 0xHI0xLO" line."""
    m = LOOP_LINE.search(text)
    if not m:
        raise RuntimeError(f"the guest printed no loop line: {text.strip()[:200]!r}")
    return int(m[1]) / ((int(m[2], 16) << 32) | int(m[3], 16))


def loop_on_hvgdb(ctx, n, timeout):
    """The loop with no debugger stop: --no-wait, and no probe connection, which would stop
    the guest."""
    serial = os.path.join(ctx.work, "loop-serial.txt")
    with open(os.path.join(ctx.work, "hvgdb-loop.log"), "w") as log:
        launch = Launch(ctx.peers["hvgdb"].command(free_port()) +
                        ["--no-wait", "--cmdline", f"loop={n}", "--serial", f"file:{serial}"],
                        log)
        code, _ = launch.end(grace=timeout)
    if code != 1:  # the guest writes 0 to the exit port: (0 << 1) | 1
        raise RuntimeError(f"hvgdb exited with {code}")
    with open(serial) as f:
        return parse_loop(f.read())


def loop_on_raw_kvm(ctx, n, timeout):
    run = subprocess.run([ctx.raw_kvm, "--memory", str(MEMORY_MIB), "--cmdline", f"loop={n}",
                          ctx.guest], capture_output=True, text=True, timeout=timeout)
    if run.returncode != 1:
        raise RuntimeError(f"bench_raw_kvm exited with {run.returncode}: {run.stderr.strip()}")
    m = re.search(r"tsc_hz (\d+)", run.stderr)
    if m:
        ctx.add("tsc_hz", "raw KVM", int(m[1]))
    return parse_loop(run.stdout)


@dataclass
class Measure:
    """One row's sessions in a round: `op` for client.py (or "loop"), with `count`."""
    row: str
    op: str
    count: int
    peers: list
    timeout: float

    def value(self, result):  # the row's unit from client.py's result
        if self.op.startswith("dump"):
            return self.count / MIB / result["seconds"]
        return self.count / result["seconds"]


def loop_count(ctx, seconds):
    """Iterations of the guest's loop that take about `seconds` on raw KVM here, from a short
    run: the guest's speed varies by orders of magnitude between hosts (kvm_pvm runs it
    some 100 times slower than hardware KVM)."""
    probe = 2000
    per_cycle = loop_on_raw_kvm(ctx, probe, 120)
    hz = statistics.median(ctx.samples.pop(("tsc_hz", "raw KVM")))
    return max(probe, int(seconds * hz * per_cycle))


def measures(ctx, quick):
    steps, trips, reads, loop_seconds = (200, 100, 200, 0.3) if quick else (2000, 1000, 1000, 1.0)
    kvm = ["hvgdb", "QEMU-KVM"]
    dumps = [16] if quick else [16, 64]
    chosen = [Measure("stepi", "stepi", steps, kvm, 300),
              Measure("hbreak", "hw_break", trips, kvm, 300),
              Measure("break", "sw_break", trips, ["hvgdb", "QEMU-KVM", "QEMU-TCG"], 300)]
    chosen += [Measure(f"dump{m}", "dump", m * MIB, kvm, 300) for m in dumps]
    if not quick:
        chosen.append(Measure("dump16z", "dump_zeros", 16 * MIB, kvm, 300))
    chosen.append(Measure("registers", "registers", reads, kvm, 300))
    if ctx.only is None or "loop" in ctx.only:
        chosen.append(Measure("loop", "loop", loop_count(ctx, loop_seconds),
                              ["hvgdb", "raw KVM"], 120))
    return [m for m in chosen if ctx.only is None or m.row in ctx.only]


def run_round(ctx, measure, order):
    for name in order:
        if (measure.row, name) in ctx.failures:
            continue  # failed once: not again
        try:
            if measure.op == "loop":
                run = loop_on_hvgdb if name == "hvgdb" else loop_on_raw_kvm
                value = run(ctx, measure.count, measure.timeout)
                ctx.add(measure.row, name, value)
                shown = f"{value * 1e6:,.0f} iterations per million TSC cycles"
            else:
                result, launch, _ = gdb_session(ctx, ctx.peers[name], measure.op, measure.count,
                                                measure.timeout)
                ctx.add("listen", name, launch.listen_ms)
                if "error" in result:
                    raise RuntimeError(result["error"])
                value = measure.value(result)
                ctx.add(measure.row, name, value)
                shown = f"{value:.1f}/s, listening after {launch.listen_ms:.1f} ms"
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            ctx.fail(measure.row, name, str(e))
            shown = f"FAILED: {e}"
        if ctx.verbose:
            print(f"  {measure.row:9} {name:9} {shown}", file=sys.stderr, flush=True)


# The table: (row, label, unit, peer, kind, target).  kind "rate": higher is better, the
# ratio is hvgdb's over the peer's; "time": lower is better, the ratio is the peer's over
# hvgdb's.  target: ("ratio", x) the ratio at least x; ("max", ms) hvgdb's median at most;
# ("works", None) hvgdb's sessions all succeed; None: no target.
ROWS = [
    ("stepi", "stepi", "steps/s", "QEMU-KVM", "rate", ("ratio", 3.0)),
    ("hbreak", "hbreak round trip", "trips/s", "QEMU-KVM", "rate", ("ratio", 3.5)),
    ("break", "break round trip", "trips/s", "QEMU-KVM", "rate", ("works", None)),
    ("break", "break round trip", "trips/s", "QEMU-TCG", "rate", ("ratio", 3.0)),
    ("dump16", "dump 16 MiB", "MiB/s", "QEMU-KVM", "rate", ("ratio", 1.6)),
    ("dump64", "dump 64 MiB", "MiB/s", "QEMU-KVM", "rate", ("ratio", 1.6)),
    ("dump16z", "dump 16 MiB of zeros", "MiB/s", "QEMU-KVM", "rate", None),
    ("registers", "registers, cache flushed", "reads/s", "QEMU-KVM", "rate", None),
    ("listen", "start to listening", "ms", "QEMU-KVM", "time", ("max", 15.0)),
    ("loop", "guest loop, no stop", "k iter/s", "raw KVM", "rate", ("ratio", 0.98)),
]


def number(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def spread(values):
    if not values:
        return "-"
    return f"{number(min(values))} / {number(statistics.median(values))} / " \
           f"{number(max(values))}"


def table(ctx):
    """Rows of cells, and whether every target with figures was met."""
    tsc = ctx.samples.get(("tsc_hz", "raw KVM"))
    scale = {"loop": statistics.median(tsc) / 1e3 if tsc else None}
    header = ["operation", "unit", "hvgdb min / median / max", "peer", "peer min / median / max",
              "ratio", "target", "met"]
    rows, all_met = [header], True
    for key, label, unit, peer, kind, target in ROWS:
        if not any(k[0] == key for k in ctx.samples) and not any(k[0] == key
                                                                  for k in ctx.failures):
            continue  # not measured in this run
        factor = scale.get(key, 1.0)
        if factor is None:
            continue
        mine = [v * factor for v in ctx.samples.get((key, "hvgdb"), [])]
        theirs = [v * factor for v in ctx.samples.get((key, peer), [])]
        ratio = None
        if mine and theirs:
            a, b = statistics.median(mine), statistics.median(theirs)
            ratio = a / b if kind == "rate" else b / a
        peer_cell = spread(theirs) if theirs else \
            "fails: " + ctx.failures.get((key, peer), "not run")
        mine_cell = spread(mine) if mine else "fails: " + ctx.failures.get((key, "hvgdb"), "?")
        met, goal = None, "-"
        if target:
            what, x = target
            if what == "ratio":
                goal, met = f">= {x:g}x", ratio is not None and ratio >= x
            elif what == "max":
                goal, met = f"<= {x:g} {unit}", bool(mine) and statistics.median(mine) <= x
            else:
                goal, met = "hvgdb works", bool(mine) and (key, "hvgdb") not in ctx.failures
        all_met = all_met and met is not False
        rows.append([label, unit, mine_cell, peer, peer_cell,
                     f"{ratio:.2f}x" if ratio is not None else "-", goal,
                     "-" if met is None else "yes" if met else "NO"])
    return rows, all_met


def print_table(rows, markdown):
    if markdown:
        for i, r in enumerate(rows):
            print("| " + " | ".join(r) + " |")
            if i == 0:
                print("|" + "---|" * len(r))
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def version(argv):
    out = subprocess.run(argv + ["--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="bench build directory")
    ap.add_argument("--quick", action="store_true", help="2 rounds, small counts")
    ap.add_argument("--rounds", type=int, help="rounds (default 5, quick 2)")
    ap.add_argument("--only", help="rows to run, comma-separated: " +
                    ",".join(dict.fromkeys(r[0] for r in ROWS if r[0] != "listen")))
    ap.add_argument("--markdown", action="store_true", help="the table in Markdown")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 also when a target is missed (always: when hvgdb fails)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ap.add_argument("--gdb", default="gdb")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--hvgdb", help="another hvgdb executable (default: the build's), to "
                    "measure a change of the stub")
    ap.add_argument("--cpu", type=int, metavar="N",
                    help="run everything (gdb and every peer) on CPU N only: no wakeup "
                    "crosses CPUs, which takes the host's cross-CPU wakeup latency (dear in "
                    "a VM) and most of its noise out of the round trips, and leaves the "
                    "client's and the stub's own work")
    args = ap.parse_args()
    if args.cpu is not None:
        try:
            os.sched_setaffinity(0, {args.cpu})  # inherited by gdb and the peers
        except (OSError, ValueError) as e:
            ap.error(f"--cpu {args.cpu}: {e}")

    guest = os.path.join(args.build, "guest.elf")
    with tempfile.TemporaryDirectory(prefix="hvgdb-bench.") as work:
        ctx = Context(guest=guest, gdb=args.gdb,
                      raw_kvm=os.path.join(args.build, "bench_raw_kvm"),
                      peers=make_peers(args.build, guest, args.qemu, args.hvgdb),
                      symbols=guest_symbols(guest), work=work, verbose=not args.quiet,
                      only=args.only.split(",") if args.only else None)
        load = os.getloadavg()[0]
        chosen = measures(ctx, args.quick)
        rounds = args.rounds or (2 if args.quick else 5)
        for r in range(rounds):
            if ctx.verbose:
                print(f"round {r + 1}/{rounds}", file=sys.stderr, flush=True)
            for m in chosen:
                run_round(ctx, m, m.peers if r % 2 == 0 else list(reversed(m.peers)))
        rows, all_met = table(ctx)
    cpus = f"{os.cpu_count()} CPUs" + ("" if args.cpu is None else f", all on CPU {args.cpu}")
    print(f"{version([args.qemu])}; {version([args.gdb])}; {cpus}; "
          f"{rounds} rounds; load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    print("ratio: how many times faster hvgdb is than the peer (medians)")
    print_table(rows, args.markdown)
    hvgdb_failed = [f"{row}: {why}" for (row, peer), why in ctx.failures.items()
                    if peer == "hvgdb"]
    for line in hvgdb_failed:
        print(f"hvgdb FAILED {line}")
    return 1 if hvgdb_failed or (args.strict and not all_met) else 0


if __name__ == "__main__":
    sys.exit(main())
