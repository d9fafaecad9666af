#!/usr/bin/env python3
"""Where hvgdb's own time goes per operation: bench/run --profile.

For each operation of the bench (stepi, hbreak and break round trips, register reads after a
cache flush, a 16 MiB dump):
- per operation, for hvgdb and the QEMU it is compared with, without a profiler: the wall
  time gdb sees, gdb's CPU time and the stub's CPU time (all threads, user and system, from
  wait4): a session of N operations less one of N/5, over 4N/5, so start-up, boot and attach
  cancel out;
- where hvgdb's time goes: the same session under `perf record -e cpu-clock --call-graph
  dwarf`, each sample put in the first category that a frame of its call chain matches, from
  the leaf up (a memcpy called by the RSP writer counts for the writer), split by thread
  (hvgdb: the network thread; vcpu0: the vCPU's).
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

import bench

# (category, pattern on a frame's symbol), tried in this order on each frame.
CATEGORIES = [
    ("KVM_RUN (guest, VM exits)", r"kvm_arch_vcpu_ioctl_run|Vcpu::run\b|Vcpu::finish_instruction"),
    ("other KVM ioctls (registers, debug controls)",
     r"kvm_arch_vcpu_ioctl|kvm_vcpu_ioctl|kvm_vm_ioctl|hvgdb::vcpu::Vcpu::"),
    ("socket I/O (send, recv)",
     r"tcp_|sock_|inet_|__sys_sendto|__sys_recvfrom|sendmsg|recvmsg|__libc_send|__libc_recv"),
    ("thread handoffs (futex, epoll, scheduler)",
     r"futex|pthread_cond|pthread_mutex|__lll_|epoll|schedule|finish_task_switch|"
     r"try_to_wake_up|condition_variable"),
    ("RSP codec, parsers, writer", r"hvgdb::gdbstub::protocol::"),
    ("Asio", r"asio::|hvgdb::gdbstub::Server"),
    ("session (gdbstub/session)", r"hvgdb::gdbstub::"),
    ("adapter (app/)", r"hvgdb::app::"),
    ("machine (vcpu/)", r"hvgdb::vcpu::"),
    ("start-up (loader, dynamic linker, probe)", r"hvgdb::loader::|_dl_|dl_main|probe_host"),
]
COMPILED = [(name, re.compile(p)) for name, p in CATEGORIES]


def categorize(frames):
    """frames: [(symbol, dso)] from the leaf up."""
    for symbol, _ in frames:
        for name, pattern in COMPILED:
            if pattern.search(symbol):
                return name
    dso = frames[0][1] if frames else "?"
    return "kernel, other" if "kernel" in dso else f"other ({os.path.basename(dso)})"


def samples(perf_data):
    """(thread name, period in ns, category) for each sample of `perf script`."""
    out = subprocess.run(["perf", "script", "-i", perf_data, "-F", "comm,period,ip,sym,dso"],
                         capture_output=True, text=True, check=True).stdout
    for block in out.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if not lines:
            continue
        head = lines[0].split()
        frames = []
        for line in lines[1:]:
            m = re.match(r"\s*[0-9a-f]+ (.*) \((.*)\)$", line)
            if m:
                frames.append((m[1], m[2]))
        yield head[0], int(head[1]), categorize(frames)


def marginal(ctx, peer, op, count, scale):
    """(wall, gdb's CPU, the peer's CPU) per operation, in seconds: a session of `count` less
    one of count/5, so start-up, boot and attach cancel out."""
    small = max(1, count // 5)
    runs = {}
    for n in (count, small):
        result, _, usage = bench.gdb_session(ctx, peer, op, n, 600)
        if "error" in result:
            raise RuntimeError(f"{peer.name}: {result['error']}")
        runs[n] = (result["seconds"], result["gdb_cpu"], bench.cpu_seconds(usage))
    ops = (count - small) * scale
    return [(big - little) / ops for big, little in zip(runs[count], runs[small])]


def breakdown(ctx, op, count, work):
    """hvgdb's CPU under perf: {category: share}, {thread: share}."""
    data = os.path.join(work, f"{op}.perf")
    result, _, _ = bench.gdb_session(
        ctx, ctx.peers["hvgdb"], op, count, 600,
        prefix=["perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "--call-graph",
                "dwarf", "-o", data, "--"])
    if "error" in result:
        raise RuntimeError(result["error"])
    by_category, by_thread = collections.Counter(), collections.Counter()
    for thread, period, category in samples(data):
        by_category[category] += period
        by_thread[thread] += period
    total = sum(by_category.values()) or 1
    return ({c: p / total for c, p in by_category.most_common()},
            {t: p / total for t, p in by_thread.most_common()})


def profile(ctx, op, count, unit, peers, work):
    scale = 1 / bench.MIB if op == "dump" else 1  # a dump counts in MiB
    print(f"{op}, per {unit}:{'wall':>13}{'gdb CPU':>11}{'stub CPU':>11}")
    costs = {}
    for name in peers:
        costs[name] = marginal(ctx, ctx.peers[name], op, count, scale)
        print(f"  {name:16}" + "".join(f"{v * 1e6:8,.0f} us" for v in costs[name]))
    categories, threads = breakdown(ctx, op, count, work)
    stub = costs["hvgdb"][2]
    print("  hvgdb's CPU by thread: " +
          ", ".join(f"{t} {100 * share:.0f}%" for t, share in threads.items()))
    for category, share in categories.items():
        if share >= 0.01:
            print(f"    {100 * share:5.1f}%  {share * stub * 1e6:7.1f} us  {category}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--only", help="operations, comma-separated: stepi,hw_break,sw_break,"
                    "registers,dump")
    ap.add_argument("--gdb", default="gdb")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--hvgdb", help="another hvgdb executable (default: the build's)")
    args = ap.parse_args()
    guest = os.path.join(args.build, "guest.elf")
    kvm = ["hvgdb", "QEMU-KVM"]
    plan = [("stepi", 2000, "step", kvm), ("hw_break", 1000, "trip", kvm),
            ("sw_break", 1000, "trip", ["hvgdb", "QEMU-TCG"]),
            ("registers", 1000, "read", kvm), ("dump", 16 * bench.MIB, "MiB", kvm)]
    with tempfile.TemporaryDirectory(prefix="hvgdb-profile.") as work:
        ctx = bench.Context(guest=guest, gdb=args.gdb, raw_kvm="", work=work,
                            peers=bench.make_peers(args.build, guest, args.qemu, args.hvgdb),
                            symbols=bench.guest_symbols(guest))
        print(f"load average {os.getloadavg()[0]:.1f}; per operation: the marginal cost (a "
              "session of N less one of N/5); hvgdb's shares: of its whole profiled session")
        for op, count, unit, peers in plan:
            if args.only and op not in args.only.split(","):
                continue
            profile(ctx, op, count, unit, peers, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
