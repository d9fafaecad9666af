// Fault sentences for the console line a fault stop prints.
#include "vcpu/faults.hpp"

#include <fmt/format.h>

namespace hvgdb::vcpu {

namespace {

constexpr std::string_view stopped = "stopped for inspection";
constexpr std::uint64_t cr0_pg = 1ull << 31;

// True when the CPU fetches from a physical address no memory region holds.  Only known with
// paging off (linear == physical); with paging on, nothing is claimed.
bool fetches_from_nowhere(const x86::Registers& regs, const x86::SystemRegisters& sregs,
                          const PhysicalMemory& memory) {
    if (sregs.cr0 & cr0_pg) return false;
    return memory.host_from(x86::code_linear_address(sregs, regs.rip)).empty();
}

}  // namespace

std::string describe_location(const x86::Registers& regs, const x86::SystemRegisters& sregs) {
    const x86::CpuMode mode = x86::cpu_mode(sregs);
    const int digits = mode == x86::CpuMode::long64        ? 16
                       : mode == x86::CpuMode::protected32 ? 8
                                                           : 4;
    const std::uint64_t ip = digits == 4 ? regs.rip & 0xffff : regs.rip;
    return fmt::format("{:04x}:{:0{}x} (linear {:#x}, {})", sregs.cs.selector, ip, digits,
                       x86::code_linear_address(sregs, regs.rip), x86::mode_name(sregs));
}

std::optional<FaultReport> describe_fault(const Exit& exit, const x86::Registers& regs,
                                          const x86::SystemRegisters& sregs,
                                          const PhysicalMemory& memory) {
    const std::string at = describe_location(regs, sregs);
    if (std::holds_alternative<Shutdown>(exit))
        return FaultReport{
            FaultKind::triple_fault,
            fmt::format("guest triple fault at {}: the CPU would reset; {}", at, stopped)};
    if (const auto* err = std::get_if<InternalError>(&exit)) {
        if (err->emulation && fetches_from_nowhere(regs, sregs, memory))
            return FaultReport{
                FaultKind::internal_error,
                fmt::format("the guest executes at {}, where there is no memory; {} [{}]", at,
                            stopped, err->detail)};
        if (err->emulation)
            return FaultReport{
                FaultKind::internal_error,
                fmt::format("the host hypervisor failed to emulate the instruction at {}; this "
                            "is a limitation of the host, not of the guest (unless the "
                            "instruction accesses memory that does not exist); {} [{}]",
                            at, stopped, err->detail)};
        return FaultReport{FaultKind::internal_error,
                           fmt::format("the host hypervisor cannot go on with the guest at {}; {} "
                                       "[{}]",
                                       at, stopped, err->detail)};
    }
    if (const auto* failed = std::get_if<EntryFailed>(&exit))
        return FaultReport{
            FaultKind::entry_failed,
            fmt::format("the hardware refused to enter the guest at {} (VM entry failed, reason "
                        "{:#x}): the CPU state is not one the hardware runs; {}",
                        at, failed->reason, stopped)};
    return std::nullopt;
}

std::string repeated_fault_text(const std::string& original) {
    return fmt::format(
        "{} (again: the vCPU does not run on from a fault until the debugger changes its "
        "registers or writes guest memory)",
        original);
}

}  // namespace hvgdb::vcpu
