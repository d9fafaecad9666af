"""GDB/MI the way IDEs drive it: VS Code's cppdbg, Eclipse CDT, and cdt-gdb-adapter (under VS
Code's "gdbtarget" type) all run `gdb --interpreter=mi3`, load the ELF, connect with
-target-select remote and debug with the commands below.  Every answer is parsed and its
fields checked: the functions that frames name, argument and local values, registers as hex,
memory against the symbol's known contents.

Run by run_e2e.sh inside gdb (see e2e.py); the scenario names the guest.  The gdb that runs
this script only loads the symbols (to find source lines by their "E2E:" markers); the MI gdb
(gdb_mi.MiGdb) is the IDE's."""

import os
import re
import struct
import time

from e2e import (
    address_of,
    check,
    check_equal,
    elf_entry,
    expect_exit,
    expect_serial,
    main,
    run,
    source_line,
    wait_for_serial,
    SYMBOLS,
)
from gdb_mi import MiGdb

HEX = re.compile(r"0x[0-9a-f]+")


def marker_line(marker):
    """The line number of the "E2E: marker" comment in the guest's C source."""
    return int(source_line(marker).rsplit(":", 1)[1])


def arguments(frame):
    """A frame's arguments as {name: value} (the `args` of a *stopped frame)."""
    return {arg["name"]: arg["value"] for arg in frame["args"]}


def check_frame(frame, function, line, what):
    """The frame is in `function` at `line` of a source file an IDE can open."""
    check_equal(frame["func"], function, f"function of {what}")
    if line is not None:
        check_equal(int(frame["line"]), line, f"line of {what}")
    check(os.path.isfile(frame["fullname"]), f"{what}: no source file {frame['fullname']!r}")


def stop_at_function(mi, function):
    """-break-insert FUNCTION and -exec-continue to it; returns the stop's frame."""
    bkpt = mi.results(f"-break-insert {function}")["bkpt"]
    check_equal(bkpt["func"], function, "function of the new breakpoint")
    check(HEX.fullmatch(bkpt["addr"]), f"breakpoint address {bkpt['addr']!r}")
    stop = mi.run_to_stop("-exec-continue", f"the stop at {function}")
    check_equal(stop["reason"], "breakpoint-hit", "reason of the stop")
    check_equal(stop["bkptno"], bkpt["number"], "breakpoint that stopped the guest")
    check_equal(stop["thread-id"], "1", "thread of the stop")
    check_frame(stop["frame"], function, int(bkpt["line"]), "the breakpoint stop")
    check_equal(stop["frame"]["addr"], bkpt["addr"], "address of the breakpoint stop")
    return stop["frame"]


def step(mi, command, function, line):
    """-exec-next or -exec-step; the step ends in `function` at `line` (None: any line)."""
    stop = mi.run_to_stop(command, f"the end of {command}")
    check_equal(stop["reason"], "end-stepping-range", f"reason of the stop after {command}")
    check_frame(stop["frame"], function, line, f"the stop after {command}")
    return stop["frame"]


def check_frames(mi, functions):
    """-stack-list-frames names `functions`, innermost first, with hex addresses."""
    frames = mi.results("-stack-list-frames")["stack"]
    check_equal([frame["func"] for frame in frames], functions, "functions of -stack-list-frames")
    check_equal([frame["level"] for frame in frames], [str(i) for i in range(len(functions))],
                "levels of -stack-list-frames")
    for frame in frames:
        check(HEX.fullmatch(frame["addr"]), f"frame address {frame['addr']!r}")
    return frames


def check_registers(mi, names, pc_name, pc):
    """-data-list-register-names has `names`; -data-list-register-values x gives each a hex
    value, the program counter's `pc`; asked for two by number, it gives those two."""
    all_names = mi.results("-data-list-register-names")["register-names"]
    for name in names:
        check(name in all_names, f"-data-list-register-names lacks {name}: {all_names}")
    values = {all_names[int(entry["number"])]: entry["value"]
              for entry in mi.results("-data-list-register-values x")["register-values"]}
    for name in names:
        check(HEX.fullmatch(values.get(name, "")),
              f"register {name} is not a hex value: {values.get(name)!r}")
    check_equal(int(values[pc_name], 16), pc, f"{pc_name} from -data-list-register-values")
    numbers = [all_names.index(pc_name), all_names.index(names[0])]
    picked = mi.results(f"-data-list-register-values x {numbers[0]} {numbers[1]}")
    check_equal([entry["number"] for entry in picked["register-values"]],
                [str(n) for n in numbers], "registers -data-list-register-values picked")
    check_equal(int(picked["register-values"][0]["value"], 16), pc, f"{pc_name} picked alone")


