"""Unit check of gdb_mi.parse_record, the GDB/MI record parser the MI checks rely on: records
as gdb 13 prints them parse to the expected values, and malformed ones fail the check instead
of parsing to something.

Runs inside gdb, as gdb_mi imports e2e, which needs gdb's Python (see CMakeLists.txt):
  gdb -batch -nx -x check_mi_records.py"""

import sys
import traceback

import gdb

from e2e import CheckFailed, check_equal, log
from gdb_mi import parse_record

VALID = [
    ("^done", ("done", {})),
    ("^running", ("running", {})),
    ('=thread-group-added,id="i1"', ("thread-group-added", {"id": "i1"})),
    ('12^done,stack=[frame={level="0",func="add"},frame={level="1",func="kmain"}]',
     ("done", {"stack": [{"level": "0", "func": "add"}, {"level": "1", "func": "kmain"}]})),
    ('*stopped,reason="breakpoint-hit",bkptno="1",frame={addr="0x000000000010018c",func="add",'
     'args=[{name="a",value="2"},{name="b",value="3"}],line="42"},thread-id="1",'
     'stopped-threads="all"',
     ("stopped", {"reason": "breakpoint-hit", "bkptno": "1",
                  "frame": {"addr": "0x000000000010018c", "func": "add",
                            "args": [{"name": "a", "value": "2"}, {"name": "b", "value": "3"}],
                            "line": "42"},
                  "thread-id": "1", "stopped-threads": "all"})),
    ('^done,bkpt={number="1",thread-groups=["i1"],original-location="add"}',
     ("done", {"bkpt": {"number": "1", "thread-groups": ["i1"], "original-location": "add"}})),
    ('^done,register-names=["rax","",""],threads=[],frame={}',
     ("done", {"register-names": ["rax", "", ""], "threads": [], "frame": {}})),
    (r'^done,value="0x100335 \"origin\""', ("done", {"value": '0x100335 "origin"'})),
    (r'^done,value="tab\there\\ \303\251"', ("done", {"value": "tab\there\\ \u00e9"})),
    ('*stopped,reason="exited",exit-code="053"',
     ("stopped", {"reason": "exited", "exit-code": "053"})),
]

MALFORMED = [
    '~"console output"',                 # a stream record, not a result or async record
    'done,value="1"',                    # no record class character
    '^done value="1"',                   # no comma before a result
    '^done,value="unterminated',
    '^done,value="1"junk',
    '^done,value=',
    '^done,="1"',                        # no variable name
    '^done,bkpt={number="1"',            # unterminated tuple
    '^done,stack=[frame={level="0"}',    # unterminated list
    '^done,bkpt={"1"}',                  # a tuple value without a name
    '^done,value=1',                     # a value is a c-string, tuple or list
    '^done,list=["a",]',                 # nothing after a comma
]


def run_checks():
    for record, expected in VALID:
        check_equal(parse_record(record), expected, f"parse_record({record!r})")
    for record in MALFORMED:
        try:
            parsed = parse_record(record)
        except CheckFailed as e:
            log(f"ok: {record!r} refused: {e}")
            continue
        raise CheckFailed(f"malformed {record!r} parsed as {parsed!r}")


try:
    run_checks()
except Exception as e:
    log(f"FAILED: {type(e).__name__}: {e}")
    traceback.print_exc(file=sys.stdout)
    sys.stdout.flush()
    gdb.execute("quit 1")
log(f"PASSED: {len(VALID)} records parsed, {len(MALFORMED)} malformed ones refused")
gdb.execute("quit 0")
