"""Where hvgdb listens and who it lets in: unix sockets, one debugger at a time, connections
that say nothing, and addresses beyond loopback.

Run by run_robustness.sh with ROBUST_SCRIPT=network.py, inside gdb's embedded Python, with the
helpers of robustness.py (the hvgdb process wrapper, the raw RSP client, the boot-sector
guests).  The embedded gdb is the first debugger; second ones are gdb or lldb-16 processes.
Each case is one ctest test:

  unix_gdb          --gdb unix:PATH: the socket is mode 0600, gdb attaches with `target remote
                    PATH`, breaks, continues to the guest's exit; the file is gone after.
  unix_lldb         the same with lldb-16 (`process connect unix-connect://PATH`); SKIPPED
                    without lldb-16.
  unix_files        a socket left by a killed hvgdb (SIGKILL) is replaced; a second hvgdb on a
                    live socket, or on a path that is another file, exits with code 2 and one
                    line, the file untouched; SIGTERM, SIGINT and `k` each remove the socket.
  second_debugger   while gdb steps, a second gdb is refused with hvgdb's message (gdb prints
                    "Remote failure reply: E.hvgdb serves one debugger at a time, ..."), and an
                    lldb-16 as second gets a prompt error instead of a hang; the first gdb
                    steps on and runs the guest to its exit.
  bare_connect      with --no-wait, a TCP connection that sends nothing (and one that leaves
                    at once) does not stop the guest: it runs to its exit meanwhile.
  bare_timeout      a connection that sends nothing is closed after 10 s, with a log line, and
                    the next one attaches.
  allow_remote      --gdb 0.0.0.0:0 --allow-remote: the warning line, and a debugger served
                    (through 127.0.0.1).  Without --allow-remote: run_negative.sh
                    remote-address.

Everything connects through 127.0.0.1 or a unix socket in the work folder; allow_remote alone
listens on every address, on a port the kernel picks, for the few seconds it runs.
"""

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from robustness import (  # noqa: E402  (the path above first)
    SAMPLES, SPIN_PROGRAM, TICK_CYCLES, WORK, CheckFailed, Client, Hvgdb, Skipped, attach,
    boot_sector, check, exit_code, log, main, ticker_program, wait_until)

GDB = os.environ.get("E2E_GDB", "gdb")
LLDB = "lldb-16"
HELLO64 = os.path.join(SAMPLES, "hello64.elf")
HELLO64_EXIT = 43  # samples/hello64/hello64.c, unchanged
REFUSAL = "E.hvgdb serves one debugger at a time, and another one is attached"


def lldb_or_skip():
    if shutil.which(LLDB) is None:
        raise Skipped(f"{LLDB} is not installed (Debian: apt-get install lldb-16)")


def run_client(command, timeout=120):
    """A debugger run to its end; its output (stdout and stderr)."""
    log(f"run: {' '.join(command)}")
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        output = (e.output or b"").decode("utf-8", "replace")
        raise CheckFailed(f"{command[0]} still runs after {timeout}s:\n{output}")
    output = done.stdout.decode("utf-8", "replace")
    log(output.rstrip("\n"))
    return output


def gdb_run(command):
    return gdb.execute(command, to_string=True)


def socket_mode(path):
    st = os.lstat(path)
    check(stat.S_ISSOCK(st.st_mode), f"{path} is not a socket")
    return stat.S_IMODE(st.st_mode)


def start_on_unix_socket(path, image=HELLO64, options=()):
    """hvgdb listening on unix:PATH, its banner checked."""
    hvgdb = Hvgdb(image, options=options, listen="unix:" + path)
    where = hvgdb.listening()
    check(where == f"unix:{path} (mode 0600: only this user can connect)",
          f"listening on {where!r}")
    check(f"-ex 'target remote {path}'" in hvgdb.stderr(),
          f"no gdb attach line for {path}\n{hvgdb.describe()}")
    check(f"-o 'process connect unix-connect://{path}'" in hvgdb.stderr(),
          f"no lldb attach line for {path}\n{hvgdb.describe()}")
    mode = socket_mode(path)
    check(mode == 0o600, f"the socket's mode is {mode:o}, not 600")
    log(f"ok: listening on unix:{path}, mode {mode:o}")
    return hvgdb


def expect_gone(path, why):
    check(not os.path.lexists(path), f"{path} is still there after {why}")
    log(f"ok: {path} is gone after {why}")


def break_and_finish(why):
    """In the embedded gdb, attached to hello64 at its start: break in factorial, continue
    there, delete, continue to the guest's exit."""
    gdb_run("break factorial")
    gdb_run("continue")
    frame = gdb.selected_frame().name()
    check(frame == "factorial", f"stopped in {frame}, not factorial ({why})")
    gdb_run("delete")
    gdb_run("continue")
    log(f"ok: gdb stopped in factorial and continued to the exit ({why})")


