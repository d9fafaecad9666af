"""A second gdb, driven through GDB/MI by an end-to-end check, for what a script inside gdb
cannot do: non-stop mode.

In non-stop mode gdb sends resumptions and handles each thread's stop in its event loop, and
that loop does not run while a Python script runs; a foreground command runs it only until the
first thread stops.  A gdb under the MI interpreter keeps its event loop running between
commands and reports every stop as a `*stopped` record, so the script here waits for exactly
the stops it expects.  CLI commands go through `-interpreter-exec console`, so the scenario
reads as the commands a user would type (`continue -a &`, `interrupt`, `info threads`).

Imported by check_*.py scripts that run inside gdb (see e2e.py); uses only the standard
library besides e2e.py.
"""

import codecs
import os
import re
import select
import subprocess
import time

from e2e import PORT, SYMBOLS, CheckFailed, elf_class, log

_FIELD = r'{}="((?:[^"\\]|\\.)*)"'


def c_string(text):
    """The value of an MI c-string body (without its quotes): \\n, \\", \\\\ and octal escapes."""
    return codecs.escape_decode(text.encode("latin-1"))[0].decode("utf-8", "replace")


def field(record, name):
    """The first `name="..."` field in an MI record, decoded, or None."""
    m = re.search(_FIELD.format(re.escape(name)), record)
    return c_string(m.group(1)) if m else None


def _quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MiGdb:
    """One `gdb --interpreter=mi3` process.  command() and cli() run one command each and
    return when gdb has answered it; asynchronous records (*stopped, *running, =thread-...)
    that arrive meanwhile are kept for wait_for()."""

    def __init__(self, timeout=30):
        self.timeout = timeout
        self.process = subprocess.Popen(
            [os.environ.get("E2E_GDB", "gdb"), "-nx", "-q", "--interpreter=mi3"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buffer = b""
        self.token = 0
        self.records = []
        deadline = time.monotonic() + timeout
        while (line := self._line(deadline)) != "(gdb)":
            if line is None:
                raise CheckFailed(f"no prompt from gdb/mi within {timeout}s")

    def _line(self, deadline):
        """The next output line, or None at the deadline.  The end of gdb's output fails."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self.process.stdout], [], [], left)
            if readable:
                data = os.read(self.process.stdout.fileno(), 65536)
                if not data:
                    raise CheckFailed(f"gdb/mi ended (exit code {self.process.poll()})")
                self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8", "replace").rstrip("\r").rstrip()

    def _keep(self, line, console):
        if line.startswith("~"):
            console.append(c_string(line[2:-1]))
        elif line[:1] in ("*", "="):
            log(f"(mi) {line}")
            self.records.append(line)

    def command(self, text, timeout=None):
        """Runs an MI command; returns its result record and the console output.  A ^error
        result fails the check with gdb's message."""
        self.token += 1
        token = str(self.token)
        log(f"(mi) {text}")
        self.process.stdin.write(f"{token}{text}\n".encode())
        self.process.stdin.flush()
        timeout = timeout or self.timeout
        deadline = time.monotonic() + timeout
        console = []
        while True:
            line = self._line(deadline)
            if line is None:
                raise CheckFailed(f"gdb/mi did not answer {text!r} within {timeout}s")
            if line.startswith(token + "^"):
                result = line[len(token):]
                break
            self._keep(line, console)
        output = "".join(console)
        if output:
            log(output.rstrip("\n"))
        if result.startswith("^error"):
            raise CheckFailed(f"{text!r} failed: {field(result, 'msg')}")
        return result, output

    def cli(self, text, timeout=None):
        """Runs a CLI command (`continue -a &`, `thread 2`) and returns what it printed."""
        return self.command(f"-interpreter-exec console {_quoted(text)}", timeout)[1]

    def value(self, expression):
        """An integer expression's value; memory reads work while threads run."""
        result, _ = self.command(f"-data-evaluate-expression {_quoted(expression)}")
        text = field(result, "value")
        try:
            return int(text.split()[0], 0)
        except (ValueError, IndexError, AttributeError):
            raise CheckFailed(f"{expression} is not an integer: {text!r}") from None

    def wait_for(self, predicate, what, timeout=None):
        """The first asynchronous record (kept or new) for which predicate(record) holds; the
        records before it stay kept."""
        for i, record in enumerate(self.records):
            if predicate(record):
                del self.records[i]
                return record
        timeout = timeout or self.timeout
        deadline = time.monotonic() + timeout
        while True:
            line = self._line(deadline)
            if line is None:
                raise CheckFailed(f"no {what} within {timeout}s")
            if line[:1] in ("*", "="):
                log(f"(mi) {line}")
                if predicate(line):
                    return line
                self.records.append(line)

    def stopped(self, thread, timeout=None):
        """Waits for the *stopped record of gdb thread `thread`; returns it."""
        return self.wait_for(
            lambda r: r.startswith("*stopped") and field(r, "thread-id") == str(thread),
            f"stop of thread {thread}", timeout)

    def connect(self, non_stop):
        """As e2e.connect(): target remote to hvgdb, then the symbols.  The records of the
        connection (the threads found stopped) are dropped."""
        self.command("-gdb-set confirm off")
        if non_stop:
            self.command("-gdb-set non-stop on")
        self.cli("set remotetimeout 10")
        self.command(f"-target-select remote 127.0.0.1:{PORT}")
        if elf_class(SYMBOLS) == 32 and "x86-64" in self.cli("show architecture"):
            self.cli("set architecture i386:x86-64")
        if elf_class(SYMBOLS) is not None:
            self.cli(f"file {SYMBOLS}")
        self.records.clear()

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write(b"-gdb-exit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
