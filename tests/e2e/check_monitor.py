"""End-to-end checks of hvgdb's monitor commands about the machine: regs, walk, xp, devices,
reset and quit, with the real gdb.  Run by run_e2e.sh inside gdb; see e2e.py for the
environment.

Scenarios on hello64 (samples/hello64, exit code 43 unchanged, 23 with exit_bias = 1):
  regs       the system state of the current vCPU matches gdb's own registers
  xp         guest-physical memory as a hex dump: bytes gdb wrote, bounds, addresses outside RAM
  devices    COM1, the debug console and exit ports, RAM, the xAPIC
  reset      reset with breakpoints kept inserted (always-inserted): RAM cleared and the image
             loaded again, the vCPU at the entry, the breakpoint hit again, the guest exits as
             at its first run; gdb re-reads its registers after 'maint flush register-cache'
  reset_extension  the same with tools/hvgdb.py, which flushes gdb's registers by itself
  quit       ends hvgdb with exit code 0 after the reply
and on paging64 (a kernel at 0xffffffff80000000 under the guest's own page tables):
  walk       the page walk of a known mapping, an unmapped and a non-canonical address"""

import os
import re
import sys
import time

import gdb

from e2e import (
    CheckFailed,
    HVGDB_PID,
    address_of,
    check,
    check_equal,
    check_in,
    connect,
    continue_to_exit,
    elf_entry,
    expect_exit,
    expect_serial,
    frame_name,
    IMAGE,
    main,
    pc,
    run,
    run_stop,
    set_breakpoint,
    uvalue,
)

HELLO64_EXIT = 43  # counter 10 + exit_bias 11, (21 << 1) | 1
EXTENSION = os.path.join(sys.path[0], "..", "..", "tools", "hvgdb.py")


