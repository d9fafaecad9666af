// A real-mode vCPU state for the machine tests: CS:IP with CS.base as given, 64 KiB data
// segments at 0, and the stack below 0x7000.
#pragma once

#include <cstdint>

#include "vcpu/machine.hpp"

namespace hvgdb::vcpu::testing {

inline VcpuSnapshot real_mode(std::uint16_t cs, std::uint64_t cs_base, std::uint64_t ip) {
    VcpuSnapshot s;
    s.sregs.cs.selector = cs;
    s.sregs.cs.base = cs_base;
    s.sregs.cs.type = 0xb;
    s.sregs.ds.type = s.sregs.es.type = s.sregs.ss.type = s.sregs.fs.type = s.sregs.gs.type = 3;
    s.sregs.tr.type = 0xb;
    s.sregs.tr.s = false;
    s.sregs.ldt.type = 2;
    s.sregs.ldt.s = false;
    s.regs.rip = ip;
    s.regs.rsp = 0x7000;
    return s;
}

// What app::init_snapshot makes of the loader's reset state (SDM vol. 3A, table 9-1), for
// machines tested without the loader: F000:FFF0 with CS.base FFFF0000, EDX the processor
// signature.
inline VcpuSnapshot init_state(std::uint32_t signature = 0x600) {
    VcpuSnapshot s = real_mode(0xf000, 0xffff0000, 0xfff0);
    s.regs.rsp = 0;
    s.regs.rdx = signature;
    return s;
}

}  // namespace hvgdb::vcpu::testing
