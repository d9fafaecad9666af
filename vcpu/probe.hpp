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
    std::string note;              // why, for the banner and logs
};

// Runs a tiny throw-away VM on the calling thread.
Result<ProbeResult> probe_host();

}  // namespace hvgdb::vcpu