def check_memory(mi, expression, expected, address):
    """-data-read-memory-bytes reads `expected` at `address`, given as `expression`."""
    memory = mi.results(f"-data-read-memory-bytes {expression} {len(expected)}")["memory"]
    check_equal(len(memory), 1, f"blocks of memory read at {expression}")
    check_equal(int(memory[0]["begin"], 16), address, f"address of {expression}")
    check_equal(int(memory[0]["end"], 16), address + len(expected), f"end of {expression}")
    check_equal(bytes.fromhex(memory[0]["contents"]), expected, f"memory at {expression}")


def check_thread_info(mi, function):
    info = mi.results("-thread-info")
    check_equal([thread["id"] for thread in info["threads"]], ["1"], "threads of -thread-info")
    check_equal(info["threads"][0]["state"], "stopped", "state of thread 1")
    check_equal(info["threads"][0]["frame"]["func"], function, "function of thread 1")
    check_equal(info["current-thread-id"], "1", "current thread")


def hello64():
    """hello64 (64-bit long mode): a breakpoint on add(), next, finish, step into
    print_result(), registers, memory, expressions and a variable object, then -exec-interrupt
    of the running guest and -target-detach; the guest runs on to its exit code, 43."""
    run(f"file {SYMBOLS}")
    mi = MiGdb()
    try:
        first = mi.connect_as_ide(SYMBOLS)
        check_frame(first["frame"], "_start", None, "the stop at the connection")
        check_equal(int(first["frame"]["addr"], 16), elf_entry(SYMBOLS), "address at the entry")
        check_equal(first["frame"]["arch"], "i386:x86-64", "architecture of the first frame")

        frame = stop_at_function(mi, "add")
        check_equal(int(frame["line"]), marker_line("add-body"), "line of add's breakpoint")
        check_equal(arguments(frame), {"a": "2", "b": "3"}, "arguments at add")
        frames = check_frames(mi, ["add", "kmain", "_start"])
        check_equal(int(frames[1]["line"]), marker_line("call-add"), "line of kmain's frame")
        variables = mi.results("-stack-list-variables --simple-values")["variables"]
        check_equal([(v["name"], v.get("arg"), v["type"]) for v in variables],
                    [("a", "1", "int"), ("b", "1", "int"), ("sum", None, "int")],
                    "-stack-list-variables at add")
        check_equal([v["value"] for v in variables[:2]], ["2", "3"], "values of a and b")

        step(mi, "-exec-next", "add", marker_line("add-body") + 1)
        check_equal(mi.results("-stack-list-locals --all-values")["locals"],
                    [{"name": "sum", "value": "5"}], "-stack-list-locals after next")
        check_equal(mi.results('-data-evaluate-expression "a * 10 + b"')["value"], "23",
                    "a * 10 + b")

        finished = mi.run_to_stop("-exec-finish", "the end of -exec-finish")
        check_equal(finished["reason"], "function-finished", "reason after -exec-finish")
        check_equal(finished["return-value"], "5", "value add() returned")
        check_frame(finished["frame"], "kmain", marker_line("call-add"), "the stop after finish")
        step(mi, "-exec-next", "kmain", marker_line("call-add") + 1)
        frame = step(mi, "-exec-step", "print_result", None)
        check_equal(arguments(frame)["value"], "5", "print_result's value argument")
        check(arguments(frame)["what"].endswith('"add(2, 3) = "'),
              f"print_result's what argument: {arguments(frame)['what']!r}")
        check_frames(mi, ["print_result", "kmain", "_start"])

        check_registers(mi, ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8",
                             "r15", "rip", "eflags", "cs", "ss"], "rip", int(frame["addr"], 16))

        label = address_of("origin.label[0]")
        check_memory(mi, "&origin", struct.pack("<iiQ", 3, 4, label), address_of("origin"))
        check_memory(mi, "greeting", b"hello from hello64\0", address_of("greeting"))
        check_equal(mi.results("-data-evaluate-expression origin.label")["value"],
                    f'{label:#x} "origin"', "origin.label")

        # A variable object, as the IDEs' watch and variables views use.
        var = mi.results("-var-create - * origin")
        check_equal((var["type"], var["numchild"]), ("struct point", "3"), "-var-create origin")
        children = mi.results(f"-var-list-children --all-values {var['name']}")["children"]
        check_equal([(c["exp"], c["value"]) for c in children[:2]], [("x", "3"), ("y", "4")],
                    "children of origin")
        mi.results(f"-var-delete {var['name']}")
        check_thread_info(mi, "print_result")

        # The guest runs (spinning in wait_for_debugger) until -exec-interrupt stops it.
        mi.results('-data-evaluate-expression "hold_at_end = 1"')
        mi.results("-break-delete")
        mi.command("-exec-continue")
        wait_for_serial("counter = 10\n")
        time.sleep(0.3)
        mi.command("-exec-interrupt")
        interrupted = mi.next_stop("the stop after -exec-interrupt")
        check_equal(interrupted["reason"], "signal-received", "reason after -exec-interrupt")
        check_equal(interrupted["signal-name"], "SIGINT", "signal after -exec-interrupt")
        check_frame(interrupted["frame"], "wait_for_debugger", None, "the interrupted guest")
        check_thread_info(mi, "wait_for_debugger")

        mi.results('-data-evaluate-expression "hold_at_end = 0"')
        mi.command("-target-detach")
        expect_exit(43)
        for line in ("hello from hello64", "add(2, 3) = 5", "counter = 10", "exit value = 21"):
            expect_serial(line)
    finally:
        mi.close()


