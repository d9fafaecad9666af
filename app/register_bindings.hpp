// Where each register of the gdb register tables lives in a vCPU snapshot, keyed by gdb's
// register name: one row per name.  The adapter binds arch rows to these by name.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "vcpu/machine.hpp"

namespace hvgdb::app {

struct RegisterBinding {
    std::string_view name;
    // Integer registers: the value, zero-extended to 64 bits.
    std::uint64_t (*get)(const vcpu::VcpuSnapshot&) = nullptr;
    void (*set)(vcpu::VcpuSnapshot&, std::uint64_t) = nullptr;
    // Wider registers (x87, SSE): their bytes, little-endian.
    std::span<std::uint8_t> (*bytes)(vcpu::VcpuSnapshot&) = nullptr;
    // The snapshot parts the row lives in: `cpu` for the general and system registers, which
    // every stop reads.
    vcpu::SnapshotParts parts = vcpu::SnapshotParts::all;
};

// nullptr when hvgdb has no such register.
const RegisterBinding* find_register_binding(std::string_view name);

}  // namespace hvgdb::app
