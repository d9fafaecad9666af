// Start-up probe of what the host hypervisor does with debug traps, so hvgdb can pick a
// software-breakpoint mechanism that works there.  Implemented by the backend.
#pragma once

#include <string>

#include "common/error.hpp"
#include "vcpu/breakpoints.hpp"

namespace hvgdb::vcpu {

struct ProbeResult {
    SwBreakpointMechanism mechanism = SwBreakpointMechanism::int3;
    bool data_breakpoints = true;  // debug-register write/access watchpoints trap to the host
    // A single step runs one iteration of a REP string instruction, as the CPU's trap flag
    // does; false where the host emulates them several iterations at a time.
    bool rep_iteration_steps = true;
    bool block_interrupts = false;  // single steps block interrupts (KVM_GUESTDBG_BLOCKIRQ)
    std::string note;               // why, for the banner and logs
};

// Runs a tiny throw-away VM on the calling thread.
Result<ProbeResult> probe_host();

}  // namespace hvgdb::vcpu