class _Try(gdb.Command):
    """e2e-try COMMAND: runs COMMAND and prints its error, if any, instead of failing."""

    def __init__(self):
        super().__init__("e2e-try", gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        try:
            gdb.execute(argument)
        except gdb.error as e:
            print(f"e2e-try: failed: {e}")


_Try()


def refused(command, needle):
    """`command` must fail, gdb showing hvgdb's reason: the monitor command's output, which gdb
    prints before its own "Protocol error with Rcmd"."""
    output = run_stop(f"e2e-try {command}", stderr=True)
    check_in("e2e-try: failed:", output, f"{command!r} fails")
    check_in(needle, output, f"the reason {command!r} fails")


def line_of(text, prefix):
    """The line of `text` that starts with `prefix` (after indentation)."""
    for line in text.splitlines():
        if line.strip().startswith(prefix):
            return line.strip()
    raise CheckFailed(f"no line starting with {prefix!r} in {text!r}")


def hex_field(line, index=1):
    return int(line.split()[index], 16)


def stop_in_tick():
    connect()
    run("break tick")
    run("continue")


def regs():
    stop_in_tick()
    text = run("monitor regs")
    check_in("vCPU 0 (thread 1), stopped: 64-bit long mode, 4-level paging", text, "the header")
    cr0 = line_of(text, "cr0 ")
    check_equal(hex_field(cr0), uvalue("$cr0"), "CR0 in 'monitor regs' and in gdb")
    check_in("PE", cr0, "CR0's bits")
    check_in("PG ]", cr0, "CR0's bits")
    check_equal(hex_field(line_of(text, "cr3 ")), uvalue("$cr3"), "CR3")
    efer = line_of(text, "efer ")
    check_in("[ LME LMA", efer, "EFER's bits")
    cs = line_of(text, "cs ")
    check_equal(hex_field(cs), uvalue("$cs"), "CS's selector")
    check_in("L G ] code, execute/read", cs, "CS's attributes in words")
    check_in("limit 0xffffffff", line_of(text, "ss "), "SS's limit")
    gdtr = line_of(text, "gdtr ")
    check_equal(int(re.search(r"base (0x[0-9a-f]+)", gdtr).group(1), 16), uvalue("$gdtr_base"),
                "GDTR's base")
    check_in("TSS (busy)", line_of(text, "tr "), "the task register's type")
    check_equal(hex_field(line_of(text, "apic_base ")), uvalue("$apic_base"), "IA32_APIC_BASE")
    check_in(f"rip {pc():#x}", text, "RIP")
    check_in("dr7 ", text, "the debug registers")
    check_in("lstar ", text, "the MSRs")
    check_equal(run("monitor sysregs"), text, "'monitor sysregs' is 'monitor regs'")
    refused("monitor regs now", "unknown monitor command")
    run("delete")
    continue_to_exit(HELLO64_EXIT)


def xp():
    stop_in_tick()
    # hello64 runs on the loader's identity map: its addresses are guest-physical too.
    greeting = address_of("greeting")
    text = run(f"monitor xp {greeting:#x} 18")
    check_in("68 65 6c 6c 6f 20 66 72  6f 6d 20 68 65 6c 6c 6f", text, "greeting's bytes")
    check_in("|hello from hello|", text, "greeting's characters")
    check(text.startswith(f"{greeting:08x}: "), f"the dump starts at {greeting:#x}: {text!r}")
    # Bytes gdb writes, through the page tables, show at their physical address.
    run("set var greeting[0] = 'J'")
    run("set var *(unsigned int *)&last_tick = 0xdeadbeef")
    check_in("4a 65 6c 6c", run(f"monitor xp {greeting:#x} 4"), "the byte gdb wrote")
    check_in("ef be ad de", run(f"monitor xp {address_of('last_tick'):#x} 4"), "last_tick")
    check_equal(len(run("monitor xp 0x100000 4096").splitlines()), 256, "4 KiB: 256 lines")
    refused("monitor xp 0x100000 4097", "1 to 4096 bytes")
    refused("monitor xp 0x100000 0", "1 to 4096 bytes")
    refused("monitor xp", "usage: monitor xp ADDR [LEN]")
    refused("monitor xp nowhere", "is not a number")
    refused("monitor xp 0x10000000", "is not in guest memory (0x0-0x7ffffff RAM)")
    end = run("monitor xp 0x7fffff8 16")
    check_in("guest-physical 0x8000000 and on is not in guest memory", end, "a dump past RAM")
    run("set var greeting[0] = 'h'")
    run("set var last_tick = 0")
    run("delete")
    continue_to_exit(HELLO64_EXIT)


def devices():
    connect()
    text = run("monitor devices")
    check_in("0x03f8-0x03ff COM1, 16550 UART", text, "COM1")
    check_in("LSR 0x60", text, "COM1's line status: transmitter empty")
    check_in("0x00e9        debug console", text, "the debug console port")
    check_in("0x00f4        exit port", text, "the exit port")
    check_in("0x0000000000-0x0007ffffff  RAM, 128 MiB", text, "guest RAM")
    check_in("vCPU 0 (thread 1), stopped:", text, "vCPU 0's run state")
    check_in("xAPIC: IA32_APIC_BASE 0xfee00900 (enabled, BSP)", text, "the BSP's xAPIC")
    check_in("ID 0x00000000 version 0x00050014", text, "the xAPIC's ID and version")
    check_in("requested (IRR): none; in service (ISR): none", text, "no interrupts pending")
    refused("monitor devices all", "unknown monitor command")
    continue_to_exit(HELLO64_EXIT)


def reset_and_rerun(flush):
    """Two ticks, then reset: the guest starts again from its first instruction with the image
    as in the file and exits as at its first run, the breakpoint at tick() hit again."""
    entry = elf_entry(IMAGE)
    run("set breakpoint always-inserted on")  # hvgdb holds the breakpoint over the reset
    set_breakpoint("break tick")
    tick = address_of("tick")
    run("continue")
    run("continue")
    check_equal(uvalue("i", 32), 1, "the second tick")
    check_equal(uvalue("counter", 32), 1, "counter before the reset")
    run("set var exit_bias = 1")  # would give exit code 23; the reset loads 11 again
    original = bytes(gdb.selected_inferior().read_memory(tick, 4))

    text = run("monitor reset")
    check_in("guest RAM cleared and the image loaded again", text, "the reset's reply")
    check_in(f"vCPU 0 starts at {entry:#x} in 64-bit long mode", text, "where vCPU 0 starts")
    check_in("maint flush register-cache", text, "what gdb needs to do")
    if flush:
        run("maint flush register-cache")
    check_equal(pc(), entry, "$pc after the reset (the image's entry)")
    check_equal(frame_name(), "_start", "the frame after the reset")
    check_equal(uvalue("counter", 32), 0, "counter after the reset (RAM cleared)")
    check_equal(uvalue("exit_bias", 32), 11, "exit_bias after the reset (the image's value)")
    check_equal(bytes(gdb.selected_inferior().read_memory(tick, 4)), original,
                "tick's bytes under the breakpoint (the image's, not the breakpoint's)")
    # Every loaded section as in the file: no breakpoint byte left in the image.
    check("MIS-MATCHED" not in run("compare-sections"), "compare-sections after the reset")

    run("continue")
    check_equal(frame_name(), "tick", "the breakpoint at tick() after the reset")
    check_equal(uvalue("i", 32), 0, "the first tick again")
    run("delete")
    expect_serial("exit value = 21\n")
    continue_to_exit(HELLO64_EXIT)


def reset():
    connect()
    reset_and_rerun(flush=True)


def reset_extension():
    run(f"source {EXTENSION}")
    connect()
    reset_and_rerun(flush=False)


def quit_():
    stop_in_tick()
    text = run("monitor quit")
    check_in("the guest ends and hvgdb exits", text, "the reply to 'monitor quit'")
    expect_exit(0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(HVGDB_PID, 0)
        except ProcessLookupError:
            break
        try:  # reaped by run_e2e.sh's shell, not by us: a zombie counts as ended
            with open(f"/proc/{HVGDB_PID}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        raise CheckFailed("hvgdb still runs 10 s after 'monitor quit'")
    run("disconnect")


def walk():
    connect()
    set_breakpoint("break *paging_enabled")
    run("continue")
    set_breakpoint("break checkpoint")
    run("continue")
    mapped_value = address_of("mapped_value")
    physical = mapped_value - 0xFFFFFFFF80000000 + 0x200000
    text = run(f"monitor walk {mapped_value:#x}")
    check_in(f"vCPU 0: 4-level paging, tables at CR3 {uvalue('$cr3'):#x}", text, "the header")
    lines = text.splitlines()
    check_equal(len(lines), 6, "a header, four entries and the result")
    for line, table in zip(lines[1:5], ("PML4 entry 511 at ", "page-directory-pointer table entry 510 at ",
                                         "page directory entry 0 at ", "page table entry ")):
        check(line.strip().startswith(table), f"{line!r} starts with {table!r}")
        check_in("[ P RW", line, "the entry's flags")
    pml4e = lines[1].split()
    check_equal(int(pml4e[4].rstrip(":"), 16), (uvalue("$cr3") & ~0xFFF) + 511 * 8,
                "the PML4 entry's address")
    check_in(f"-> 4 KiB page at {physical & ~0xFFF:#x}", lines[4], "the page-table entry")
    check_equal(lines[5], run(f"monitor translate {mapped_value:#x}").strip(),
                "the walk's result is translate's line")
    check_in(f"-> physical {physical:#x} (4 KiB page, writable, supervisor", lines[5], "result")

    unmapped = run("monitor walk 0xffffffff80400000")
    check_in("0xffffffff80400000 is not mapped:", unmapped, "an unmapped address")
    check_in("is not present", unmapped, "why the walk stops")
    check_in("is not a linear address", run("monitor walk 0x0000800000000000"), "non-canonical")
    refused("monitor walk", "usage: monitor walk ADDR")
    refused("monitor walk here", "is not a number")
    run("delete")
    continue_to_exit(((0x1234 + 3) & 0x7F) << 1 | 1)


main({
    "regs": regs,
    "xp": xp,
    "devices": devices,
    "reset": reset,
    "reset_extension": reset_extension,
    "quit": quit_,
    "walk": walk,
})
