"""End-to-end checks with lldb: lldb-14 or lldb-16, driven through its Python module, attaches
to hvgdb as a user does (`target create ELF`, then `gdb-remote 127.0.0.1:PORT`).

run_lldb.sh makes the module importable and runs this script with python3 under run_e2e.sh,
which starts hvgdb and checks its exit code and serial output afterwards.  The environment is
run_e2e.sh's (see e2e.py: E2E_PORT, E2E_IMAGE, E2E_SYMBOLS, E2E_STATE, E2E_SCENARIO, ...) and
E2E_LLDB_VERSION.  One scenario per guest:
  hello64  long mode (--cpus 2): registers, the thread list, memory, a breakpoint by function
           name, continue to it, the backtrace, instruction and source steps, a watchpoint,
           Ctrl-C, continue to the exit
  hello32  32-bit protected mode: the same, without the watchpoint
  boot     real mode (boot.bin, boot.elf's symbols): registers, memory, 16-bit disassembly,
           instruction steps, a breakpoint by name, continue to the exit
  smp      two vCPUs (--cpus 2 --log-packets): lldb's thread list, a breakpoint the second
           vCPU hits, a step of that vCPU alone, and the lldb packets it used
"""

import os
import struct
import sys
import threading
import traceback

import lldb

from checks import check, check_equal, check_in, log

PORT = int(os.environ.get("E2E_PORT", "1234"))
IMAGE = os.environ.get("E2E_IMAGE", "")
SYMBOLS = os.environ.get("E2E_SYMBOLS", IMAGE)
STATE = os.environ.get("E2E_STATE", "")
PHASE = int(os.environ.get("E2E_PHASE", "1"))
SCENARIO = os.environ.get("E2E_SCENARIO", "")
VERSION = os.environ.get("E2E_LLDB_VERSION", "")


def expect(line):
    """What run_e2e.sh checks once hvgdb has exited: "exit N", "serial TEXT", "log TEXT"."""
    with open(STATE, "a") as f:
        f.write(line + "\n")


STOP_REASONS = {
    lldb.eStopReasonNone: "none",
    lldb.eStopReasonTrace: "trace",
    lldb.eStopReasonBreakpoint: "breakpoint",
    lldb.eStopReasonWatchpoint: "watchpoint",
    lldb.eStopReasonSignal: "signal",
    lldb.eStopReasonPlanComplete: "plan complete",
}


class Lldb:
    """One lldb debugger in synchronous mode: commands return once the target has stopped."""

    def __init__(self):
        self.debugger = lldb.SBDebugger.Create()
        self.debugger.SetAsync(False)
        self.interpreter = self.debugger.GetCommandInterpreter()
        self.target = None
        self.process = None

    def run(self, command):
        """Runs an lldb command, logs it with its output, fails when lldb says it failed."""
        result = lldb.SBCommandReturnObject()
        self.interpreter.HandleCommand(command, result)
        output = result.GetOutput() + result.GetError()
        log(f"(lldb) {command}\n{output.rstrip()}")
        check(result.Succeeded(), f"lldb could not '{command}': {result.GetError().strip()}")
        return output

    def attach(self):
        """target create SYMBOLS, then gdb-remote; the guest is stopped when this returns."""
        self.run(f"target create {SYMBOLS}")
        self.target = self.debugger.GetSelectedTarget()
        self.run(f"gdb-remote 127.0.0.1:{PORT}")
        self.process = self.target.GetProcess()
        check_equal(self.process.GetState(), lldb.eStateStopped, "process state after gdb-remote")
        log(f"target triple {self.target.GetTriple()}")

    def thread(self):
        return self.process.GetSelectedThread()

    def frame(self):
        return self.thread().GetFrameAtIndex(0)

    def pc(self):
        return self.frame().GetPC()

    def register(self, name):
        value = self.frame().FindRegister(name)
        check(value.IsValid(), f"lldb has no register {name}")
        return value.GetValueAsUnsigned()

    def symbol(self, name):
        """The load address of a symbol of the ELF file."""
        found = self.target.FindSymbols(name)
        check(found.GetSize() > 0, f"no symbol {name} in {SYMBOLS}")
        return found.GetContextAtIndex(0).GetSymbol().GetStartAddress().GetLoadAddress(
            self.target)

    def write_int(self, variable, value):
        """Writes a global int variable of the ELF file through process memory."""
        address = self.target.FindFirstGlobalVariable(variable).GetLoadAddress()
        check(address != lldb.LLDB_INVALID_ADDRESS, f"no variable {variable}")
        error = lldb.SBError()
        written = self.process.WriteMemory(address, struct.pack("<i", value), error)
        check(written == 4, f"writing {variable}: {error.GetCString()}")

    def read(self, address, size):
        error = lldb.SBError()
        data = self.process.ReadMemory(address, size, error)
        check(error.Success(), f"reading {size} bytes at {address:#x}: {error.GetCString()}")
        return data

    def stop_reason(self, thread=None):
        reason = (thread or self.thread()).GetStopReason()
        return STOP_REASONS.get(reason, str(reason))

    def continue_to(self, function):
        """continue; the selected thread must stop at a breakpoint in `function`."""
        self.run("continue")
        check_equal(self.process.GetState(), lldb.eStateStopped, "process state after continue")
        check_equal(self.stop_reason(), "breakpoint", "stop reason")
        check_equal(self.frame().GetFunctionName(), function, "function at the stop")

    def step_instruction(self):
        """One instruction step of the selected thread; returns the new pc."""
        before = self.pc()
        self.run("thread step-inst")
        check_equal(self.process.GetState(), lldb.eStateStopped, "process state after a step")
        after = self.pc()
        check(0 < after - before <= 15, f"one instruction from {before:#x} ends at {after:#x}")
        return after

    def continue_to_exit(self, code):
        self.target.DeleteAllBreakpoints()
        self.run("continue")
        check_equal(self.process.GetState(), lldb.eStateExited, "process state after continue")
        check_equal(self.process.GetExitStatus(), code, "exit status lldb reports")
        expect(f"exit {code}")