# ---- the cases ---------------------------------------------------------------------------


def unix_gdb():
    path = os.path.join(WORK, "gdb.sock")
    hvgdb = start_on_unix_socket(path)
    gdb_run(f"file {HELLO64}")
    gdb_run(f"target remote {path}")
    break_and_finish("over a unix socket")
    hvgdb.expect_exit(HELLO64_EXIT, "gdb's continue to the exit over a unix socket")
    check(f"debugger attached from pid {os.getpid()} (gdb)" in hvgdb.stderr(),
          f"no log line naming gdb's process\n{hvgdb.describe()}")
    expect_gone(path, "the guest's exit")


def unix_lldb():
    lldb_or_skip()
    path = os.path.join(WORK, "lldb.sock")
    hvgdb = start_on_unix_socket(path)
    output = run_client([LLDB, "-b", HELLO64, "-o", f"process connect unix-connect://{path}",
                         "-o", "breakpoint set -n factorial", "-o", "continue",
                         "-o", "breakpoint delete 1", "-o", "continue"])
    check("stop reason = breakpoint 1.1" in output and "factorial(n=6)" in output,
          "lldb did not stop at the breakpoint in factorial")
    check(f"exited with status = {HELLO64_EXIT}" in output, "lldb did not see the guest's exit")
    hvgdb.expect_exit(HELLO64_EXIT, "lldb's continue to the exit over a unix socket")
    check("(lldb-16)" in hvgdb.stderr(), f"no log line naming lldb\n{hvgdb.describe()}")
    expect_gone(path, "the guest's exit")


def unix_files():
    image, _ = boot_sector("spin.bin", SPIN_PROGRAM)
    path = os.path.join(WORK, "hvgdb.sock")

    # A killed hvgdb cannot remove its socket; the next one replaces it.
    killed = start_on_unix_socket(path, image)
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait(timeout=10)
    check(os.path.lexists(path), "no socket file left by a killed hvgdb")
    hvgdb = start_on_unix_socket(path, image)
    check(f"hvgdb: replaced the stale socket {path}: nothing listened on it" in hvgdb.stderr(),
          f"no line about the stale socket\n{hvgdb.describe()}")
    log("ok: a killed hvgdb's socket is replaced")

    # A live socket, and a file that is not a socket, are refused.
    for target, why in ((path, "a server is listening there (another hvgdb?)"),
                        (os.path.join(WORK, "notes.txt"),
                         "the file exists and is not a socket; hvgdb does not replace it")):
        if not os.path.exists(target):
            with open(target, "w") as f:
                f.write("keep")
        before = os.lstat(target)
        refused = Hvgdb(image, listen="unix:" + target)
        refused.expect_exit(2, f"hvgdb on unix:{target}")
        lines = refused.stderr().splitlines()
        check(lines == [f"hvgdb: cannot listen on unix:{target}: {why}"],
              f"expected one line saying why, got {lines!r}")
        after = os.lstat(target)
        check((after.st_ino, after.st_mode) == (before.st_ino, before.st_mode),
              f"{target} was changed")
    with open(os.path.join(WORK, "notes.txt")) as f:
        check(f.read() == "keep", "the other file's content changed")
    log("ok: a live socket and another file are left alone, with exit code 2 and one line")

    # The live one still serves; SIGTERM ends it and removes its socket.
    client = attach(path)
    client.close()
    hvgdb.process.send_signal(signal.SIGTERM)
    hvgdb.expect_exit(128 + signal.SIGTERM, "SIGTERM")
    expect_gone(path, "SIGTERM")
    hvgdb = start_on_unix_socket(path, image, options=["--no-wait"])
    hvgdb.process.send_signal(signal.SIGINT)
    hvgdb.expect_exit(128 + signal.SIGINT, "SIGINT")
    expect_gone(path, "SIGINT")
    hvgdb = start_on_unix_socket(path, image)
    attach(path).send("k")
    hvgdb.expect_exit(0, "k")
    expect_gone(path, "k")