def hello32():
    """hello32 (32-bit protected mode): the ELF32 loaded before the connection, a breakpoint
    on fib(), frames, registers, memory, next and step into the recursion; the guest runs to
    its exit, 51, which gdb/mi reports."""
    run(f"file {SYMBOLS}")
    mi = MiGdb()
    try:
        first = mi.connect_as_ide(SYMBOLS)
        check_frame(first["frame"], "_start", None, "the stop at the connection")
        check_equal(first["frame"]["arch"], "i386", "architecture of the first frame")

        frame = stop_at_function(mi, "fib")
        check_equal(int(frame["line"]), marker_line("fib-base") - 1, "line of fib's breakpoint")
        check_equal(arguments(frame), {"n": "10"}, "arguments at fib")
        frames = check_frames(mi, ["fib", "kmain", "_start"])
        check_equal(int(frames[1]["line"]), marker_line("call-fib"), "line of kmain's frame")
        check_registers(mi, ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip",
                             "eflags", "cs", "ss"], "eip", int(frame["addr"], 16))
        check_memory(mi, "greeting", b"hello from hello32\0", address_of("greeting"))
        check_memory(mi, "&exit_bias", struct.pack("<i", 10), address_of("exit_bias"))

        step(mi, "-exec-next", "fib", marker_line("fib-base") + 2)
        mi.results("-break-delete")  # or the step into fib() would end at its breakpoint
        frame = step(mi, "-exec-step", "fib", None)
        check_equal(arguments(frame), {"n": "9"}, "arguments after stepping into fib")
        check_frames(mi, ["fib", "fib", "kmain", "_start"])
        check_equal(mi.results('-data-evaluate-expression "n * 2"')["value"], "18", "n * 2")
        check_thread_info(mi, "fib")

        exited = mi.run_to_stop("-exec-continue", "the guest's exit")
        check_equal(exited["reason"], "exited", "reason of the last stop")
        check_equal(int(exited["exit-code"], 8), 51, "exit code gdb/mi reports")
        expect_exit(51)
        expect_serial("exit value = 25")
    finally:
        mi.close()


main({
    "hello64": hello64,
    "hello32": hello32,
})
