// MachineTarget's monitor commands about the machine: the system state of gdb's current
// thread's vCPU, page walks, guest-physical memory, the devices, reset and quit.  Their text
// comes from monitor_reports.hpp.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "app/machine_target.hpp"
#include "app/monitor_reports.hpp"
#include "app/options.hpp"

namespace hvgdb::app {

namespace {

// `monitor xp` reads at most a page at a time: a screenful is what a person reads anyway.
constexpr std::uint64_t xp_default_bytes = 64;
constexpr std::uint64_t xp_max_bytes = 4096;

// "0x0-0x7ffffff RAM, 0xffff0000-0xffffffff ROM", for an address outside them.
std::string memory_ranges(std::span<const vcpu::MemoryRegion> regions) {
    std::string out;
    for (const auto& r : regions)
        out += fmt::format("{}{:#x}-{:#x} {}", out.empty() ? "" : ", ", r.gpa, r.end() - 1,
                           r.rom() ? "ROM" : "RAM");
    return out;
}

}  // namespace

Result<void> MachineTarget::require_stopped(std::string_view command) const {
    if (!machine_.running(selected_vcpu_)) return {};
    return make_error(ErrorKind::invalid,
                      fmt::format("'monitor {}' needs gdb's current thread stopped, and thread {} "
                                  "(vCPU {}) is running: interrupt it first",
                                  command, selected_vcpu_ + 1, selected_vcpu_));
}

std::string MachineTarget::run_state(unsigned id) const {
    const bool waiting = machine_.waiting_for_sipi(id);
    if (machine_.running(id)) return waiting ? "running, waiting for SIPI" : "running";
    return waiting ? "stopped, waiting for SIPI" : "stopped";
}

Result<std::string> MachineTarget::monitor_regs() const {
    if (auto r = require_stopped("regs"); !r) return std::unexpected(r.error());
    return system_state_report(selected_vcpu_, run_state(selected_vcpu_),
                               machine_.snapshot(selected_vcpu_));
}

Result<std::string> MachineTarget::monitor_walk(std::span<const std::string_view> arguments) const {
    if (arguments.size() != 1) return make_error(ErrorKind::invalid, "usage: monitor walk ADDR");
    auto linear = parse_address(arguments[0]);
    if (!linear) return std::unexpected(linear.error());
    if (auto r = require_stopped("walk"); !r) return std::unexpected(r.error());
    const vcpu::VcpuSnapshot s = machine_.snapshot(selected_vcpu_);
    const auto walk = vcpu::x86::walk(vcpu::x86::paging_control(s.sregs), *linear,
                                      page_table_reader(), page_table_root_);
    std::string out = fmt::format("vCPU {}: {}", selected_vcpu_, vcpu::x86::to_string(walk.mode));
    if (walk.mode != vcpu::x86::PagingMode::off)
        out += page_table_root_
                   ? fmt::format(", tables at {:#x} ('monitor root')", *page_table_root_)
                   : fmt::format(", tables at CR3 {:#x}", s.sregs.cr3);
    return out + "\n" + page_walk_report(*linear, walk);
}

Result<std::string> MachineTarget::monitor_xp(std::span<const std::string_view> arguments) const {
    if (arguments.empty() || arguments.size() > 2)
        return make_error(ErrorKind::invalid, "usage: monitor xp ADDR [LEN]");
    auto address = parse_address(arguments[0]);
    if (!address) return std::unexpected(address.error());
    std::uint64_t length = xp_default_bytes;
    if (arguments.size() == 2) {
        auto n = parse_address(arguments[1]);
        if (!n) return std::unexpected(n.error());
        length = *n;
    }
    if (length == 0 || length > xp_max_bytes)
        return make_error(
            ErrorKind::invalid,
            fmt::format("monitor xp reads 1 to {} bytes at a time, not {}", xp_max_bytes, length));
    std::vector<std::uint8_t> bytes(length);
    auto n = machine_.read_physical(*address, bytes);
    if (!n || *n == 0)
        return make_error(ErrorKind::invalid,
                          fmt::format("guest-physical {:#x} is not in guest memory ({})", *address,
                                      memory_ranges(machine_.memory_map())));
    bytes.resize(*n);
    std::string out = hex_dump(*address, bytes);
    if (*n < length)
        out += fmt::format("guest-physical {:#x} and on is not in guest memory\n", *address + *n);
    return out;
}

std::string MachineTarget::monitor_devices() const {
    auto devices = machine_.devices();
    std::string out = devices ? port_devices_report(*devices)
                              : "port devices: not available, a vCPU is blocked writing to the "
                                "guest console (is its reader reading?)\n";
    out += memory_regions_report(machine_.memory_map());
    for (unsigned id = 0; id < machine_.vcpu_count(); ++id) {
        out += fmt::format("vCPU {} (thread {}), {}:\n", id, id + 1, run_state(id));
        out += lapic_report(machine_.lapic(id));
    }
    return out;
}

Result<std::string> MachineTarget::monitor_reset() {
    if (!reload_) return make_error(ErrorKind::invalid, "this machine has no image to load again");
    for (unsigned id = 0; id < machine_.vcpu_count(); ++id)
        if (machine_.running(id))
            return make_error(ErrorKind::invalid,
                              fmt::format("'monitor reset' needs every thread stopped, and thread "
                                          "{} is running: interrupt them first (interrupt -a)",
                                          id + 1));
    if (auto r = machine_.reset(reload_); !r)
        return make_error(ErrorKind::invalid, "reset failed: " + r.error().message());
    noticed_ = nullptr;  // the mode may differ: its notice is due again
    const vcpu::VcpuSnapshot bsp = machine_.snapshot(0);
    std::string out = fmt::format(
        "hvgdb: reset: guest RAM cleared and the image loaded again, every vCPU in its initial "
        "state, devices reset; breakpoints and watchpoints stay inserted.\n"
        "vCPU 0 starts at {:#x} in {}.\n"
        "Registers changed: gdb shows its old copies until 'maint flush register-cache' "
        "(hvgdb.py does that after every monitor command).\n",
        linear_pc(bsp), vcpu::x86::mode_name(bsp.sregs));
    const gdbstub::arch::Arch& natural = natural_view(bsp.sregs);
    if (!forced_view_ && &natural != view_->arch)
        out += fmt::format(
            "gdb's register view is {}, this mode's is {} ('monitor view auto' and "
            "'monitor tdesc'; hvgdb.py switches it).\n",
            view_->arch->name, natural.name);
    return out;
}

std::string MachineTarget::monitor_quit() {
    end_requested_ = true;  // the session kills the machine after this reply
    return "hvgdb: the guest ends and hvgdb exits, as with 'kill'.\n";
}

}  // namespace hvgdb::app
