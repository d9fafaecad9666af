"""End-to-end checks on modes.bin, the boot sector that walks real -> protected -> long mode
and back to real mode (samples/modes/modes.s; symbols from modes.elf).  Run by run_e2e.sh
inside gdb; see e2e.py for the environment.

Scenarios:
  follow   with tools/hvgdb.py loaded, gdb's architecture, registers and disassembly follow
           every mode change, at breakpoints and across single steps.
  notice   without the extension, hvgdb keeps gdb's view, says once per change that the mode
           no longer matches, and answers the monitor commands.
  forced   --arch x86-64: the view stays x86-64 from real mode on, even with the extension.
The guest ends with exit code 15 and writes "RPLr" to the debug console."""

import os
import sys

import gdb

from e2e import (
    PORT,
    SYMBOLS,
    CheckFailed,
    address_of,
    check,
    check_equal,
    check_in,
    continue_to_exit,
    expect_serial,
    frame_name,
    main,
    pc,
    run,
    uvalue,
)

EXIT_CODE = 15
EXTENSION = os.path.join(sys.path[0], "..", "..", "tools", "hvgdb.py")

# Each stage: its label, the gdb architecture hvgdb.py must have chosen there, and an
# instruction at the label as gdb disassembles it in that architecture.
STAGES = [
    ("pe_window", "i8086", "ljmp   $0x8,$0x7c28"),
    ("in_protected", "i386", "mov    $0x10,%ax"),
    ("in_long", "i386:x86-64", "mov    $0x4c,%al"),
    ("in_compat", "i386", "mov    %cr0,%eax"),
    ("in_protected16", "i8086", "mov    $0x28,%ax"),
    ("in_real_again", "i8086", "xor    %ax,%ax"),
]


def connect_with_symbols(extension):
    # symbol-file, not file: the symbols stay whatever the register view's width.
    if extension:
        run(f"source {EXTENSION}")
    run(f"symbol-file {SYMBOLS}")
    run("set remotetimeout 10")
    run(f"target remote 127.0.0.1:{PORT}")


def architecture():
    text = run("show architecture")
    return text.split('currently "')[1].split('"')[0]


def has_rax():
    try:
        return str(gdb.parse_and_eval("$rax")) != "void"
    except gdb.error:
        return False


def follow():
    connect_with_symbols(extension=True)
    check_equal(architecture(), "i8086", "architecture at the first stop (real mode)")
    check_equal(pc(), 0x7C00, "$pc at the first stop")
    for label, _, _ in STAGES:
        run(f"break {label}")
    stepped_there = False
    for label, arch, instruction in STAGES:
        # (With hook-stop in use gdb prints the stop itself; to_string does not capture it.)
        if not stepped_there:
            run("continue")
        stepped_there = False
        check_equal(frame_name(), label, "the function gdb stopped in")
        check_equal(pc(), address_of(label), f"$pc at {label}")
        check_equal(architecture(), arch, f"architecture at {label}")
        check_in(instruction, run("x/i $pc"), f"disassembly at {label}")
        if arch == "i386:x86-64":
            check_equal(uvalue("sizeof($pc)"), 8, "sizeof($pc) in long mode")
            # Up to `mov $0x99, %r9` included; a host may run the instruction after an OUT in
            # the same step.
            while pc() < address_of("in_long") + 0x11:
                run("stepi")
            check_equal(uvalue("$rbx"), 0x1122334455667788, "$rbx in long mode")
            check_equal(uvalue("$r9"), 0x99, "$r9 in long mode")
        if label == "in_protected":
            check_equal(uvalue("sizeof($pc)"), 4, "sizeof($pc) in protected mode")
            check(not has_rax(), "the i386 view has no $rax")
        if label == "pe_window":
            # CR0.PE is set, CS still holds its real-mode base: still 16-bit code.  One step
            # over the far jump lands in 32-bit code with the i386 view.
            check_equal(uvalue("$cr0", 32) & 1, 1, "PE in $cr0 at pe_window")
            run("stepi")
            check_equal(pc(), address_of("in_protected"), "$pc after stepping the far jump")
            check_equal(architecture(), "i386", "architecture after stepping the far jump")
            stepped_there = True  # the next stage's checks run here, at in_protected
    # Real mode again: BX after five steps from in_real_again is still RBX's low half.
    run("stepi 5")
    check_equal(uvalue("$bx", 16), 0x7788, "$bx after the walk back to real mode")
    expect_serial("RPLr")
    continue_to_exit(EXIT_CODE)


def notice():
    connect_with_symbols(extension=False)
    check_equal(architecture(), "i8086", "architecture at the first stop")
    check_in("view", run("monitor help"), "monitor help")
    check_in("real mode (CS=0000", run("monitor mode"), "monitor mode in real mode")
    check_in("(vCPU 0, real mode)", run("info threads"), "info threads (qThreadExtraInfo)")
    run("hbreak in_long")
    output = run("continue")
    check_in("hvgdb: the vCPU is now in 64-bit long mode", output, "the stop notice")
    check_in("this mode's is x86-64", output, "the stop notice")
    check_equal(architecture(), "i8086", "architecture without the extension")
    check_in("64-bit long mode (CS=0018", run("monitor mode"), "monitor mode in long mode")
    check_in("(vCPU 0, 64-bit long mode)", run("info threads"), "info threads in long mode")
    # The PC is still right in the narrow view: the low 32 bits of the linear address.
    check_equal(pc(), address_of("in_long"), "$pc in the i8086 view in long mode")
    try:
        run("monitor frobnicate")
        raise CheckFailed("an unknown monitor command succeeded")
    except gdb.error:
        pass
    # Asking about views marks the client as one that follows: no more notices.
    check_in("view i8086 (the CPU mode suits x86-64)", run("monitor view"), "monitor view")
    run("delete")
    run("hbreak in_compat")
    output = run("continue")
    check("hvgdb: the vCPU is now" not in output, f"a notice after 'monitor view': {output!r}")
    expect_serial("RPLr")
    continue_to_exit(EXIT_CODE)


def forced():
    connect_with_symbols(extension=True)
    check_equal(architecture(), "i386:x86-64", "architecture with --arch x86-64 in real mode")
    check_in("forced by --arch", run("monitor view"), "monitor view")
    check_equal(pc(), 0x7C00, "$pc (linear) in the x86-64 view in real mode")
    check_equal(uvalue("sizeof($pc)"), 8, "sizeof($pc) in the x86-64 view")
    run("hbreak in_protected")
    run("continue")
    check_equal(architecture(), "i386:x86-64", "architecture stays forced in protected mode")
    check_equal(pc(), address_of("in_protected"), "$pc at in_protected")
    continue_to_exit(EXIT_CODE)


main({"follow": follow, "notice": notice, "forced": forced})
