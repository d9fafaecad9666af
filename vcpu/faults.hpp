// Faults that stop a vCPU for good (a triple fault, an instruction the hypervisor cannot
// emulate, a refused VM entry), in words: what happened, where, and whether the guest or the
// host is to blame.  Pure: an exit and the CPU state in, a sentence out.  Depends on the
// machine's types and x86/state.hpp.
#pragma once

#include <optional>
#include <string>

#include "vcpu/exit.hpp"
#include "vcpu/machine.hpp"
#include "vcpu/physical_memory.hpp"
#include "vcpu/x86/state.hpp"

namespace hvgdb::vcpu {

struct FaultReport {
    FaultKind kind = FaultKind::none;
    std::string text;
};

// For a Shutdown, InternalError or EntryFailed exit: the fault and a sentence that says what
// happened at which CS:IP (and linear address) in which CPU mode, e.g.
//   guest triple fault at 0008:00100016 (linear 0x100016, 32-bit protected mode): the CPU
//   would reset; stopped for inspection
// nullopt for every other exit.  `memory` tells an instruction in memory the hypervisor could
// not emulate (the host's limit) from a jump to where there is no memory (the guest's doing).
std::optional<FaultReport> describe_fault(const Exit& exit, const x86::Registers& regs,
                                          const x86::SystemRegisters& sregs,
                                          const PhysicalMemory& memory);

// "0008:00100016 (linear 0x100016, 32-bit protected mode)": CS:IP as wide as the mode's IP.
std::string describe_location(const x86::Registers& regs, const x86::SystemRegisters& sregs);

// The text of a fault reported again because the debugger resumed a vCPU it stopped without
// changing its registers first (the vCPU does not enter the guest again from that state).
std::string repeated_fault_text(const std::string& original);

}  // namespace hvgdb::vcpu
