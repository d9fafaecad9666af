// Probe on KVM: does int3 with KVM_GUESTDBG_USE_SW_BP come back as KVM_EXIT_DEBUG (#BP) at
// the int3's address, in real mode and in 32-bit protected mode?  Hardware VMX/SVM KVM says
// yes.  Hosts that answer otherwise (kvm_pvm delivers it to the guest in real mode and fails
// emulation in protected mode) get hlt breakpoints instead, which exit to user space there.
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

// One run from `code_at`; true when it stops as a #BP debug exit at the int3.
Result<bool> int3_traps(Vcpu& vcpu, bool protected_mode) {
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
    regs.rip = code_at;
    regs.rsp = 0x8000;
    if (auto r = vcpu.set_registers(regs); !r) return std::unexpected(r.error());
    DebugControl dbg;
    dbg.trap_software_breakpoints = true;
    if (auto r = vcpu.set_debug(dbg); !r) return std::unexpected(r.error());
    for (int attempt = 0; attempt < 4; ++attempt) {
        auto exit = vcpu.run();
        if (!exit) return std::unexpected(exit.error());
        if (std::holds_alternative<Kicked>(*exit)) continue;
        auto* trap = std::get_if<DebugTrap>(&*exit);
        return trap && trap->vector == 3 && trap->pc == code_at + 1;
    }
    return false;
}

}  // namespace

Result<ProbeResult> probe_host() {
    MappedRam ram;
    if (!ram.p) return errno_error("mmap probe RAM");
    std::memset(ram.p, 0xf4, probe_ram);  // anything that runs away halts
    const std::uint8_t code[] = {0x90, 0xcc, 0xf4};
    std::memcpy(ram.p + code_at, code, sizeof code);

    auto vm = Vm::create();
    if (!vm) return std::unexpected(vm.error());
    if (auto r = (*vm)->map({ram.p, probe_ram}, 0, MemoryPermissions::read_write_execute); !r)
        return std::unexpected(r.error());
    auto vcpu = Vcpu::create(**vm, 0);
    if (!vcpu) return std::unexpected(vcpu.error());

    ProbeResult result;
    for (bool pm : {false, true}) {
        auto ok = int3_traps(**vcpu, pm);
        if (!ok) return std::unexpected(ok.error());
        if (!*ok) {
            result.mechanism = SwBreakpointMechanism::hlt;
            result.note = fmt::format(
                "int3 does not trap to the host in {} mode here; software breakpoints use hlt",
                pm ? "protected" : "real");
            return result;
        }
    }
    result.note = "int3 traps to the host; software breakpoints use int3";
    return result;
}

}  // namespace hvgdb::vcpu
