// Probe on KVM: does int3 with KVM_GUESTDBG_USE_SW_BP come back as KVM_EXIT_DEBUG (#BP) at
// the int3's address, in real mode and in 32-bit protected mode?  Hardware VMX/SVM KVM says
// yes.  Hosts that answer otherwise (kvm_pvm delivers it to the guest in real mode and fails
// emulation in protected mode) get hlt breakpoints instead, which exit to user space there.
// Also: do debug-register watchpoints trap, and does a single step run one iteration of a REP
// string instruction?
#include <sys/mman.h>

#include <cstring>

#include <fmt/format.h>

#include "vcpu/probe.hpp"
#include "vcpu/vm.hpp"

namespace hvgdb::vcpu {

namespace {

constexpr std::uint64_t probe_ram = 0x10000;
constexpr std::uint64_t code_at = 0x1000;  // nop; int3; hlt

struct MappedRam {
    std::uint8_t* p = nullptr;
    MappedRam() {
        void* m =
            ::mmap(nullptr, probe_ram, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) p = static_cast<std::uint8_t*>(m);
    }
    ~MappedRam() {
        if (p) ::munmap(p, probe_ram);
    }
};

constexpr std::uint64_t store_at = 0x1100;  // mov [0x500], ax; hlt
constexpr std::uint64_t watched = 0x500;
constexpr std::uint64_t rep_at = 0x1200;  // rep stosb; hlt (with CX = 2, to ES:DI = 0:0)

// Puts the vCPU at `rip` (with `rcx`) in real or flat 32-bit protected mode with `dbg`, runs
// it, and returns the first exit that is not a kick.
Result<Exit> run_from(Vcpu& vcpu, bool protected_mode, std::uint64_t rip, const DebugControl& dbg,
                      std::uint64_t rcx = 0) {
    auto sregs = vcpu.get_system_registers();
    if (!sregs) return std::unexpected(sregs.error());
    x86::Segment code{.base = 0, .limit = 0xffff, .selector = 0, .type = 0xb};
    x86::Segment data{.base = 0, .limit = 0xffff, .selector = 0, .type = 0x3};
    sregs->cr0 = 0x60000010;
    if (protected_mode) {
        sregs->cr0 |= 1;  // PE; flat 4 GiB segments, no GDT needed as nothing reloads them
        code = {.base = 0, .limit = 0xffffffff, .selector = 8, .type = 0xb, .db = true, .g = true};
        data = {.base = 0, .limit = 0xffffffff, .selector = 16, .type = 0x3, .db = true, .g = true};
    }
    sregs->cs = code;
    sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
    if (auto r = vcpu.set_system_registers(*sregs); !r) return std::unexpected(r.error());
    x86::Registers regs;
    regs.rip = rip;
    regs.rsp = 0x8000;
    regs.rcx = rcx;
    if (auto r = vcpu.set_registers(regs); !r) return std::unexpected(r.error());
    if (auto r = vcpu.set_debug(dbg); !r) return std::unexpected(r.error());
    for (int attempt = 0; attempt < 4; ++attempt) {
        auto exit = vcpu.run();
        if (!exit || !std::holds_alternative<Kicked>(*exit)) return exit;
    }
    return Exit{Kicked{}};
}

// True when int3 under KVM_GUESTDBG_USE_SW_BP stops as a #BP debug exit at the int3.
Result<bool> int3_traps(Vcpu& vcpu, bool protected_mode) {
    DebugControl dbg;
    dbg.trap_software_breakpoints = true;
    auto exit = run_from(vcpu, protected_mode, code_at, dbg);
    if (!exit) return std::unexpected(exit.error());
    auto* trap = std::get_if<DebugTrap>(&*exit);
    return trap && trap->vector == 3 && trap->pc == code_at + 1;
}

// True when a debug-register write watchpoint (DR0, R/W 01, 2 bytes) stops the store.
Result<bool> data_breakpoints_trap(Vcpu& vcpu) {
    DebugControl dbg;
    dbg.dr[0] = watched;
    dbg.dr7 = 0x2 | (1u << 16) | (1u << 18) | 0x600;  // G0, write, 2 bytes (SDM vol. 3B, 17.2.4)
    auto exit = run_from(vcpu, false, store_at, dbg);
    if (!exit) return std::unexpected(exit.error());
    auto* trap = std::get_if<DebugTrap>(&*exit);
    return trap && trap->vector == 1 && (trap->dr6 & 1);
}

// True when a single step over `rep stosb` with CX = 2 stops after one iteration (CX = 1, IP
// still at the instruction), as the CPU's single-step trap does (SDM vol. 3B, 17.3.1.4);
// false on hosts that emulate the instruction a chunk of iterations at a time (kvm_pvm).
Result<bool> rep_steps_one_iteration(Vcpu& vcpu) {
    DebugControl dbg;
    dbg.single_step = true;
    auto exit = run_from(vcpu, false, rep_at, dbg, 2);
    if (!exit) return std::unexpected(exit.error());
    auto regs = vcpu.get_registers();
    if (!regs) return std::unexpected(regs.error());
    return std::holds_alternative<DebugTrap>(*exit) && regs->rip == rep_at &&
           (regs->rcx & 0xffff) == 1;
}

}  // namespace

Result<ProbeResult> probe_host() {
    MappedRam ram;
    if (!ram.p) return errno_error("mmap probe RAM");
    std::memset(ram.p, 0xf4, probe_ram);  // anything that runs away halts
    const std::uint8_t code[] = {0x90, 0xcc, 0xf4};
    std::memcpy(ram.p + code_at, code, sizeof code);
    const std::uint8_t store[] = {0xa3, 0x00, 0x05, 0xf4};  // mov [0x500], ax; hlt
    std::memcpy(ram.p + store_at, store, sizeof store);
    const std::uint8_t rep_stosb[] = {0xf3, 0xaa, 0xf4};
    std::memcpy(ram.p + rep_at, rep_stosb, sizeof rep_stosb);

    auto vm = Vm::create();
    if (!vm) return std::unexpected(vm.error());
    if (auto r = (*vm)->map({ram.p, probe_ram}, 0, MemoryPermissions::read_write_execute); !r)
        return std::unexpected(r.error());
    auto vcpu = Vcpu::create(**vm, 0);
    if (!vcpu) return std::unexpected(vcpu.error());

    ProbeResult result;
    // Data breakpoints first: a failed int3 emulation below may leave the vCPU unusable.
    auto data = data_breakpoints_trap(**vcpu);
    if (!data) return std::unexpected(data.error());
    result.data_breakpoints = *data;
    auto rep = rep_steps_one_iteration(**vcpu);
    if (!rep) return std::unexpected(rep.error());
    result.rep_iteration_steps = *rep;
    result.block_interrupts = (*vm)->capabilities().block_irq_when_stepping;

    std::string breakpoint_note = "software breakpoints use int3";
    for (bool pm : {false, true}) {
        auto ok = int3_traps(**vcpu, pm);
        if (!ok) return std::unexpected(ok.error());
        if (!*ok) {
            result.mechanism = SwBreakpointMechanism::hlt;
            breakpoint_note = fmt::format(
                "int3 does not trap to the host in {} mode here, so software breakpoints use hlt",
                pm ? "protected" : "real");
            break;
        }
    }
    std::string watch_note =
        result.data_breakpoints
            ? "watchpoints use the debug registers, and page protection beyond them"
            : "debug-register watchpoints do not trap here, so watchpoints use page protection "
              "(exact, an exit for each guest access to a watched page)";
    // hvgdb injects no interrupts (no interrupt controller yet), so without BLOCKIRQ a step is
    // the same; the note says which it is for when there are interrupt sources.
    std::string step_note = fmt::format(
        "single steps {} and {} of a REP string instruction",
        result.block_interrupts ? "block interrupts" : "cannot block interrupts here",
        result.rep_iteration_steps ? "run one iteration" : "may run several iterations");
    result.note = fmt::format("{}; {}; {}", breakpoint_note, watch_note, step_note);
    return result;
}

}  // namespace hvgdb::vcpu
