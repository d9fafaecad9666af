// One single step as hvgdb defines it (README, "Stepping"): the host's single step, plus what
// makes it the same on every KVM.  A step over INT n, INT3 or INTO stops at the first
// instruction of the guest's handler, and a step never stops at a REP string instruction
// whose count has run out.  Machine::Impl members; see vcpu_loop.hpp.
#include <algorithm>
#include <array>

#include "vcpu/vcpu_loop.hpp"
#include "vcpu/x86/paging.hpp"

namespace hvgdb::vcpu {

namespace {

// Guest memory at linear addresses, through the vCPU's page tables, as the guest wrote it
// (software breakpoints read as their original bytes).
struct LinearMemory {
    const PhysicalMemory& memory;
    SwBreakpoints& breakpoints;
    const x86::SystemRegisters& sregs;

    std::optional<x86::Translation> translate(std::uint64_t linear) const {
        auto t = x86::translate(x86::paging_control(sregs), linear,
                                [this](std::uint64_t gpa, std::span<std::uint8_t> out) {
                                    return memory.read_raw(gpa, out);
                                });
        if (!t) return std::nullopt;
        return *t;
    }

    // How many bytes it read before the first one it could not.
    std::size_t read(std::uint64_t linear, std::span<std::uint8_t> out) const {
        std::size_t done = 0;
        while (done < out.size()) {
            auto t = translate(linear + done);
            if (!t) break;
            const std::size_t n = std::min<std::uint64_t>(out.size() - done, t->bytes_left);
            auto got = breakpoints.read(t->physical, out.subspan(done, n));
            if (!got) break;
            done += *got;
            if (*got < n) break;
        }
        return done;
    }

    bool write_byte(std::uint64_t linear, std::uint8_t value) {
        auto t = translate(linear);
        return t && breakpoints.write(t->physical, {&value, 1});
    }
};

constexpr std::uint64_t dr7_fixed = 0x400;  // bit 10 reads as 1
constexpr std::uint64_t dr7_ge = 0x200;     // exact breakpoint match

}  // namespace

void add_step_catch(DebugControl& debug, std::uint64_t linear) {
    // The first debug register the debugger leaves free: an instruction breakpoint (R/W and
    // LEN 00, global enable; SDM vol. 3B, 17.2.4).
    for (unsigned slot = 0; slot < 4; ++slot) {
        if (debug.dr7 & (3ull << (2 * slot))) continue;
        debug.dr[slot] = linear;
        debug.dr7 &= ~(0xfull << (16 + 4 * slot));
        debug.dr7 |= (2ull << (2 * slot)) | dr7_fixed | dr7_ge;
        return;
    }
}

void Machine::Impl::plan_step(VcpuThread& self) {
    // The vCPU is stopped and its snapshot is its state (loaded, written or taken at the stop).
    x86::Registers regs;
    x86::SystemRegisters sregs;
    {
        std::lock_guard lock(mutex);
        regs = self.snapshot.regs;
        sregs = self.snapshot.sregs;
    }
    StepPlan plan;
    plan.pc = x86::code_linear_address(sregs, regs.rip);
    LinearMemory linear{memory, breakpoints, sregs};
    std::array<std::uint8_t, 15> bytes{};  // the longest instruction (SDM vol. 2A, 2.3.11)
    const std::size_t fetched = linear.read(plan.pc, bytes);
    plan.instruction = x86::classify_instruction({bytes.data(), fetched}, x86::cpu_mode(sregs));
    // A breakpoint's hlt byte at the PC is not stepped (see run_until_stop); an int3 one traps
    // before it runs anyway.
    if (breakpoints.mechanism() == SwBreakpointMechanism::hlt) {
        if (auto t = linear.translate(plan.pc)) {
            std::uint8_t byte = 0;
            plan.on_breakpoint =
                breakpoints.classify(plan.pc, t->physical) == SwBreakpoints::Trap::breakpoint &&
                memory.read_raw(t->physical, {&byte, 1}) &&
                byte == breakpoint_opcode(SwBreakpointMechanism::hlt);
        }
    }
    // INT n, INT3, INTO: the CPU clears TF as it enters the handler through the IVT or IDT
    // (SDM vol. 3B, 17.3.1.4), so the host's single-step trap would come only after the
    // handler returned and the next instruction ran, or never.  A host that emulates the
    // instruction stops at the handler's first instruction instead.  An instruction breakpoint
    // there, in a debug register the debugger leaves free, makes every host stop there.
    if (plan.instruction.kind == x86::InstructionClass::Kind::software_interrupt)
        plan.entry = x86::interrupt_entry(sregs, regs.rflags, plan.instruction.vector,
                                          [&](std::uint64_t at, std::span<std::uint8_t> out) {
                                              return linear.read(at, out) == out.size();
                                          });
    self.step_plan = plan;
}

VcpuStop Machine::Impl::finish_step(Vcpu& vcpu, VcpuThread& self, VcpuStop stop,
                                    bool debug_registers_off) {
    std::optional<StepPlan> plan = std::move(self.step_plan);
    self.step_plan.reset();
    if (!plan || stop.cause == StopCause::exited || stop.cause == StopCause::fault) return stop;
    if (!plan->entry && plan->instruction.kind != x86::InstructionClass::Kind::repeated_string)
        return stop;
    auto regs = vcpu.get_registers();
    auto sregs = vcpu.get_system_registers();
    if (!regs || !sregs) return stop;
    const std::uint64_t pc = x86::code_linear_address(*sregs, regs->rip);

    if (plan->entry && pc == plan->entry->handler) {
        // The step's end, or a breakpoint of the debugger's on the handler.  On hardware the
        // FLAGS image the CPU pushed holds the TF that KVM set for the step; the guest's IRET
        // would load it and take a #DB it never asked for.  The guest's own TF cannot be told
        // apart (KVM hides RFLAGS.TF while it single-steps), so it is cleared.
        LinearMemory linear{memory, breakpoints, *sregs};
        const std::uint64_t flags_high =  // TF is bit 8: bit 0 of the image's second byte
            x86::pushed_flags_address(*sregs, regs->rsp, plan->entry->slot_bytes) + 1;
        std::uint8_t byte = 0;
        if (linear.read(flags_high, {&byte, 1}) == 1 && (byte & 1))
            (void)linear.write_byte(flags_high, byte & ~1u);
    }

    // A host that emulates a REP string instruction a chunk of iterations at a time (kvm_pvm)
    // stops at it once more after the last chunk, with the count at 0 and nothing left to do.
    // The CPU's trap after the last iteration comes with RIP past the instruction (SDM vol.
    // 3B, 17.3.1.4), so the step goes on to there.
    if (stop.cause == StopCause::step &&
        plan->instruction.kind == x86::InstructionClass::Kind::repeated_string && pc == plan->pc &&
        x86::string_count(regs->rcx, plan->instruction.address_bits) == 0)
        return run_until_stop(vcpu, self, true, debug_registers_off);
    return stop;
}

}  // namespace hvgdb::vcpu