def second_debugger():
    hvgdb = Hvgdb(HELLO64)
    port = hvgdb.port()
    gdb_run(f"file {HELLO64}")
    gdb_run(f"target remote 127.0.0.1:{port}")
    pcs = [int(gdb.parse_and_eval("(long) $pc"))]

    output = run_client([GDB, "-nx", "-batch", "-ex", f"target remote 127.0.0.1:{port}"])
    check(f"Remote failure reply: {REFUSAL}" in output,
          f"the second gdb does not show hvgdb's refusal:\n{output}")
    log("ok: the second gdb shows why it was refused")
    gdb_run("stepi")
    pcs.append(int(gdb.parse_and_eval("(long) $pc")))
    refusals = 1
    if shutil.which(LLDB):
        # lldb shows no error text from a server while it connects; it must not hang.
        output = run_client([LLDB, "-b", "-o", f"gdb-remote 127.0.0.1:{port}"], timeout=60)
        check("error: Connection shut down by remote side while waiting for reply to initial "
              "handshake packet" in output,
              f"lldb-16 as the second debugger does not fail its handshake:\n{output}")
        refusals += 1
        log("ok: lldb-16 as the second debugger gets an error at once")
    else:
        log(f"note: {LLDB} is not installed; the second debugger is gdb only")
    gdb_run("stepi")
    pcs.append(int(gdb.parse_and_eval("(long) $pc")))
    check(pcs[0] < pcs[1] < pcs[2], f"the first gdb's steps did not move on: {pcs}")
    log(f"ok: the first gdb stepped on: pc {', '.join(hex(pc) for pc in pcs)}")
    break_and_finish("after the second debuggers were refused")
    hvgdb.expect_exit(HELLO64_EXIT, "the first gdb's continue to the exit")
    err = hvgdb.stderr()
    check(err.count("refused a second debugger from 127.0.0.1:") == refusals,
          f"expected {refusals} refusal lines\n{hvgdb.describe()}")
    check(err.count("debugger attached from") == 1, f"one debugger only\n{hvgdb.describe()}")


def bare_connect():
    image, _ = boot_sector("ticker.bin", ticker_program(ticks=150, tick_cycles=TICK_CYCLES,
                                                        exit_value=0x18))
    hvgdb = Hvgdb(image, options=["--no-wait"])
    port = hvgdb.port()
    wait_until(lambda: "." in hvgdb.serial(), 10, "the guest's first tick", hvgdb)
    bare = socket.create_connection(("127.0.0.1", port), timeout=10)
    Client(port).close()
    Client(port).close(reset=True)
    ticks = hvgdb.serial().count(".")
    wait_until(lambda: hvgdb.serial().count(".") >= ticks + 5, 5,
               "ticks while a connection that sends nothing is open", hvgdb)
    log(f"ok: the guest ticks on with a silent connection open: {hvgdb.serial().count('.')} "
        "ticks")
    hvgdb.expect_exit(exit_code(0x18), "the guest's end with a silent connection open")
    check(hvgdb.serial().endswith("E"), f"the guest did not finish: {hvgdb.serial()!r}")
    check("debugger attached" not in hvgdb.stderr(), f"a silent connection attached\n"
                                                     f"{hvgdb.describe()}")
    bare.settimeout(5)
    check(bare.recv(100) == b"", "hvgdb sent something to a connection that sent nothing")
    bare.close()


def bare_timeout():
    image, _ = boot_sector("spin.bin", SPIN_PROGRAM)
    hvgdb = Hvgdb(image, options=["--no-wait"])
    port = hvgdb.port()
    bare = socket.create_connection(("127.0.0.1", port), timeout=20)
    local = bare.getsockname()
    start = time.monotonic()
    data = bare.recv(100)
    waited = time.monotonic() - start
    check(data == b"", f"hvgdb sent {data!r} to a connection that sent nothing")
    check(8 < waited < 15, f"the silent connection was closed after {waited:.1f}s, not 10")
    line = f"hvgdb: closed the connection from {local[0]}:{local[1]}: it sent nothing in 10 s"
    wait_until(lambda: line in hvgdb.stderr(), 5, "the line about the silent connection",
               hvgdb)
    log(f"ok: hvgdb closed the silent connection after {waited:.1f}s")
    client = attach(port)
    client.send("k")
    hvgdb.expect_exit(0, "k from the debugger after the silent connection")


def allow_remote():
    image, _ = boot_sector("spin.bin", SPIN_PROGRAM)
    hvgdb = Hvgdb(image, options=["--allow-remote"], listen="0.0.0.0:0")
    where = hvgdb.listening()
    check(where.startswith("0.0.0.0:"), f"listening on {where!r}")
    port = int(where.rsplit(":", 1)[1])
    warning = (f"hvgdb: warning: listening on {where}, not loopback (--allow-remote): anyone who "
               "can reach it can read and write guest memory and run code in the guest; the "
               "protocol has no authentication")
    check(warning in hvgdb.stderr().splitlines(), f"no warning line\n{hvgdb.describe()}")
    log("ok: --allow-remote warns")
    attach(port).send("k")
    hvgdb.expect_exit(0, "k over the address beyond loopback")


CASES = {
    "unix_gdb": unix_gdb,
    "unix_lldb": unix_lldb,
    "unix_files": unix_files,
    "second_debugger": second_debugger,
    "bare_connect": bare_connect,
    "bare_timeout": bare_timeout,
    "allow_remote": allow_remote,
}


main(CASES, "network")