def common_checks(session, entry_function, pc_name, sp_name, pointer_size):
    """At the first stop: the pc at the ELF entry, registers by name, the pointer size."""
    entry = session.symbol(entry_function)
    check_equal(session.pc(), entry, f"pc at the first stop ({entry_function})")
    check_equal(session.register(pc_name), entry, pc_name)
    check_equal(session.frame().GetFunctionName(), entry_function, "function at the first stop")
    check(session.register(sp_name) != 0, f"{sp_name} is set at the entry")
    check_equal(session.process.GetAddressByteSize(), pointer_size, "process address size")
    registers = session.run("register read")
    for name in (pc_name, sp_name, "eflags", "cs", "ss"):
        check_in(f" {name} = ", registers, "register read")
    check_in("cr0 = ", session.run("register read cr0 efer cs_attr"), "system registers")


def hello64():
    """hello64.elf: exit value (counter + exit_bias) & 0x7f, with counter 10 and exit_bias 11
    unchanged; this scenario sets exit_bias to 1: exit code (11 << 1) | 1 = 23."""
    s = Lldb()
    s.attach()
    check_in("x86_64", s.target.GetTriple(), "target triple")
    common_checks(s, "_start", "rip", "rsp", 8)
    # --cpus 2: hello64 never starts the second vCPU, which waits for its SIPI.
    listed = s.run("thread list")
    check_equal(s.process.GetNumThreads(), 2, "threads")
    check_in("name = 'vCPU 0, 64-bit long mode'", listed, "thread list")
    check_in("name = 'vCPU 1, waiting for SIPI'", listed, "thread list")

    # A register write through lldb's thread suffix: the first instruction (mov to rsp)
    # leaves rax alone, and the step makes lldb read the registers again.
    check(s.frame().FindRegister("rax").SetValueFromCString("0x123456789a"), "writing rax")
    s.step_instruction()
    check_equal(s.register("rax"), 0x123456789A, "rax after a write and a step")
    check_equal(s.register("rsp"), s.symbol("stack_top"), "rsp after mov $stack_top, %rsp")

    # Memory: a global as a variable and as bytes, and a write the guest sees.
    exit_bias = s.target.FindFirstGlobalVariable("exit_bias")
    check_equal(exit_bias.GetValueAsSigned(), 11, "exit_bias")
    check_equal(s.read(exit_bias.GetLoadAddress(), 4), struct.pack("<i", 11), "exit_bias's bytes")
    s.write_int("exit_bias", 1)
    check_in("(int) exit_bias = 1", s.run("target variable exit_bias"), "exit_bias after the write")

    # A breakpoint by function name, its hit, the backtrace and the arguments.
    breakpoint = s.target.BreakpointCreateByName("factorial")
    check(breakpoint.GetNumLocations() == 1, "one location for factorial")
    s.continue_to("factorial")
    check_equal(s.frame().FindVariable("n").GetValueAsUnsigned(), 6, "n at the first hit")
    frames = [s.thread().GetFrameAtIndex(i).GetFunctionName()
              for i in range(s.thread().GetNumFrames())]
    check_equal(frames, ["factorial", "kmain", "_start"], "backtrace")
    s.continue_to("factorial")
    check_equal(s.frame().FindVariable("n").GetValueAsUnsigned(), 5, "n at the second hit")

    # Steps: one instruction, then a source line.
    s.step_instruction()
    line = s.frame().GetLineEntry().GetLine()
    s.run("thread step-over")
    check(s.frame().GetLineEntry().GetLine() != line, "step-over moved to another line")
    check_equal(s.frame().GetFunctionName(), "factorial", "function after step-over")
    s.target.BreakpointDelete(breakpoint.GetID())

    # A watchpoint (qWatchpointSupportInfo, then Z2): tick() writes last_tick.
    last_tick = s.target.FindFirstGlobalVariable("last_tick")
    error = lldb.SBError()
    watchpoint = last_tick.Watch(True, False, True, error)
    check(error.Success() and watchpoint.IsValid(), f"watch last_tick: {error.GetCString()}")
    s.run("continue")
    check_equal(s.stop_reason(), "watchpoint", "stop reason after continue")
    check_equal(s.frame().GetFunctionName(), "tick", "function that wrote last_tick")
    check_equal(s.target.FindFirstGlobalVariable("last_tick").GetValueAsSigned(), 0,
                "last_tick at the first write")
    s.target.DeleteAllWatchpoints()

    # Ctrl-C (lldb sends 0x03) while the guest spins in wait_for_debugger().
    s.write_int("hold_at_end", 1)
    threading.Timer(1.0, s.process.SendAsyncInterrupt).start()
    s.run("continue")
    # hvgdb reports the interrupt on one of the vCPUs; the first spins in wait_for_debugger().
    check_equal(s.stop_reason(), "signal", "stop reason after the interrupt")
    check_in("SIGINT", s.thread().GetStopDescription(100), "stop description")
    check_equal(s.process.GetThreadByID(1).GetFrameAtIndex(0).GetFunctionName(),
                "wait_for_debugger", "function of vCPU 0 when interrupted")
    s.write_int("hold_at_end", 0)

    s.continue_to_exit(23)
    expect("serial exit value = 11")


