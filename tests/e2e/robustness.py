"""Robustness checks of hvgdb's server against clients that misbehave or leave at bad moments.

Run by run_robustness.sh inside gdb's embedded Python (`gdb -nx -batch -x robustness.py`), so
a fresh machine needs nothing beyond gdb: the clients here are raw sockets speaking the Remote
Serial Protocol, or gdb itself.  Each case is one ctest test, a regression test for a bug
hvgdb once had:

  hbreak_disconnect   a hardware breakpoint is inserted, the guest continued, and the client
                      disconnects before the guest reaches it: the vCPU used to livelock on the
                      stale debug register instead of running on to the guest's exit.
  flood_nak_small     a client that sends '-' (NAK, "send that again") or `m` requests without
  flood_nak_large     reading the replies used to make hvgdb queue output without bound.  RSS
  flood_m_small       must stay bounded and hvgdb must still serve the next debugger.  _small
  flood_m_large       floods ask for short replies, _large ones for the largest (64 KiB).
  no_wait_abandon     with --no-wait, a client that connects and at once closes or resets the
                      connection used to leave the guest stopped forever.
  detach_at_exit      the guest is stopped just before its exit port write; the client removes
                      the breakpoint and detaches; the guest exits at once.  hvgdb used to miss
                      that exit now and then and hang instead of exiting with its code.
  sigpipe             `hvgdb --no-wait IMAGE | head -c5`: the reader leaves, and the next
                      console write used to kill hvgdb with SIGPIPE.

The link level and bad packets, with the exact bytes hvgdb sends back:

  nak_retransmit      a bad checksum gets '-' and the retransmission its reply; '-' gets the
                      last reply again; in no-ack mode a bad checksum gets E01, not silence.
  oversize_packet     a 10 MiB packet gets E01, an endless one nothing, memory stays flat.
  garbage_and_bad_commands  noise, stray '$' '#' '}' '*', and malformed or unknown packets,
                      each answered (E01, E02, or empty) and followed by one that works.
  ctrl_c_mid_packet   0x03 is data inside X while stopped, and Ctrl-C while the guest runs
                      even after a stray '$' (it used to be swallowed as packet data).
  vanish_mid_packet   a client leaves halfway through a write: nothing of it lands, and the
                      next client finds the guest well.
  vanish_running      clients leave while the guest runs; it runs on, and the next attaches.

The session's life cycle (detach, disconnect, --on-detach, kill):

  attach_detach_cycles  1000 debuggers attach to a running guest and leave (D, close, with a
                      breakpoint or watchpoint inserted, stopped at one, while it runs): no
                      growth in hvgdb's file descriptors or memory; the guest goes on to its
                      exit.  Prints the figures and the time taken.
  reattach_run        a debugger leaves in every way (D or vanished; stopped, running,
  reattach_stop       mid-step, mid-packet, non-stop with threads running or one stopped) and
                      the next one gets a stop that agrees with the machine; with
                      --on-detach stop the guest has not moved in between.
  left_behind_run     breakpoints and watchpoints left inserted by a debugger that detaches
  left_behind_stop    or vanishes: the guest runs over every one of them to its exit (at once,
                      or after the next debugger's continue with --on-detach stop).
  kill_clean          k, vKill and `monitor quit` end hvgdb with 0 and no error line; SIGTERM
                      and SIGINT while the guest runs with 128 + the signal.

Environment in: ROBUST_HVGDB (the hvgdb binary), ROBUST_SAMPLES (the built samples folder),
ROBUST_CASE (one of the names above), ROBUST_WORK (an empty folder for images and logs).
Every wait has a timeout; everything listens and connects on 127.0.0.1 only.
"""

import os
import random
import select
import socket
import struct
import subprocess
import sys
import time
import traceback

import gdb

HVGDB = os.environ.get("ROBUST_HVGDB", "")
SAMPLES = os.environ.get("ROBUST_SAMPLES", "")
CASE = os.environ.get("ROBUST_CASE", "")
WORK = os.environ.get("ROBUST_WORK", "")

# How long hvgdb may take to exit once the guest has ended (the guests below end within about
# two seconds of running); generous for a loaded CI machine, short against a hang.
EXIT_TIMEOUT = 20


class CheckFailed(Exception):
    pass


class Skipped(Exception):
    """A case that cannot run here (a tool is missing): the test says SKIPPED and why."""


def log(text):
    sys.stdout.write(text.rstrip("\n") + "\n")
    sys.stdout.flush()


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


# ---- guest images ------------------------------------------------------------------------
#
# Small real-mode boot sectors, assembled here so that the timing of each scenario is under
# the test's control.  The guests wait on the time stamp counter (real time, whatever the
# host's speed) so that a client has time to act while the guest is known to be running.


def assemble(origin, program):
    """Machine code from a list of: bytes; "label:" strings; ("rel8", "label") for the 8-bit
    displacement of a short jump to that label (relative to the end of the displacement)."""
    labels = {}
    size = 0
    for item in program:  # first pass: where each label is
        if isinstance(item, str):
            labels[item.rstrip(":")] = origin + size
        else:
            size += 1 if isinstance(item, tuple) else len(item)
    code = bytearray()
    for item in program:
        if isinstance(item, str):
            continue
        if isinstance(item, tuple):
            displacement = labels[item[1]] - (origin + len(code) + 1)
            check(-128 <= displacement <= 127, f"short jump to {item[1]} out of range")
            code += struct.pack("<b", displacement)
        else:
            code += item
    return bytes(code), labels


def ticker_program(ticks, tick_cycles, exit_value):
    """Writes 'S', then one '.' every `tick_cycles` TSC cycles, `ticks` times, then 'E', then
    writes `exit_value` to the exit port (hvgdb exits with (exit_value << 1) | 1)."""
    return [
        "start:",
        b"\xb0\x53",                   # mov al, 'S'
        b"\xe6\xe9",                   # out 0xe9, al       (debug console)
        b"\xb9" + struct.pack("<H", ticks),  # mov cx, ticks
        "tick:",
        b"\x0f\x31",                   # rdtsc              edx:eax = now
        b"\x66\x89\xc6",               # mov esi, eax
        b"\x66\x89\xd7",               # mov edi, edx       edi:esi = start of this tick
        "wait:",
        b"\x0f\x31",                   # rdtsc
        b"\x66\x29\xf0",               # sub eax, esi
        b"\x66\x19\xfa",               # sbb edx, edi       edx:eax = cycles since the start
        b"\x75", ("rel8", "next"),     # jnz next           (2^32 cycles or more)
        b"\x66\x3d" + struct.pack("<I", tick_cycles),  # cmp eax, tick_cycles
        b"\x72", ("rel8", "wait"),     # jb wait
        "next:",
        b"\xb0\x2e",                   # mov al, '.'
        b"\xe6\xe9",                   # out 0xe9, al
        b"\xe2", ("rel8", "tick"),     # loop tick          (cx times)
        "done:",                       # the guest is about to end: hbreak_disconnect's target
        b"\xb0\x45",                   # mov al, 'E'
        b"\xe6\xe9",                   # out 0xe9, al
        b"\xb0" + bytes([exit_value]), # mov al, exit_value
        "exit:",
        b"\xe6\xf4",                   # out 0xf4, al       (the exit port)
        "halt:",
        b"\xf4",                       # hlt
        b"\xeb", ("rel8", "halt"),     # jmp halt           (only if the exit port is missing)
    ]


