// The text of hvgdb's monitor commands that show machine state: pure functions of the state,
// so that tests check the exact text without a machine.  Register values come through the
// register bindings and their bits are named by the flags types of the register tables, as
// gdb names them.  Depends on vcpu/ (state types) and gdbstub/arch (the tables).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vcpu/devices.hpp"
#include "vcpu/machine.hpp"
#include "vcpu/physical_memory.hpp"
#include "vcpu/x86/lapic.hpp"
#include "vcpu/x86/paging.hpp"

namespace hvgdb::app {

// `monitor regs`: vCPU `vcpu`'s system state: its run state (`run_state`, "stopped" or
// "waiting for SIPI"), CPU mode and paging mode, RIP, RSP and RFLAGS, the control registers
// and EFER with their bits, every segment register (selector, base, limit, attributes and
// what its type is), GDTR, IDTR, LDTR and TR, the debug registers and the MSRs hvgdb reads.
std::string system_state_report(unsigned vcpu, std::string_view run_state,
                                const vcpu::VcpuSnapshot&);

// A segment descriptor's type in words (SDM vol. 3A, tables 3-1 and 3-2): "code,
// execute/read, accessed", "64-bit TSS (busy)", "LDT"; `long_mode` picks the IA-32e meaning
// of system types.
std::string segment_type(const vcpu::x86::Segment&, bool long_mode);

// A size in the largest binary unit that divides it: "4 KiB", "2 MiB", "1 GiB", "100 bytes".
std::string size_text(std::uint64_t bytes);

// `monitor translate`: one line, where `linear` leads (physical address, page size, rights).
std::string translation_report(std::uint64_t linear, const vcpu::x86::Translation&);

// `monitor walk`: one line per paging-structure entry the walk read (table, index, where, the
// raw entry, its flags, where it leads), then translation_report's line or why the walk
// stopped.
std::string page_walk_report(std::uint64_t linear, const vcpu::x86::PageWalk&);

// `monitor xp`: `bytes` read at guest-physical `address`, 16 to a line with their address and
// their printable characters.
std::string hex_dump(std::uint64_t address, std::span<const std::uint8_t> bytes);

// `monitor devices`: the port devices with their registers, the guest memory regions (RAM and
// ROM), and one xAPIC (ID, version, priorities, SVR, ICR, the LVT entries, the timer, and the
// vectors requested and in service).
std::string port_devices_report(std::span<const vcpu::PortDeviceState>);
std::string memory_regions_report(std::span<const vcpu::MemoryRegion>);
std::string lapic_report(const vcpu::x86::Lapic&);

}  // namespace hvgdb::app