def hello32():
    """hello32.elf: exit code 51 unchanged (samples/hello32/hello32.c)."""
    s = Lldb()
    s.attach()
    check_in("i386", s.target.GetTriple(), "target triple")
    common_checks(s, "_start", "eip", "esp", 4)
    s.step_instruction()

    s.target.BreakpointCreateByName("fib")
    s.continue_to("fib")
    check_equal(s.frame().FindVariable("n").GetValueAsUnsigned(), 10, "n at the first hit")
    frames = [s.thread().GetFrameAtIndex(i).GetFunctionName()
              for i in range(s.thread().GetNumFrames())]
    check_equal(frames, ["fib", "kmain", "_start"], "backtrace")
    s.step_instruction()
    line = s.frame().GetLineEntry().GetLine()
    s.run("thread step-over")
    check(s.frame().GetLineEntry().GetLine() != line, "step-over moved to another line")
    check_in("fib", s.run("disassemble --pc -c 2"), "disassembly at the pc")

    s.continue_to_exit(51)
    expect("serial fib(10) = 55")


def boot():
    """boot.bin at 0000:7C00 with boot.elf's symbols: exit code 33.  hvgdb's real-mode view
    shows eip as the linear address, and its triple (i386-unknown-none-code16) makes lldb
    disassemble 16-bit code.  lldb knows nothing of segments: it cannot unwind through the
    IP-only return addresses of near calls with CS = 0x07c0, so no backtrace past frame 0."""
    s = Lldb()
    s.attach()
    check_in("code16", s.target.GetTriple(), "target triple")
    common_checks(s, "_start", "eip", "esp", 4)

    with open(IMAGE, "rb") as f:
        sector = f.read(512)
    check_equal(s.read(0x7C00, 16), sector[:16], "the boot sector's first bytes at 0x7c00")
    instructions = s.target.ReadInstructions(lldb.SBAddress(0x7C00, s.target), 3)
    mnemonics = [instructions.GetInstructionAtIndex(i).GetMnemonic(s.target) for i in range(3)]
    check_equal(mnemonics, ["cli", "xorw", "movw"], "16-bit disassembly at 0x7c00")

    check_equal(s.step_instruction(), 0x7C01, "pc after cli")
    check_equal(s.step_instruction(), 0x7C03, "pc after xor %ax, %ax (2 bytes in 16-bit code)")
    check_equal(s.register("eax") & 0xFFFF, 0, "ax after xor %ax, %ax")

    s.target.BreakpointCreateByName("print_string")
    s.continue_to("print_string")
    check(0 <= s.pc() - s.symbol("print_string") < 4, f"stop near print_string: {s.pc():#x}")
    check_equal(s.register("cs"), 0x07C0, "cs after the far jump to relocated")
    s.step_instruction()

    s.continue_to_exit(33)
    expect("serial boot sector done")