SPIN_PROGRAM = [
    "start:",
    b"\xb0\x53",                       # mov al, 'S'
    b"\xe6\xe9",                       # out 0xe9, al
    "spin:",
    b"\xeb", ("rel8", "spin"),         # jmp spin           (until the debugger kills it)
]


def boot_sector(name, program):
    """Writes a 512-byte boot sector (signature 55 AA) to WORK; returns (path, labels)."""
    code, labels = assemble(0x7C00, program)
    check(len(code) <= 510, "boot sector code too long")
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(code + bytes(510 - len(code)) + b"\x55\xaa")
    return path, labels


def exit_code(exit_value):
    return ((exit_value << 1) | 1) & 0xFF


# About 2^25 TSC cycles per tick: 8 to 30 ms on today's hosts (1 to 4 GHz TSC).
TICK_CYCLES = 1 << 25


# ---- hvgdb processes ---------------------------------------------------------------------

started = []  # every hvgdb this script started, ended in `finally` if still running


class Hvgdb:
    """One hvgdb process with its stderr (and the guest's console, unless `console_pipe`) in
    files under WORK."""

    count = 0

    def __init__(self, image, options=(), console_pipe=False, address_space_mib=None,
                 listen="127.0.0.1:0"):
        Hvgdb.count += 1
        tag = f"hvgdb{Hvgdb.count}"
        self.stderr_path = os.path.join(WORK, tag + ".stderr")
        self.serial_path = os.path.join(WORK, tag + ".serial")
        serial = ["--serial", "stdio"] if console_pipe else ["--serial", "file:" + self.serial_path]
        command = [HVGDB, "--gdb", listen, *serial, *options, image]
        if address_space_mib:
            # A flood that regresses must not take the machine down with it: hvgdb fails at
            # this size instead of growing on.
            command = ["sh", "-c", f'ulimit -v {address_space_mib * 1024} && exec "$@"', "sh",
                       *command]
        log(f"start: {' '.join(command)}")
        with open(self.stderr_path, "wb") as err:
            # restore_signals resets SIGPIPE to its default action in hvgdb, whatever gdb or
            # the caller does with it, as for a pipeline run from a shell prompt: the sigpipe
            # case depends on it.
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.PIPE if console_pipe
                                            else subprocess.DEVNULL,
                                            stderr=err, restore_signals=True)
        started.append(self)
        self.pid = self.process.pid  # hvgdb's own: the `sh` above execs it
        self.console_pipe = console_pipe

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def serial(self):
        try:
            with open(self.serial_path, "rb") as f:
                return f.read().decode("latin-1")
        except FileNotFoundError:
            return ""

    def listening(self, timeout=15):
        """What hvgdb's "hvgdb: listening on ..." line says, once it is there."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stderr().splitlines():
                if line.startswith("hvgdb: listening on "):
                    return line[len("hvgdb: listening on "):]
            if self.process.poll() is not None:
                raise CheckFailed(f"hvgdb exited with {self.process.returncode} before listening"
                                  f"\n{self.describe()}")
            time.sleep(0.02)
        raise CheckFailed(f"no 'listening on' line from hvgdb in {timeout}s\n{self.describe()}")

    def port(self, timeout=15):
        """The port from "hvgdb: listening on 127.0.0.1:PORT"."""
        where = self.listening(timeout)
        check(where.startswith("127.0.0.1:"), f"hvgdb listens on {where}, not 127.0.0.1")
        return int(where.rsplit(":", 1)[1].split()[0])

    def wait_exit(self, timeout=EXIT_TIMEOUT):
        """hvgdb's exit code, or None if it still runs after `timeout` seconds."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def expect_exit(self, expected, why, timeout=EXIT_TIMEOUT):
        code = self.wait_exit(timeout)
        if code is None:
            raise CheckFailed(f"hvgdb still runs {timeout}s after {why}; expected it to exit with"
                              f" code {expected}\n{self.describe()}")
        check(code == expected, f"hvgdb exited with code {code} after {why}, expected {expected}"
                                f"\n{self.describe()}")
        log(f"ok: hvgdb exited with code {code} after {why}")

    def alive(self):
        return self.process.poll() is None

    def rss_mib(self):
        """Resident set size in MiB (VmRSS in /proc/PID/status), or None once it has exited."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except (FileNotFoundError, ProcessLookupError):
            pass
        return None

    def end(self):
        """Stops hvgdb if it still runs: SIGTERM (hvgdb exits cleanly), then SIGKILL."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def describe(self):
        if self.console_pipe:
            return f"---- hvgdb stderr ----\n{self.stderr()}"
        serial = self.serial()
        if len(serial) > 400:
            serial = serial[:200] + f" ... ({len(serial)} bytes) ... " + serial[-200:]
        return f"---- hvgdb stderr ----\n{self.stderr()}---- serial ----\n{serial!r}"


# ---- a raw RSP client --------------------------------------------------------------------


def frame(payload):
    data = payload.encode("latin-1")
    return b"$" + data + b"#" + b"%02x" % (sum(data) & 0xFF)


def expand_runs(data):
    """A reply's run-length encoding undone (gdb manual, "Overview"): X '*' N is X and
    N - 29 more copies of it."""
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == ord("*") and out and i + 1 < len(data):
            out += out[-1:] * (data[i + 1] - 29)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


