"""Helpers for hvgdb's end-to-end checks: gdb Python scripts run by run_e2e.sh.

Runs inside gdb's embedded Python only (`gdb -batch -nx -x check_*.py`); needs nothing else.
run_e2e.sh passes, in the environment:
  E2E_PORT      hvgdb's gdb port on 127.0.0.1
  E2E_IMAGE     the image hvgdb runs
  E2E_SYMBOLS   the ELF gdb loads symbols from (the image itself for ELF guests)
  E2E_SERIAL    the file hvgdb writes the guest's serial/debug-console output to
  E2E_STATE     a file this script appends expectations to, for run_e2e.sh to check after
                hvgdb has exited: "exit N", "serial TEXT", "no-serial TEXT", "log TEXT"
                (in hvgdb's stderr), "reattach" (run the script again as the next phase),
                "pass PHASE" (this phase succeeded)
  E2E_PHASE     1 for the first gdb session, 2 after a "reattach", ...
  E2E_SCENARIO  which scenario of the script to run
  E2E_LOG       hvgdb's stderr so far: its start-up lines ("hvgdb: ...")
  E2E_HVGDB_PID hvgdb's process id
"""

import os
import re
import struct
import sys
import tempfile
import time
import traceback

import gdb

# The checks, also for the check_*.py scripts that import them from here.
from checks import CheckFailed, check, check_equal, check_in, fmt, log  # noqa: F401

PORT = int(os.environ.get("E2E_PORT", "1234"))
IMAGE = os.environ.get("E2E_IMAGE", "")
SYMBOLS = os.environ.get("E2E_SYMBOLS", IMAGE)
SERIAL = os.environ.get("E2E_SERIAL", "")
STATE = os.environ.get("E2E_STATE", "")
PHASE = int(os.environ.get("E2E_PHASE", "1"))
SCENARIO = os.environ.get("E2E_SCENARIO", "")
LOG = os.environ.get("E2E_LOG", "")
HVGDB_PID = int(os.environ.get("E2E_HVGDB_PID", "0"))


def run(command):
    """Runs a gdb command, logs it with its output, and returns the output."""
    log(f"(gdb) {command}")
    output = gdb.execute(command, to_string=True)
    if output:
        log(output.rstrip("\n"))
    return output


def run_stop(command, stderr=False):
    """Runs an execution command (continue, step) and returns what gdb printed about the stop,
    such as "Hardware watchpoint 1: counter / Old value = 0 / New value = 1", which
    gdb.execute(to_string=True) does not capture: gdb's standard output is sent to a file
    meanwhile.  stderr=True takes gdb's standard error into the same file, in order (gdb
    prints the target's console output, O packets, there)."""
    log(f"(gdb) {command}")
    gdb.flush()
    fds = (1, 2) if stderr else (1,)
    saved = [os.dup(fd) for fd in fds]
    with tempfile.TemporaryFile() as captured:
        for fd in fds:
            os.dup2(captured.fileno(), fd)
        try:
            gdb.execute(command)
        finally:
            gdb.flush()
            for fd, copy in zip(fds, saved):
                os.dup2(copy, fd)
                os.close(copy)
        captured.seek(0)
        output = captured.read().decode(errors="replace")
    if output:
        log(output.rstrip("\n"))
    return output


def value(expression):
    """An integer gdb expression ($pc, counter, *(short*)0x7c7e) as a Python int."""
    result = gdb.parse_and_eval(expression)
    if result.type.strip_typedefs().code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_FLAGS,
                                             gdb.TYPE_CODE_BOOL, gdb.TYPE_CODE_CHAR,
                                             gdb.TYPE_CODE_ENUM):
        return int(result)
    return int(result.cast(gdb.lookup_type("long long")))  # pointers, code addresses


def uvalue(expression, bits=64):
    return value(expression) & ((1 << bits) - 1)


def address_of(symbol):
    return uvalue(f"&{symbol}")


def has_register(name):
    """Whether the target description (or gdb's pseudo-registers) has register `name`."""
    try:
        gdb.selected_frame().read_register(name)
        return True
    except ValueError:
        return False


def frame_name():
    return gdb.selected_frame().name()


def pc():
    return uvalue("$pc")


def elf_entry(path):
    """e_entry of an ELF file, read from its header (EI_CLASS picks the 32- or 64-bit layout)."""
    with open(path, "rb") as f:
        header = f.read(64)
    check(header[:4] == b"\x7fELF", f"{path} is not an ELF file")
    if header[4] == 2:  # ELFCLASS64: e_entry is the u64 at offset 24
        return struct.unpack_from("<Q", header, 24)[0]
    return struct.unpack_from("<I", header, 24)[0]


def source_line(marker, symbol="kmain"):
    """Line number of the comment "E2E: <marker>" in the source file that defines `symbol`."""
    sym = gdb.lookup_global_symbol(symbol) or gdb.lookup_symbol(symbol)[0]
    check(sym is not None and sym.symtab is not None, f"no symbol {symbol} with a source file")
    path = sym.symtab.fullname()
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            if re.search(rf"E2E: {re.escape(marker)}\b", line):
                return f"{os.path.basename(path)}:{number}"
    raise CheckFailed(f"marker 'E2E: {marker}' not found in {path}")