def smp():
    """smp.elf with --cpus 2: vCPU N is lldb's thread N + 1; exit code 101."""
    s = Lldb()
    s.attach()
    check_equal(s.process.GetNumThreads(), 2, "threads at the first stop")
    thread_ids = sorted(s.process.GetThreadAtIndex(i).GetThreadID() for i in range(2))
    check_equal(thread_ids, [1, 2], "thread ids")
    check_in("vCPU 0", s.process.GetThreadByID(1).GetName() or "", "thread 1's name")
    check_in("vCPU 1", s.process.GetThreadByID(2).GetName() or "", "thread 2's name")

    s.target.BreakpointCreateByName("ap_main")
    s.continue_to("ap_main")
    check_equal(s.thread().GetThreadID(), 2, "the thread at ap_main")
    check_equal(s.frame().FindVariable("cpu").GetValueAsUnsigned(), 1, "cpu at ap_main")
    bsp = s.process.GetThreadByID(1)
    check_equal(s.stop_reason(bsp), "none", "stop reason of the thread that did not hit it")
    bsp_pc = bsp.GetFrameAtIndex(0).GetPC()
    # Each thread's own registers (p with lldb's thread suffix): both vCPUs run flat 32-bit
    # code from the same GDT.
    ap_cs = s.register("cs")
    check(ap_cs != 0, "the AP's cs is a protected-mode selector")
    check_equal(bsp.GetFrameAtIndex(0).FindRegister("cs").GetValueAsUnsigned(), ap_cs,
                "the BSP's cs")
    check(bsp.GetFrameAtIndex(0).GetFunctionName() is not None, "the BSP's pc is in smp.elf")
    listed = s.run("thread list")
    check_in("tid = 0x0001", listed, "thread list")
    check_in("tid = 0x0002", listed, "thread list")

    # An instruction step runs the second vCPU alone (vCont;s:2).
    s.step_instruction()
    check_equal(s.thread().GetThreadID(), 2, "the thread after the step")
    check_equal(s.process.GetThreadByID(1).GetFrameAtIndex(0).GetPC(), bsp_pc,
                "the BSP's pc after the other vCPU's step")

    s.continue_to_exit(101)
    expect("serial smp: ok, cpus = 2")
    # lldb used its extensions (hvgdb logs each packet with --log-packets).
    for packet in ("< QThreadSuffixSupported", "< QListThreadsInStopReply", "< qHostInfo",
                   "< jThreadsInfo", ";thread:0002;", "threads:01,02;thread-pcs:"):
        expect(f"log {packet}")


SCENARIOS = {"hello64": hello64, "hello32": hello32, "boot": boot, "smp": smp}


def main():
    log(f"e2e: lldb {lldb.SBDebugger.GetVersionString()}, scenario {SCENARIO!r}, port {PORT}")
    lldb.SBDebugger.Initialize()
    try:
        check(VERSION == "" or f"version {VERSION}." in lldb.SBDebugger.GetVersionString(),
              f"E2E_LLDB_VERSION is {VERSION}, the module is another lldb")
        check(SCENARIO in SCENARIOS, f"unknown scenario {SCENARIO!r}; have {sorted(SCENARIOS)}")
        SCENARIOS[SCENARIO]()
    except Exception as e:  # CheckFailed and lldb's errors alike: report and fail
        log(f"FAILED: {type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stdout)
        return 1
    expect(f"pass {PHASE}")
    log(f"e2e: phase {PHASE} passed")
    return 0


if __name__ == "__main__":
    code = main()
    # os._exit: lldb's own threads would otherwise hold up the interpreter's exit.
    sys.stdout.flush()
    os._exit(code)
