"""Checks and logging shared by the end-to-end scripts, whichever debugger runs them: gdb's
embedded Python (e2e.py and the check_*.py scripts) or python3 with lldb's module
(check_lldb.py).  Needs nothing but the standard library."""

import sys


class CheckFailed(Exception):
    pass


def log(text):
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def check_equal(actual, expected, what):
    if actual != expected:
        raise CheckFailed(f"{what}: expected {fmt(expected)}, got {fmt(actual)}")
    log(f"ok: {what} == {fmt(actual)}")


def check_in(needle, haystack, what):
    if needle not in haystack:
        raise CheckFailed(f"{what}: expected to contain {needle!r}, got {haystack!r}")
    log(f"ok: {what} contains {needle!r}")


def fmt(value):
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 9:
        return f"{value} ({value:#x})"
    return repr(value)