def elf_class(path):
    """32 or 64 for an ELF file, None for anything else (a raw boot sector)."""
    with open(path, "rb") as f:
        header = f.read(5)
    if header[:4] != b"\x7fELF":
        return None
    return 64 if header[4] == 2 else 32


def connect():
    """target remote to hvgdb, then loads the symbols; the guest is stopped when this returns.

    The symbols come second so that the server's target description picks the architecture:
    gdb rejects an x86-64 description while an ELF32 file is loaded ("Selected architecture
    i386 is not compatible"), and a server may describe a 32-bit or real-mode guest as x86-64.
    Then gdb has to be told the architecture before it accepts the ELF32 file."""
    run("set remotetimeout 10")
    run(f"target remote 127.0.0.1:{PORT}")
    arch = run("show architecture")
    if elf_class(SYMBOLS) == 32 and "x86-64" in arch:
        log("note: the server describes this 32-bit guest as x86-64; loading ELF32 symbols "
            "with the architecture set to i386:x86-64")
        run("set architecture i386:x86-64")
    if elf_class(SYMBOLS) is not None:
        run(f"file {SYMBOLS}")
        log(f"symbols loaded: _start at {address_of('_start'):#x}")


def serial_output():
    try:
        with open(SERIAL, "rb") as f:
            return f.read().decode("latin-1")
    except FileNotFoundError:
        return ""


def hvgdb_log():
    """What hvgdb has written to its stderr so far (the banner, notices)."""
    try:
        with open(LOG, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_for_serial(text, seconds=10):
    """Waits until the guest has written `text` to the serial file (the guest runs meanwhile)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in serial_output():
            log(f"ok: serial output contains {text!r}")
            return
        time.sleep(0.05)
    raise CheckFailed(f"serial output has no {text!r} after {seconds}s: {serial_output()!r}")


def cannot_access(command, address, what):
    """`command` must fail with gdb's error for memory it cannot access at `address`."""
    try:
        output = run(command)
    except gdb.error as e:
        check_in(f"Cannot access memory at address {address:#x}", str(e), what)
        return
    raise CheckFailed(f"{what}: {command!r} succeeded: {output!r}")


def packet_sent(prefix):
    """Whether gdb has sent a packet that starts with `prefix`, by hvgdb's --log-packets lines
    ("hvgdb: < PAYLOAD")."""
    return any(line.startswith(f"hvgdb: < {prefix}") for line in hvgdb_log().splitlines())


def info_mem():
    """The memory regions gdb uses, from `info mem`: (low, high, "rw" or "ro") each, in order.
    gdb shows the end of a range that reaches the top of the address space as the end of the
    view's address width (0x100000000 in a 32-bit view)."""
    listed = re.findall(r"^\d+\s+y\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(r[ow])\b",
                        run("info mem"), re.MULTILINE)
    return [(int(low, 16), int(high, 16), attrs) for low, high, attrs in listed]


def set_breakpoint(command):
    """Runs a break/hbreak/watch command and returns the new breakpoint's number."""
    run(command)
    return value("$bpnum")


def continue_to_exit(expected_code):
    """continue until the guest ends; gdb must see the exit (W packet) with expected_code."""
    output = run("continue")
    code = gdb.convenience_variable("_exitcode")
    check(code is not None, f"gdb saw no exit (no $_exitcode); continue said: {output!r}")
    check_equal(int(code), expected_code, "$_exitcode after the guest exited")
    expect_exit(expected_code)


def finish_value(expected):
    """finish; the returned value, from the output or else from gdb's value history."""
    output = run("finish")
    m = re.search(r"Value returned is \$\d+ = (-?\d+)", output)
    if m:
        check_equal(int(m.group(1)), expected, "value returned by finish")
    else:
        check_equal(int(gdb.history(0)), expected, "value returned by finish ($)")
    return output


def _state(line):
    with open(STATE, "a") as f:
        f.write(line + "\n")


def expect_exit(code):
    _state(f"exit {code}")


def expect_serial(text):
    """The serial output must contain `text` (one line's worth: a trailing newline is dropped)."""
    _state(f"serial {text.rstrip(chr(10))}")


def expect_no_serial(text):
    _state(f"no-serial {text.rstrip(chr(10))}")


def expect_log(text):
    """hvgdb's own output (its stderr, "hvgdb: ..." lines) must contain `text`."""
    _state(f"log {text}")


def request_reattach():
    _state("reattach")


def main(scenarios):
    """Runs scenarios[E2E_SCENARIO]() and quits gdb with 0 on success, 1 on failure."""
    log(f"e2e: scenario {SCENARIO!r}, phase {PHASE}, port {PORT}, image {IMAGE}")
    try:
        check(SCENARIO in scenarios, f"unknown scenario {SCENARIO!r}; have {sorted(scenarios)}")
        run("set confirm off")
        run("set pagination off")
        scenarios[SCENARIO]()
    except Exception as e:  # gdb.error and CheckFailed alike: report and fail
        log(f"FAILED: {type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
        gdb.execute("quit 1")
    _state(f"pass {PHASE}")
    log(f"e2e: phase {PHASE} passed")
    gdb.execute("quit 0")
