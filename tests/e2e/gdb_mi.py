"""A second gdb, driven through GDB/MI by an end-to-end check, for what a script inside gdb
cannot do: non-stop mode, and the command sequences IDEs send (check_ide_mi.py).

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


_NAME = re.compile(r"[A-Za-z_][\w-]*")
_C_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


class _RecordReader:
    """Reads the results of one MI output record (gdb manual, "GDB/MI Output Syntax")."""

    def __init__(self, text, pos):
        self.text = text
        self.pos = pos

    def _fail(self, what):
        raise CheckFailed(f"malformed MI record, {what} at column {self.pos}: {self.text!r}")

    def _take(self, char):
        if not self.text.startswith(char, self.pos):
            self._fail(f"expected {char!r}")
        self.pos += 1

    def _next_is(self, char):
        return self.text.startswith(char, self.pos)

    def _name(self):
        m = _NAME.match(self.text, self.pos)
        if not m:
            self._fail("expected a variable name")
        self.pos = m.end()
        return m.group()

    def _items(self, close):
        """`name=value` results or bare values up to `close`, as (name or None, value)."""
        items = []
        if self._next_is(close):
            self.pos += 1
            return items
        while True:
            name = None
            if not self.text.startswith(('"', "{", "["), self.pos):
                name = self._name()
                self._take("=")
            items.append((name, self.value()))
            if self._next_is(close):
                self.pos += 1
                return items
            self._take(",")

    def value(self):
        if self._next_is('"'):
            m = _C_STRING.match(self.text, self.pos)
            if not m:
                self._fail("unterminated c-string")
            self.pos = m.end()
            return c_string(m.group(1))
        if self._next_is("{"):
            self.pos += 1
            items = self._items("}")
            if any(name is None for name, _ in items):
                self._fail("a tuple holds a value without a name")
            return dict(items)
        if self._next_is("["):
            self.pos += 1
            return [value for _, value in self._items("]")]
        self._fail("expected a value")

    def results(self):
        results = {}
        while self.pos < len(self.text):
            self._take(",")
            name = self._name()
            self._take("=")
            results[name] = self.value()
        return results


def parse_record(line):
    """An MI result or async record (`^done,...`, `*stopped,...`, `=thread-created,...`, with
    or without a leading token) as (class, results): the results a dict, tuples dicts, lists
    Python lists (a list of results such as `stack=[frame={...},frame={...}]` keeps the values),
    c-strings decoded.  Anything else fails the check."""
    m = re.match(r"\d*[\^*=+]([\w-]+)", line)
    if not m:
        raise CheckFailed(f"not an MI result or async record: {line!r}")
    return m.group(1), _RecordReader(line, m.end()).results()


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

    def results(self, text, timeout=None):
        """Runs an MI command; returns its result record's results, parsed (parse_record)."""
        return parse_record(self.command(text, timeout)[0])[1]

    def next_stop(self, what, timeout=None):
        """The results of the first *stopped record (kept or new), parsed."""
        return parse_record(self.wait_for(lambda r: r.startswith("*stopped"), what, timeout))[1]

    def run_to_stop(self, text, what, timeout=None):
        """Runs an execution command (-exec-continue, -exec-next, ...), which gdb answers with
        ^running, and returns the results of the *stopped record that ends it."""
        result, _ = self.command(text, timeout)
        if not result.startswith("^running"):
            raise CheckFailed(f"{text!r} answered {result!r}, expected ^running")
        return self.next_stop(what, timeout)

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

    def connect_as_ide(self, program):
        """What IDEs send to attach (VS Code's cppdbg, Eclipse CDT, cdt-gdb-adapter): MI in
        asynchronous mode, the program's symbols first, then -target-select.  Returns the
        results of the *stopped record that the connection reports."""
        self.command("-gdb-set mi-async on")
        self.command("-enable-pretty-printing")
        self.cli("set remotetimeout 10")
        self.command(f"-file-exec-and-symbols {_quoted(program)}")
        self.command(f"-target-select remote 127.0.0.1:{PORT}")
        return self.next_stop("the stop that -target-select reports")

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write(b"-gdb-exit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