class Client:
    """A bare RSP client in ack mode; it sends what the test says and reads only when told."""

    def __init__(self, port, receive_buffer=None):
        """`port` on 127.0.0.1, or a unix socket's path."""
        unix = isinstance(port, str)
        self.sock = socket.socket(socket.AF_UNIX if unix else socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:
            # Before connect, so that the window offered to hvgdb is small from the start.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect(port if unix else ("127.0.0.1", port))
        self.buffer = b""

    def send(self, payload):
        self.sock.sendall(frame(payload))

    def reply(self, timeout=10):
        """The next packet's payload (acks skipped), or None on timeout or end of stream."""
        deadline = time.monotonic() + timeout
        while True:
            start = self.buffer.find(b"$")
            if start >= 0:
                end = self.buffer.find(b"#", start)
                if end >= 0 and len(self.buffer) >= end + 3:
                    payload = expand_runs(self.buffer[start + 1:end])
                    self.buffer = self.buffer[end + 3:]
                    return payload.decode("latin-1")
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                return None
            if not data:
                return None
            self.buffer += data

    def command(self, payload, timeout=10):
        self.send(payload)
        reply = self.reply(timeout)
        check(reply is not None, f"no reply to {payload!r} within {timeout}s")
        return reply

    def pending(self, timeout):
        """Whether anything arrives from hvgdb within `timeout` seconds (not consumed)."""
        if self.buffer.strip(b"+"):
            return True
        readable, _, _ = select.select([self.sock], [], [], timeout)
        if not readable:
            return False
        data = self.sock.recv(65536, socket.MSG_PEEK)
        return bool(data.strip(b"+")) or not data

    def close(self, reset=False):
        if reset:
            # SO_LINGER with a zero timeout: close sends RST instead of FIN.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def attach(port, **kwargs):
    """A client attached to a stopped guest (its `?` answered with a stop reply)."""
    client = Client(port, **kwargs)
    stop = client.command("?")
    check(stop.startswith(("T", "S")), f"'?' answered {stop!r}, expected a stop reply")
    return client


def wait_until(condition, timeout, what, hvgdb):
    deadline = time.monotonic() + timeout
    while not condition():
        check(time.monotonic() < deadline, f"no {what} within {timeout}s\n{hvgdb.describe()}")
        time.sleep(0.01)


# ---- the cases ---------------------------------------------------------------------------


def hbreak_disconnect():
    """Z1 at the guest's end, vCont;c, disconnect while the guest still ticks: the guest must
    run through the (now removed) breakpoint and exit."""
    image, labels = boot_sector("ticker.bin", ticker_program(ticks=60, tick_cycles=TICK_CYCLES,
                                                             exit_value=0x15))
    done = labels["done"]
    expected = exit_code(0x15)

    # First the control: with the client staying, the same breakpoint does stop the guest
    # (else the rounds below would pass without a breakpoint to go stale).
    hvgdb = Hvgdb(image)
    client = attach(hvgdb.port())
    check(client.command(f"Z1,{done:x},1") == "OK", "Z1 at done")
    client.send("vCont;c")
    stop = client.reply(15)
    eip = struct.pack("<I", done).hex()  # the stop reply's expedited eip, target byte order
    check(stop is not None and stop.startswith("T") and f":{eip};" in stop,
          f"no stop at the hardware breakpoint at {done:#x}: {stop!r}\n{hvgdb.describe()}")
    log(f"ok: the hardware breakpoint stops the guest: {stop}")
    client.close()
    hvgdb.expect_exit(expected, "a disconnect at the hardware breakpoint")

    for how in ("close", "reset"):
        hvgdb = Hvgdb(image)
        client = attach(hvgdb.port())
        check(client.command(f"Z1,{done:x},1") == "OK", "Z1 at done")
        client.send("vCont;c")
        # Leave once the guest is seen running (its first tick), long before its end.
        wait_until(lambda: "." in hvgdb.serial(), 10, "the guest's first tick", hvgdb)
        check(not client.pending(0), f"the guest stopped before the client left\n"
                                     f"{hvgdb.describe()}")
        client.close(reset=(how == "reset"))
        serial = hvgdb.serial()
        check("E" not in serial, f"the guest ended before the client left: {serial!r}")
        log(f"ok: disconnected ({how}) with the guest running, serial so far {serial!r}")
        hvgdb.expect_exit(expected, f"a disconnect ({how}) with a hardware breakpoint still "
                                    "ahead of the guest")
        check(hvgdb.serial().endswith("E"), f"the guest did not finish: {hvgdb.serial()!r}")


def flood(kind, reply_bytes):
    """A client floods hvgdb with NAKs or `m` requests and never reads; RSS stays bounded and,
    once it has left, the next client is served."""
    limit_mib = 200
    image, labels = boot_sector("spin.bin", SPIN_PROGRAM)
    # The cap is a safety net for the machine running the test, well above the limit checked.
    hvgdb = Hvgdb(image, address_space_mib=4096)
    port = hvgdb.port()
    client = attach(port)
    # `m` of N bytes is answered with 2N hex digits (hvgdb caps N at half its packet size).
    request = f"m{labels['start']:x},{reply_bytes:x}"
    reply = client.command(request)
    check(reply.startswith("b053e6e9"), f"{request} answered {reply[:40]!r}...")
    log(f"{request} is answered with {len(reply)} bytes")
    # The NAK flood needs a reply to be sent again: that last reply is the one to `m` above.
    unit = b"-" if kind == "nak" else frame(request)
    chunk = unit * max(1, 65536 // len(unit))
    client.sock.settimeout(0)  # never block: a server that stops reading makes sends fail
    sent = 0
    peak = 0.0
    stalled_since = None
    deadline = time.monotonic() + 8
    budget = 64 << 20  # bytes of flood at most
    while time.monotonic() < deadline and sent < budget:
        try:
            # From where the last (maybe partial) send ended: frames stay whole on the wire.
            sent += client.sock.send(chunk[sent % len(chunk):])
            stalled_since = None
        except BlockingIOError:
            # The socket buffers are full: hvgdb has stopped reading.  Keep watching for a
            # moment (its queue may still grow from what it has read) then stop.
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 2:
                break
            time.sleep(0.01)
        rss = hvgdb.rss_mib()
        if rss is None:
            break
        peak = max(peak, rss)
        check(rss < limit_mib, f"hvgdb's RSS reached {rss:.0f} MiB (limit {limit_mib}) with "
                               f"{sent} bytes of {kind} flood sent and no reply read"
                               f"\n{hvgdb.describe()}")
    log(f"flooded {sent} bytes ({sent // len(unit)} {'NAKs' if kind == 'nak' else 'requests'}); "
        f"hvgdb's RSS peaked at {peak:.0f} MiB")
    check(hvgdb.alive(), f"hvgdb died during the flood (code {hvgdb.process.returncode})\n"
                         f"{hvgdb.describe()}")
    # The flood's unread replies make this close a reset; hvgdb must take it as a detach.
    client.close()
    # The next debugger gets a stopped guest, a memory read and the kill it asks for.
    deadline = time.monotonic() + 15
    while True:
        try:
            second = attach(port)
            break
        except (CheckFailed, OSError) as e:
            # A connection may be refused while hvgdb still takes the flood's one down.
            check(time.monotonic() < deadline, f"hvgdb serves no new client after the flood: "
                                               f"{e}\n{hvgdb.describe()}")
            time.sleep(0.2)
    reply = second.command(f"m{labels['start']:x},4")
    check(reply == "b053e6e9", f"m after the flood answered {reply!r}")
    rss = hvgdb.rss_mib()
    log(f"ok: a new client is served after the flood; hvgdb's RSS is {rss:.0f} MiB")
    second.send("k")
    hvgdb.expect_exit(0, "k from the client after the flood")


def no_wait_abandon():
    """--no-wait: clients that connect and leave at once (FIN, or RST) must not leave the
    guest stopped: its ticks go on, and it exits with its code."""
    image, _ = boot_sector("ticker.bin", ticker_program(ticks=200, tick_cycles=TICK_CYCLES,
                                                        exit_value=0x16))
    hvgdb = Hvgdb(image, options=["--no-wait"])
    port = hvgdb.port()
    for round_ in range(1, 7):
        how = "reset" if round_ % 2 == 0 else "close"
        wait_until(lambda: "." in hvgdb.serial(), 10, "tick from the guest", hvgdb)
        check("E" not in hvgdb.serial(), f"the guest ended before round {round_}")
        Client(port).close(reset=(how == "reset"))
        # hvgdb stops the guest for the new client; once it sees the client gone the guest
        # must run on: a few more ticks (each well under 0.1 s) within a generous time.
        ticks = hvgdb.serial().count(".")
        wait_until(lambda: hvgdb.serial().count(".") >= ticks + 3, 5,
                   f"progress of the guest after a client connected and left ({how}), round"
                   f" {round_}", hvgdb)
        log(f"ok: round {round_}: the guest ticks on after a connect and {how}: "
            f"{hvgdb.serial().count('.')} ticks")
    hvgdb.expect_exit(exit_code(0x16), "the clients that connected and left at once")


def detach_at_exit():
    """Stopped at a breakpoint on the exit port write; z0 then D: the guest exits at once and
    hvgdb must exit with its code.  The window hvgdb used to miss is short (with gdb as the
    client the old hvgdb hung about once in 30 runs), so the scenario is repeated with gdb, and
    with a raw client that keeps that window open every time by reading its replies late."""
    image = os.path.join(SAMPLES, "hello64.elf")
    gdb.execute(f"file {image}", to_string=True)
    exit_to_host = int(gdb.parse_and_eval("(long) &exit_to_host"))
    expected = 43  # hello64's exit code unchanged (samples/hello64/hello64.c)
    for round_ in range(1, 21):
        # gdb: break on the exit port write, continue, delete, detach (sends z0 and D).
        hvgdb = Hvgdb(image)
        port = hvgdb.port()
        gdb.execute(f"target remote 127.0.0.1:{port}", to_string=True)
        gdb.execute("break *exit_to_host", to_string=True)
        gdb.execute("continue", to_string=True)
        pc = int(gdb.parse_and_eval("(long) $pc"))
        check(pc == exit_to_host, f"gdb stopped at {pc:#x}, not exit_to_host {exit_to_host:#x}")
        gdb.execute("delete", to_string=True)
        gdb.execute("detach", to_string=True)
        hvgdb.expect_exit(expected, f"gdb's detach at the exit port write (round {round_})")

        # A raw client whose receive window is full of replies to earlier requests when it
        # sends z0 and D: the guest's exit then comes while the OK to D is still queued, the
        # moment hvgdb used to miss.  (Backlog 0 is the plain case, as with gdb.)
        hvgdb = Hvgdb(image)
        client = attach(hvgdb.port(), receive_buffer=4096)
        check(client.command(f"Z0,{exit_to_host:x},1") == "OK", "Z0 at exit_to_host")
        client.send("vCont;c")
        stop = client.reply(10)
        check(stop is not None and stop.startswith("T"), f"no stop at exit_to_host: {stop!r}")
        check(client.command(f"z0,{exit_to_host:x},1") == "OK", "z0 at exit_to_host")
        backlog = round_ % 4 * 4  # 0, 4, 8 or 12 replies of 64 KiB ahead of the OK
        client.sock.sendall(frame(f"m{exit_to_host:x},8000") * backlog + frame("D"))
        time.sleep(0.2)
        # Read what comes.  hvgdb may end with the guest before it has sent everything (the
        # OK included): only its exit code matters here.
        replies = 0
        while replies <= backlog and client.reply(5) is not None:
            replies += 1
        client.close()
        hvgdb.expect_exit(expected, f"a raw client's z0 and D behind {backlog} unread replies"
                                    f" (round {round_}; {replies} replies came)")


def sigpipe():
    """`hvgdb --no-wait IMAGE | head -c5`: the reader takes 5 bytes and leaves while the guest
    still writes; hvgdb must carry on and exit with the guest's code."""
    image, _ = boot_sector("ticker.bin", ticker_program(ticks=30, tick_cycles=TICK_CYCLES,
                                                        exit_value=0x17))
    hvgdb = Hvgdb(image, options=["--no-wait"], console_pipe=True)
    head = b""
    deadline = time.monotonic() + 10
    while len(head) < 5 and time.monotonic() < deadline:
        readable, _, _ = select.select([hvgdb.process.stdout], [], [], 0.5)
        if readable:
            data = os.read(hvgdb.process.stdout.fileno(), 5 - len(head))
            if not data:
                break
            head += data
    hvgdb.process.stdout.close()
    check(len(head) == 5, f"read {head!r} from hvgdb's console, expected 5 bytes")
    # The guest writes 30 dots, one every 8 to 30 ms: at least 25 come after this close, and
    # the first of them used to end hvgdb with SIGPIPE.
    log(f"ok: read {head!r} and closed the pipe with the guest still writing")
    code = hvgdb.wait_exit()
    check(code is not None, f"hvgdb still runs {EXIT_TIMEOUT}s after its reader left\n"
                            f"{hvgdb.describe()}")
    check(code != -13, f"hvgdb was killed by SIGPIPE (a shell says 141)\n{hvgdb.describe()}")
    check(code == exit_code(0x17), f"hvgdb exited with code {code}, expected "
                                   f"{exit_code(0x17)}\n{hvgdb.describe()}")
    log(f"ok: hvgdb exited with the guest's code {code}")


# ---- the link level and bad packets: exact bytes on the wire -----------------------------


def expect_bytes(client, wire, timeout=10):
    """The next bytes from hvgdb are exactly `wire` (acks included); they are consumed."""
    deadline = time.monotonic() + timeout
    while len(client.buffer) < len(wire) and client.buffer == wire[:len(client.buffer)]:
        left = deadline - time.monotonic()
        check(left > 0, f"expected {wire[:80]!r}, got {client.buffer[:80]!r} in {timeout}s")
        client.sock.settimeout(left)
        try:
            data = client.sock.recv(65536)
        except socket.timeout:
            continue
        check(data, f"hvgdb closed the connection; expected {wire[:80]!r}, got "
                    f"{client.buffer[:80]!r}")
        client.buffer += data
    got, client.buffer = client.buffer[:len(wire)], client.buffer[len(wire):]
    check(got == wire, f"expected {wire[:80]!r}, got {got[:80]!r}")


def expect_silence(client, seconds):
    """hvgdb sends nothing at all (not even an ack) for `seconds`."""
    readable, _, _ = select.select([client.sock], [], [], seconds)
    data = client.sock.recv(65536, socket.MSG_PEEK) if readable else b""
    check(not client.buffer and not readable, f"expected silence, got "
                                              f"{(client.buffer + data)[:80]!r}")


def spin_attached():
    """hvgdb on the spinning guest, a raw client attached in ack mode, and the frames of a
    4-byte read of the guest's first instruction and of its exact reply."""
    image, labels = boot_sector("spin.bin", SPIN_PROGRAM)
    hvgdb = Hvgdb(image)
    client = attach(hvgdb.port())
    return hvgdb, client, frame(f"m{labels['start']:x},4"), frame("b053e6e9")


def nak_retransmit():
    """A bad checksum gets '-' and the retransmission its reply; '-' from the client gets the
    last reply again, byte for byte; in no-ack mode a bad checksum gets E01."""
    hvgdb, client, read, code = spin_attached()
    bad = read[:-2] + (b"00" if read[-2:] != b"00" else b"01")
    client.sock.sendall(bad)
    expect_bytes(client, b"-")
    client.sock.sendall(read)
    expect_bytes(client, b"+" + code)
    client.sock.sendall(b"-")
    expect_bytes(client, code)
    client.sock.sendall(b"---")
    expect_bytes(client, code * 3)
    # Checksum digits that are not hex; a packet cut short by the next one.
    client.sock.sendall(read[:-2] + b"zz")
    expect_bytes(client, b"-")
    client.sock.sendall(read[:-1] + read)
    expect_bytes(client, b"+" + code)
    log("ok: NAK, retransmission and resends in ack mode")
    client.sock.sendall(frame("QStartNoAckMode"))
    expect_bytes(client, b"+" + frame("OK"))
    client.sock.sendall(b"+" + bad)
    expect_bytes(client, frame("E01"))
    client.sock.sendall(b"-")  # nothing to resend without acks
    expect_silence(client, 0.3)
    client.sock.sendall(read)
    expect_bytes(client, code)
    log("ok: no-ack mode answers a bad checksum with E01")
    client.send("k")
    hvgdb.expect_exit(0, "k after the checksum errors")


def oversize_packet():
    """A 10 MiB packet gets E01 and a 16 MiB packet that never ends gets nothing, with
    hvgdb's memory flat; the packet after each is answered."""
    hvgdb, client, read, code = spin_attached()
    before = hvgdb.rss_mib()
    peak = before

    def send_watching(data):
        nonlocal peak
        for at in range(0, len(data), 1 << 20):
            client.sock.sendall(data[at:at + (1 << 20)])
            peak = max(peak, hvgdb.rss_mib() or 0)

    send_watching(frame("M500,1:" + "0" * (10 << 20)) + read)
    expect_bytes(client, b"+" + frame("E01") + b"+" + code, timeout=60)
    send_watching(b"$" + b"a" * (16 << 20))
    expect_silence(client, 0.5)
    client.sock.sendall(read)
    expect_bytes(client, b"+" + code)
    log(f"ok: 26 MiB of oversize packets; hvgdb's RSS {before:.1f} MiB before, "
        f"{peak:.1f} MiB at most while they came")
    check(peak - before < 8, f"hvgdb's RSS grew by {peak - before:.1f} MiB for packets it "
                             f"refuses\n{hvgdb.describe()}")
    client.send("k")
    hvgdb.expect_exit(0, "k after the oversize packets")


# Malformed, truncated and unknown packets, with their replies: E01 malformed, E02 no such
# thread or process, "" unknown.  tests/gdbstub/session_malformed_test.cpp has them all.
BAD_PACKETS = [
    ("m7c00", "E01"), ("m7c00,", "E01"), ("m10000000000000000,1", "E01"), ("m7c00,0", "E01"),
    ("M500,2:cc", "E01"), ("M500,1:c", "E01"), ("M500,1:zz", "E01"), ("X500,2:a", "E01"),
    ("pffff", "E01"), ("p10000", "E01"), ("P0=00", "E01"), ("G00", "E01"),
    ("Hg100000000", "E01"), ("Hg-2", "E01"), ("Hgp2.1", "E02"), ("Hg2", "E02"),
    ("Z0,500", "E01"), ("Z9,500,1", "E01"), ("vCont;x", "E01"), ("vCont;c:", "E01"),
    ("vCont;c:7", "E02"), ("C100", "E01"), ("qXfer:features:read:target.xml:", "E01"),
    ("qRcmd,6", "E01"), ("D;", "E01"), ("qFooBar", ""), ("QFooBar:1", ""), ("vFooBar", ""),
    ("", ""),
]


def garbage_and_bad_commands():
    """Noise between packets, stray framing characters, and each malformed or unknown packet
    answered exactly, with a normal packet answered after each; guest memory untouched."""
    hvgdb, client, read, code = spin_attached()
    scratch = client.command("m500,2")
    noise = bytes(b for b in random.Random(6).randbytes(64 * 1024) if b not in b"$+-\x03")
    client.sock.sendall(noise + read)
    expect_bytes(client, b"+" + code)
    client.sock.sendall(b"#}*" + b"$M500,2:cccc" + read)  # the '$' abandons the M
    expect_bytes(client, b"+" + code)
    client.sock.sendall(b"$M500,2:cccc#" + read)  # cut off at its checksum
    expect_bytes(client, b"+" + code)
    log("ok: noise and stray framing characters")
    for packet, reply in BAD_PACKETS:
        client.sock.sendall(frame(packet))
        expect_bytes(client, b"+" + frame(reply))
        client.sock.sendall(read)
        expect_bytes(client, b"+" + code)
    check(client.command("m500,2") == scratch, "guest memory changed by refused packets")
    log(f"ok: {len(BAD_PACKETS)} bad packets answered, each followed by a good one")
    client.send("k")
    hvgdb.expect_exit(0, "k after the bad packets")


def ctrl_c_mid_packet():
    """0x03 is data inside an X packet while the guest is stopped, and Ctrl-C while it runs,
    even after a stray '$' opened a packet; the guest then runs to its exit."""
    image, _ = boot_sector("ticker.bin", ticker_program(ticks=300, tick_cycles=TICK_CYCLES,
                                                        exit_value=0x18))
    hvgdb = Hvgdb(image)
    client = attach(hvgdb.port())
    client.sock.sendall(frame("X500,3:\x01\x03\x02"))
    expect_bytes(client, b"+" + frame("OK"))
    client.sock.sendall(frame("m500,3"))
    expect_bytes(client, b"+" + frame("010302"))
    client.sock.sendall(b"\x03")  # stopped: nothing to interrupt, nothing to answer
    expect_silence(client, 0.3)
    log("ok: 0x03 inside X is data, and alone while stopped is nothing")
    client.sock.sendall(frame("vCont;c"))
    expect_bytes(client, b"+")
    wait_until(lambda: "." in hvgdb.serial(), 10, "the guest's first tick", hvgdb)
    client.sock.sendall(b"$m7c00,")  # a packet that never ends...
    expect_silence(client, 0.3)
    client.sock.sendall(b"\x03")  # ...does not swallow Ctrl-C
    stop = client.reply(10)
    check(stop is not None and stop.startswith("T02"), f"Ctrl-C after a stray '$' answered "
                                                       f"{stop!r}\n{hvgdb.describe()}")
    ticks = hvgdb.serial().count(".")
    time.sleep(0.3)
    check(hvgdb.serial().count(".") == ticks, "the guest runs on after the Ctrl-C stop")
    log(f"ok: Ctrl-C inside a stray packet stopped the guest: {stop[:20]}... at {ticks} ticks")
    client.sock.sendall(frame("vCont;c"))
    expect_bytes(client, b"+")
    code = exit_code(0x18)
    expect_bytes(client, frame(f"W{code:02x}"), timeout=30)
    hvgdb.expect_exit(code, "the guest's exit after the Ctrl-C")


def vanish_mid_packet():
    """A client inserts a breakpoint and leaves in the middle of a memory write: nothing of
    the write lands, the breakpoint is gone, the guest runs on, and the next client finds it
    well and runs it to its exit."""
    image, labels = boot_sector("ticker.bin", ticker_program(ticks=150, tick_cycles=TICK_CYCLES,
                                                             exit_value=0x19))
    hvgdb = Hvgdb(image)
    port = hvgdb.port()
    first = attach(port)
    done = labels["done"]
    check(first.command(f"Z0,{done:x},1") == "OK", "Z0 at done")
    first.sock.sendall(b"$M7c00,4:90909090")
    time.sleep(0.1)
    first.close()
    wait_until(lambda: hvgdb.serial().count(".") >= 3, 10, "ticks after the client left", hvgdb)
    second = attach(port)
    check(second.command("m7c00,4") == "b053e6e9", "the half-sent write reached the guest")
    second.send("vCont;c")
    reply = second.reply(30)
    code = exit_code(0x19)
    check(reply == f"W{code:02x}", f"the next client's continue answered {reply!r}, expected "
                                   f"the exit (no stop at the gone breakpoint)\n{hvgdb.describe()}")
    hvgdb.expect_exit(code, "a client left mid-packet and the next ran the guest to its exit")


def vanish_running():
    """Clients leave while the guest runs (FIN, then RST in the middle of a packet); the guest
    ticks on with nobody attached, and the next client stops it, reads it, and runs it to
    its exit."""
    image, _ = boot_sector("ticker.bin", ticker_program(ticks=300, tick_cycles=TICK_CYCLES,
                                                        exit_value=0x1a))
    hvgdb = Hvgdb(image)
    port = hvgdb.port()
    for how in ("close", "reset"):
        client = attach(port)
        client.send("vCont;c")
        ticks = hvgdb.serial().count(".")
        wait_until(lambda: hvgdb.serial().count(".") >= ticks + 2, 10, "ticks while attached",
                   hvgdb)
        if how == "reset":
            client.sock.sendall(b"$m7c00,4")
        client.close(reset=(how == "reset"))
        ticks = hvgdb.serial().count(".")
        wait_until(lambda: hvgdb.serial().count(".") >= ticks + 3, 10,
                   f"ticks after the client left ({how})", hvgdb)
        check("E" not in hvgdb.serial(), "the guest ended too soon for this test")
        log(f"ok: the guest ticks on after a client left ({how}) while it ran")
    last = attach(port)
    check(last.command("m7c00,4") == "b053e6e9", "memory read after the clients left")
    last.send("vCont;c")
    reply = last.reply(30)
    code = exit_code(0x1a)
    check(reply == f"W{code:02x}", f"continue answered {reply!r}\n{hvgdb.describe()}")
    hvgdb.expect_exit(code, "clients that left while the guest ran")


# ---- session life cycle: detach, disconnect, --on-detach, kill ---------------------------

# The counter guest's memory: a word it increments in its loop, and a byte that tells it to
# end (the test writes it with M).  Both just above the boot sector.
COUNTER = 0x7E00
QUIT = 0x7E02


def counter_program(exit_value):
    """Writes 'S'; then loops, incrementing the word at COUNTER and writing a '.' every
    TICK_CYCLES TSC cycles, until the byte at QUIT is not 0; then writes 'E' and `exit_value`
    to the exit port.  `wait` (the increment) runs on every iteration: the breakpoint site."""
    return [
        "start:",
        b"\xb0\x53",                                      # mov al, 'S'
        b"\xe6\xe9",                                      # out 0xe9, al
        "tick:",
        b"\x0f\x31",                                      # rdtsc
        b"\x66\x89\xc6",                                  # mov esi, eax
        b"\x66\x89\xd7",                                  # mov edi, edx
        "wait:",
        b"\xff\x06" + struct.pack("<H", COUNTER),         # inc word [COUNTER]
        b"\x80\x3e" + struct.pack("<H", QUIT) + b"\x00",  # cmp byte [QUIT], 0
        b"\x75", ("rel8", "done"),                        # jne done
        b"\x0f\x31",                                      # rdtsc
        b"\x66\x29\xf0",                                  # sub eax, esi
        b"\x66\x19\xfa",                                  # sbb edx, edi
        b"\x75", ("rel8", "next"),                        # jnz next
        b"\x66\x3d" + struct.pack("<I", TICK_CYCLES),     # cmp eax, TICK_CYCLES
        b"\x72", ("rel8", "wait"),                        # jb wait
        "next:",
        b"\xb0\x2e",                                      # mov al, '.'
        b"\xe6\xe9",                                      # out 0xe9, al
        b"\xeb", ("rel8", "tick"),                        # jmp tick
        "done:",
        b"\xb0\x45",                                      # mov al, 'E'
        b"\xe6\xe9",                                      # out 0xe9, al
        b"\xb0" + bytes([exit_value]),                    # mov al, exit_value
        "exit:",
        b"\xe6\xf4",                                      # out 0xf4, al
        "halt:",
        b"\xf4",                                          # hlt
        b"\xeb", ("rel8", "halt"),                        # jmp halt
    ]


REFUSAL = "E.hvgdb serves one debugger at a time"


def connect(port, hvgdb, timeout=10):
    """A new debugger: qSupported, then '?'; returns (client, stop reply).  While hvgdb still
    takes the last one's connection down it refuses this one, which then tries again."""
    deadline = time.monotonic() + timeout
    while True:
        client = Client(port)
        client.send("qSupported:swbreak+;hwbreak+;vContSupported+")
        features = client.reply(5)
        if features is not None and not features.startswith(REFUSAL):
            stop = client.command("?")
            check(stop.startswith(("T", "S")), f"'?' answered {stop!r}\n{hvgdb.describe()}")
            return client, stop
        client.close()
        check(time.monotonic() < deadline, f"no new debugger served within {timeout}s (last "
                                           f"answer {features!r})\n{hvgdb.describe()}")
        time.sleep(0.005)


def leave(client, how, answered=True):
    """The debugger goes: "D" (its OK, unless not `answered`: the guest may end and hvgdb
    with it before the OK goes out; then hvgdb closes the connection), "close" (FIN) or
    "reset" (RST)."""
    if how == "D" and answered:
        check(client.command("D") == "OK", "D not answered OK")
        client.sock.settimeout(5)
        try:
            rest = client.sock.recv(65536)
        except socket.timeout:
            rest = None
        check(rest == b"", f"hvgdb did not close the connection after the OK to D: {rest!r}")
    elif how == "D":
        client.send("D")
    client.close(reset=(how == "reset"))


def stop_fields(stop):
    """A T stop reply's signal and its n:r fields as a dict."""
    fields = dict(part.split(":", 1) for part in stop[3:].split(";") if ":" in part)
    return int(stop[1:3], 16), fields


def register_value(hex_text):
    return int.from_bytes(bytes.fromhex(hex_text), "little")


def check_consistent(client, stop, hvgdb):
    """The stop a new debugger gets agrees with the machine: its thread exists, and the pc it
    expedites is what reading that thread's pc says.  Returns (signal, pc, fields)."""
    check(stop.startswith("T"), f"'?' answered {stop!r}")
    signal, fields = stop_fields(stop)
    check("thread" in fields, f"no thread in {stop!r}")
    check(client.command(f"Hg{fields['thread']}") == "OK", "Hg to the stop's thread")
    # pc is register 8 (eip) in every x86 view hvgdb gives a real-mode guest; see arch/.
    check("08" in fields, f"the stop reply {stop!r} expedites no pc")
    pc = register_value(fields["08"])
    read = client.command("p8")
    check(register_value(read) == pc, f"'?' says pc {pc:#x}, p8 says {read}\n{hvgdb.describe()}")
    return signal, pc, fields


def serial_progress(hvgdb, seconds):
    """How many bytes the guest writes to its console in `seconds`."""
    before = len(hvgdb.serial())
    time.sleep(seconds)
    return len(hvgdb.serial()) - before


def process_footprint(pid):
    """hvgdb's open file descriptors and resident memory in KiB."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return fds, rss


def attach_detach_cycles():
    """1000 debuggers attach to a running guest (--no-wait) and leave: D, a plain close, with a
    breakpoint or a watchpoint left inserted, stopped at one, or while the guest runs.  hvgdb's
    file descriptors and memory must not grow from cycle 100 to cycle 1000, and the guest must
    make progress all along and end with its code."""
    exit_value = 0x18
    image, labels = boot_sector("counter.bin", counter_program(exit_value))
    wait, done = labels["wait"], labels["done"]
    hvgdb = Hvgdb(image, options=["--no-wait"])
    port = hvgdb.port()
    wait_until(lambda: "." in hvgdb.serial(), 10, "the guest's first tick", hvgdb)
    started = time.monotonic()
    marks = {}
    for cycle in range(1, 1001):
        client, stop = connect(port, hvgdb)
        variant = "D" if cycle % 100 == 0 else ("D", "close", "break_D", "stopped_close",
                                                "watch_D", "running_close")[cycle % 6]
        if variant in ("break_D", "stopped_close"):
            check(client.command(f"Z0,{wait:x},1") == "OK", "Z0 at wait")
        if variant in ("stopped_close", "watch_D"):
            check(client.command(f"Z2,{COUNTER:x},2") == "OK", "Z2 on the counter")
        if variant in ("stopped_close", "watch_D"):
            client.send("vCont;c")
            hit = client.reply(10)
            check(hit is not None and hit.startswith("T05"), f"cycle {cycle}: no stop at the "
                  f"breakpoint or watchpoint: {hit!r}\n{hvgdb.describe()}")
        if variant == "running_close":
            check(client.command(f"Z0,{done:x},1") == "OK", "Z0 at done")
            client.send("vCont;c")
        leave(client, "D" if variant.endswith("D") else "close")
        if cycle in (100, 500, 1000):
            fds, rss = process_footprint(hvgdb.pid)
            marks[cycle] = (fds, rss, hvgdb.serial().count("."), time.monotonic() - started)
            log(f"after cycle {cycle}: {fds} fds, VmRSS {rss} KiB, {marks[cycle][2]} ticks, "
                f"{marks[cycle][3]:.1f} s")
    elapsed = time.monotonic() - started
    fds100, rss100, ticks100, _ = marks[100]
    fds1000, rss1000, ticks1000, _ = marks[1000]
    log(f"1000 attach/detach cycles in {elapsed:.1f} s ({elapsed:.2f} ms a cycle); fds "
        f"{fds100} -> {fds1000}, VmRSS {rss100} -> {rss1000} KiB ({rss1000 - rss100:+d} KiB)")
    check(fds1000 <= fds100, f"hvgdb's file descriptors grew from {fds100} to {fds1000}")
    check(rss1000 - rss100 <= 512, f"hvgdb's memory grew by {rss1000 - rss100} KiB over 900 "
                                   "cycles (allowed: 512 KiB)")
    check(ticks100 < marks[500][2] < ticks1000, f"the guest made no progress: ticks "
                                               f"{ticks100}, {marks[500][2]}, {ticks1000}")
    # The last debugger tells the guest to end, and leaves.
    client, _ = connect(port, hvgdb)
    check(client.command(f"M{QUIT:x},1:01") == "OK", "M to the quit flag")
    leave(client, "D")
    hvgdb.expect_exit(exit_code(exit_value), "1000 attach/detach cycles and a last detach")
    check(hvgdb.serial().endswith("E"), f"the guest did not finish: {hvgdb.serial()[-40:]!r}")


def reattach(on_detach):
    """With --on-detach run or stop, and two vCPUs: a debugger leaves in each way there is
    (D or a vanished connection, stopped at a breakpoint, running, mid-step, mid-packet, in
    non-stop mode with threads running or one stopped), and the next one attaches and gets a
    stop that agrees with the machine.  With run the guest runs in between; with stop it does
    not, and the next debugger finds it where the last one left it."""
    exit_value = 0x19
    image, labels = boot_sector("counter.bin", counter_program(exit_value))
    wait, done = labels["wait"], labels["done"]
    hvgdb = Hvgdb(image, options=["--cpus", "2", "--on-detach", on_detach])
    port = hvgdb.port()
    client, stop = connect(port, hvgdb)
    check_consistent(client, stop, hvgdb)
    stays = on_detach == "stop"

    def at_breakpoint():
        check(client.command(f"Z0,{wait:x},1") == "OK", "Z0 at wait")
        client.send("vCont;c")
        hit = client.reply(10)
        check(hit is not None and hit.startswith("T05") and "swbreak" in hit,
              f"no stop at the breakpoint: {hit!r}\n{hvgdb.describe()}")
        return check_consistent(client, hit, hvgdb)[1]

    def running():
        check(client.command(f"Z0,{done:x},1") == "OK", "Z0 at done")
        check(client.command(f"Z2,{COUNTER + 8:x},2") == "OK", "Z2 beside the counter")
        client.send("vCont;c")
        time.sleep(0.05)
        check(not client.pending(0), "the guest stopped while it should run")

    def non_stop():
        check(client.command("QNonStop:1") == "OK", "QNonStop:1")
        check(client.command("vCont;c") == "OK", "vCont;c in non-stop mode")

    def one_stopped():
        non_stop()
        check(client.command(f"Z0,{done:x},1") == "OK", "Z0 at done")
        client.sock.sendall(frame("vCont;t:1"))  # then an OK and a %Stop notification
        time.sleep(0.1)

    scenarios = [
        ("detach stopped at a breakpoint", at_breakpoint, "D"),
        ("vanish stopped at a breakpoint", at_breakpoint, "close"),
        ("vanish while running", running, "reset"),
        ("vanish mid-step", lambda: client.sock.sendall(frame("vCont;s:1")), "close"),
        ("vanish mid-packet", lambda: client.sock.sendall(f"$m{wait:x},4".encode()), "close"),
        ("detach in non-stop mode, threads running", non_stop, "D"),
        ("vanish in non-stop mode, one thread stopped", one_stopped, "close"),
    ]
    for name, prepare, how in scenarios:
        left_at = prepare()
        leave(client, how)
        time.sleep(0.3)  # the detach's stop, if any, is in
        progress = serial_progress(hvgdb, 0.5)
        if stays:
            check(progress == 0, f"{name}: the guest wrote {progress} bytes after the debugger "
                                 f"left, with --on-detach stop\n{hvgdb.describe()}")
        else:
            check(progress > 0, f"{name}: the guest did not run on after the debugger left"
                                f"\n{hvgdb.describe()}")
        client, stop = connect(port, hvgdb)
        signal, pc, fields = check_consistent(client, stop, hvgdb)
        check(not any(r in fields for r in ("swbreak", "hwbreak", "watch")),
              f"{name}: the new debugger is told of the old one's breakpoint: {stop!r}")
        if stays and left_at is not None:
            check(pc == left_at, f"{name}: the new debugger finds pc {pc:#x}, the last one left "
                                 f"it at {left_at:#x}")
        # Nothing of the last debugger's is in force: memory reads as the program, and a
        # short continue is not stopped by its breakpoints or watchpoints.
        log(f"ok: {name} ({on_detach}): the new debugger sees {stop[:3]} thread "
            f"{fields['thread']} at {pc:#x}; {progress} console bytes in between")
    # The last debugger lets the guest end: it runs over every former site and exits, and
    # the exit is the first stop this debugger hears of.
    check(client.command(f"M{QUIT:x},1:01") == "OK", "M to the quit flag")
    client.send("vCont;c")
    end = client.reply(10)
    check(end == f"W{exit_code(exit_value):02x}", f"the continue to the exit answered {end!r}"
                                                 f"\n{hvgdb.describe()}")
    hvgdb.expect_exit(exit_code(exit_value), "the last debugger's continue to the exit")


def left_behind(on_detach):
    """A debugger inserts software and hardware breakpoints and watchpoints on the guest's
    way to its exit, and leaves without removing them (D, FIN or RST).  With run the guest
    runs over every one of those places to its exit without stopping; with stop it stays
    where it is until the next debugger continues it, and that continue ends in the exit."""
    exit_value = 0x1A
    image, labels = boot_sector("counter.bin", counter_program(exit_value))
    for how in ("D", "close", "reset"):
        hvgdb = Hvgdb(image, options=["--on-detach", on_detach])
        port = hvgdb.port()
        client, stop = connect(port, hvgdb)
        for label in ("wait", "next", "done", "exit"):
            check(client.command(f"Z0,{labels[label]:x},1") == "OK", f"Z0 at {label}")
        check(client.command(f"Z1,{labels['halt']:x},1") == "OK", "Z1 at halt")
        check(client.command(f"Z2,{COUNTER:x},2") == "OK", "Z2 on the counter")
        check(client.command(f"Z3,{QUIT:x},1") == "OK", "Z3 on the quit flag")
        check(client.command(f"M{QUIT:x},1:01") == "OK", "M to the quit flag")
        client.send("vCont;c")
        hit = client.reply(10)
        check(hit is not None and hit.startswith("T05"), f"no stop at the first breakpoint or "
                                                         f"watchpoint: {hit!r}")
        _, pc, _ = check_consistent(client, hit, hvgdb)
        leave(client, how, answered=(on_detach == "stop"))
        if on_detach == "run":
            hvgdb.expect_exit(exit_code(exit_value), f"a {how} with 4 software breakpoints, a "
                                                      "hardware one and 2 watchpoints ahead")
        else:
            time.sleep(0.5)
            check(hvgdb.alive() and "E" not in hvgdb.serial(),
                  f"the guest ran on after a {how} with --on-detach stop\n{hvgdb.describe()}")
            client, stop = connect(port, hvgdb)
            _, now, _ = check_consistent(client, stop, hvgdb)
            check(now == pc, f"the guest moved from {pc:#x} to {now:#x} while no debugger was"
                             " attached")
            client.send("vCont;c")
            end = client.reply(10)
            check(end == f"W{exit_code(exit_value):02x}", f"the next debugger's continue "
                  f"answered {end!r}, not the exit\n{hvgdb.describe()}")
            hvgdb.expect_exit(exit_code(exit_value), f"a {how}, then the next debugger's "
                                                      "continue")
        check(hvgdb.serial().endswith("E"), f"the guest did not finish: {hvgdb.serial()!r}")
        if how != "D":
            check("removed what the debugger left in the guest: 4 software breakpoints"
                  in hvgdb.stderr(), f"no line about what hvgdb removed\n{hvgdb.describe()}")


def kill_clean():
    """k, vKill and `monitor quit` end hvgdb with code 0, stopped or (k) while the guest runs,
    with nothing on stderr but hvgdb's own notes; SIGTERM and SIGINT while the guest runs end
    it with 128 + the signal."""
    image, _ = boot_sector("counter.bin", counter_program(0x1B))
    # What hvgdb may say after its banner on the way out: anything else is an error line.
    notes = ("hvgdb: the guest is stopped at its first instruction", "hvgdb: debugger attached "
             "from 127.0.0.1:", "hvgdb: signal ")

    def check_stderr(hvgdb, why):
        lines = hvgdb.stderr().splitlines()
        banner_end = next((i for i, line in enumerate(lines)
                           if line.startswith("hvgdb: attach with:")), None)
        check(banner_end is not None, f"{why}: no banner\n{hvgdb.describe()}")
        for line in lines[banner_end + 1:]:
            check(line.startswith(notes), f"{why}: an unexpected line: {line!r}")

    for command, reply, run_first in (("k", None, False), ("k", None, True),
                                      ("vKill;1", "OK", False),
                                      ("qRcmd," + b"quit".hex(), "OK", False)):
        why = f"{command}{' while the guest runs' if run_first else ''}"
        hvgdb = Hvgdb(image)
        client, _ = connect(hvgdb.port(), hvgdb)
        if run_first:
            client.send("vCont;c")
            time.sleep(0.1)
        client.send(command)
        if reply is not None:
            answer = client.reply(5)
            while answer is not None and answer.startswith("O") and answer != "OK":
                answer = client.reply(5)
            check(answer == reply, f"{command} answered {answer!r}")
        hvgdb.expect_exit(0, why, timeout=10)
        check_stderr(hvgdb, why)
        client.close()
    for signal_number in (15, 2):
        hvgdb = Hvgdb(image, options=["--no-wait"])
        hvgdb.port()
        wait_until(lambda: "." in hvgdb.serial(), 10, "the guest's first tick", hvgdb)
        hvgdb.process.send_signal(signal_number)
        hvgdb.expect_exit(128 + signal_number, f"signal {signal_number} while the guest runs",
                          timeout=10)
        check(f"hvgdb: signal {signal_number}: shutting down" in hvgdb.stderr(),
              f"no line about the signal\n{hvgdb.describe()}")
        check_stderr(hvgdb, f"signal {signal_number}")


CASES = {
    "hbreak_disconnect": hbreak_disconnect,
    "flood_nak_small": lambda: flood("nak", 0x40),
    "flood_nak_large": lambda: flood("nak", 0x8000),
    "flood_m_small": lambda: flood("m", 0x40),
    "flood_m_large": lambda: flood("m", 0x8000),
    "no_wait_abandon": no_wait_abandon,
    "detach_at_exit": detach_at_exit,
    "sigpipe": sigpipe,
    "nak_retransmit": nak_retransmit,
    "oversize_packet": oversize_packet,
    "garbage_and_bad_commands": garbage_and_bad_commands,
    "ctrl_c_mid_packet": ctrl_c_mid_packet,
    "vanish_mid_packet": vanish_mid_packet,
    "vanish_running": vanish_running,
    "attach_detach_cycles": attach_detach_cycles,
    "reattach_run": lambda: reattach("run"),
    "reattach_stop": lambda: reattach("stop"),
    "left_behind_run": lambda: left_behind("run"),
    "left_behind_stop": lambda: left_behind("stop"),
    "kill_clean": kill_clean,
}


def main(cases=CASES, script="robustness"):
    log(f"{script}: case {CASE!r}, hvgdb {HVGDB}")
    status = 0
    try:
        check(CASE in cases, f"unknown case {CASE!r}; have {sorted(cases)}")
        gdb.execute("set confirm off")
        gdb.execute("set pagination off")
        cases[CASE]()
        log("PASSED")
    except Skipped as e:
        log(f"SKIPPED: {e}")
        status = 77
    except CheckFailed as e:
        log(f"FAILED: {e}")
        status = 1
    except Exception as e:  # gdb.error, OSError, a bug in this script: with the traceback
        log(f"FAILED: {type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stdout)
        status = 1
    finally:
        for hvgdb in started:
            hvgdb.end()
    sys.stdout.flush()
    gdb.execute(f"quit {status}")


# network.py imports the helpers above; gdb runs this file as __main__.
if __name__ == "__main__":
    main()
