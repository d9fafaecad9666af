// Why Vcpu::run() returned, as a variant (the analogue of hv_vcpu_exit_t).  Spans point into
// the backend's run area and stay valid until the next run() on the same vCPU.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>

namespace hvgdb::vcpu {

// Port I/O: `count` accesses of `size` (1, 2 or 4) bytes each; string I/O has count > 1.
struct IoOut {
    std::uint16_t port;
    std::uint8_t size;
    std::uint32_t count;
    std::span<const std::uint8_t> data;  // size * count bytes
};
struct IoIn {
    std::uint16_t port;
    std::uint8_t size;
    std::uint32_t count;
    std::span<std::uint8_t> data;  // size * count bytes to fill before the next run()
};
struct MmioAccess {
    std::uint64_t gpa;
    std::span<std::uint8_t> data;  // fill for reads before the next run()
    bool is_write;
};
struct Halt {};
// A debug exception trapped to the host (single step, debug-register hit, software
// breakpoint).  vector is 1 (#DB) or 3 (#BP); pc is the linear address KVM reports.
struct DebugTrap {
    std::uint8_t vector;
    std::uint64_t pc;
    std::uint64_t dr6;
};
// run() returned because another thread called Vm::exit_vcpus (or a signal arrived).
struct Kicked {};
// The guest can take an external interrupt now (Vcpu::request_interrupt_window).
struct InterruptWindow {};
struct Shutdown {};  // triple fault
struct InternalError {
    std::uint32_t suberror;
    std::string detail;
    bool emulation = false;  // the hypervisor could not emulate an instruction of the guest's
};
struct EntryFailed {
    std::uint64_t reason;
};
struct UnknownExit {
    std::uint32_t reason;
};

using Exit = std::variant<IoOut, IoIn, MmioAccess, Halt, DebugTrap, Kicked, InterruptWindow,
                          Shutdown, InternalError, EntryFailed, UnknownExit>;

}  // namespace hvgdb::vcpu
