// MachineTarget: registers from the published snapshot, memory through the machine's
// breakpoint-aware RAM access, breakpoints and run control mapped onto Machine calls.
#include "app/machine_target.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace hvgdb::app {

using gdbstub::BreakpointType;
using gdbstub::StopEvent;
using gdbstub::StopReason;
using gdbstub::ThreadId;

namespace {
// GDB's own signal numbers (include/gdb/signals.def), which stop replies carry.
constexpr std::uint8_t gdb_sigint = 2, gdb_sigill = 4, gdb_sigtrap = 5, gdb_sigsegv = 11;
}  // namespace

Result<std::unique_ptr<MachineTarget>> MachineTarget::create(
    vcpu::Machine& machine, const gdbstub::arch::Arch& arch,
    std::function<void(const std::string&)> log) {
    std::vector<const RegisterBinding*> rows;
    for (const auto& reg : arch.registers) {
        const RegisterBinding* b = find_register_binding(reg.name);
        if (!b)
            return make_error(ErrorKind::fatal, fmt::format("register '{}' of {} has no binding",
                                                            reg.name, arch.name));
        vcpu::VcpuSnapshot sample;
        std::size_t bits = b->bytes ? b->bytes(sample).size() * 8 : 64;
        if (reg.bitsize > bits)
            return make_error(ErrorKind::fatal,
                              fmt::format("register '{}' is wider than its binding", reg.name));
        rows.push_back(b);
    }
    return std::unique_ptr<MachineTarget>(
        new MachineTarget(machine, arch, std::move(rows), std::move(log)));
}

MachineTarget::MachineTarget(vcpu::Machine& machine, const gdbstub::arch::Arch& arch,
                             std::vector<const RegisterBinding*> rows,
                             std::function<void(const std::string&)> log)
    : machine_(machine),
      arch_(arch),
      rows_(std::move(rows)),
      pc_row_(gdbstub::arch::find_generic(arch, gdbstub::arch::Generic::pc)),
      log_(std::move(log)) {}

std::uint64_t MachineTarget::linear_pc(const vcpu::VcpuSnapshot& s) {
    return vcpu::x86::code_linear_address(s.sregs, s.regs.rip);
}

void MachineTarget::set_linear_pc(vcpu::VcpuSnapshot& s, std::uint64_t linear) {
    using vcpu::x86::CpuMode;
    switch (vcpu::x86::cpu_mode(s.sregs)) {
        case CpuMode::long64:
            s.regs.rip = linear;
            return;
        case CpuMode::protected32:
            s.regs.rip = (linear - s.sregs.cs.base) & 0xffffffffu;
            return;
        case CpuMode::protected16:
            s.regs.rip = (linear - s.sregs.cs.base) & 0xffffu;
            return;
        case CpuMode::real:
            if (linear >= s.sregs.cs.base && linear - s.sregs.cs.base <= 0xffff) {
                s.regs.rip = linear - s.sregs.cs.base;
            } else {  // another segment: CS:IP = (linear >> 4):(linear & 0xf), as a far jump
                s.sregs.cs.selector = static_cast<std::uint16_t>((linear >> 4) & 0xffff);
                s.sregs.cs.base = std::uint64_t{s.sregs.cs.selector} << 4;
                s.regs.rip = linear - s.sregs.cs.base;
            }
            return;
    }
}

std::vector<ThreadId> MachineTarget::threads() const {
    std::vector<ThreadId> ids(machine_.vcpu_count());
    for (unsigned i = 0; i < ids.size(); ++i) ids[i] = i + 1;
    return ids;
}

Result<unsigned> MachineTarget::vcpu_of(ThreadId tid) const {
    if (tid == 0 || tid > machine_.vcpu_count())
        return make_error(ErrorKind::target, fmt::format("no thread {}", tid));
    return tid - 1;
}

Result<void> MachineTarget::read_register(ThreadId tid, std::size_t regno,
                                          std::span<std::uint8_t> out) {
    auto id = vcpu_of(tid);
    if (!id) return std::unexpected(id.error());
    if (regno >= rows_.size())
        return make_error(ErrorKind::target, fmt::format("no register {}", regno));
    std::size_t size = arch_.register_bytes(regno);
    if (out.size() != size) return make_error(ErrorKind::target, "register size mismatch");
    vcpu::VcpuSnapshot s = machine_.snapshot(*id);
    const RegisterBinding& b = *rows_[regno];
    if (b.bytes) {
        std::memcpy(out.data(), b.bytes(s).data(), size);
    } else {
        std::uint64_t v = regno == pc_row_ ? linear_pc(s) : b.get(s);
        std::memset(out.data(), 0, size);
        std::memcpy(out.data(), &v, std::min(size, sizeof v));  // x86 and host: little-endian
    }
    return {};
}

Result<void> MachineTarget::write_register(ThreadId tid, std::size_t regno,
                                           std::span<const std::uint8_t> value) {
    auto id = vcpu_of(tid);
    if (!id) return std::unexpected(id.error());
    if (regno >= rows_.size())
        return make_error(ErrorKind::target, fmt::format("no register {}", regno));
    std::size_t size = arch_.register_bytes(regno);
    if (value.size() != size) return make_error(ErrorKind::target, "register size mismatch");
    vcpu::VcpuSnapshot s = machine_.snapshot(*id);
    const RegisterBinding& b = *rows_[regno];
    if (b.bytes) {
        std::memcpy(b.bytes(s).data(), value.data(), size);
    } else {
        // A narrower view (eax of rax) replaces only its own bytes.
        bool pc = regno == pc_row_;
        std::uint64_t v = pc ? linear_pc(s) : b.get(s);
        std::memcpy(&v, value.data(), std::min(size, sizeof v));
        if (pc)
            set_linear_pc(s, v);
        else
            b.set(s, v);
    }
    machine_.write_snapshot(*id, s);
    return {};
}

// Debugger addresses are guest-physical for now: hvgdb's loader identity-maps what it
// pages, and real and flat protected mode have linear == physical.
Result<std::size_t> MachineTarget::read_memory(std::uint64_t addr, std::span<std::uint8_t> out) {
    return machine_.read_physical(addr, out);
}

Result<void> MachineTarget::write_memory(std::uint64_t addr, std::span<const std::uint8_t> data) {
    return machine_.write_physical(addr, data);
}

namespace {
Result<vcpu::HwBreakpoint> hw_breakpoint(BreakpointType type, std::uint64_t addr,
                                         std::uint64_t kind) {
    using vcpu::HwKind;
    if (type == BreakpointType::hardware) return vcpu::HwBreakpoint{HwKind::execute, addr, 1};
    if (type == BreakpointType::read_watch)  // x86 debug registers cannot watch reads alone
        return make_error(ErrorKind::unsupported, "read watchpoints are not supported");
    // SDM vol. 3B, 17.2.5: lengths 1, 2, 4, 8, aligned to their length.
    if (kind != 1 && kind != 2 && kind != 4 && kind != 8)
        return make_error(ErrorKind::target, fmt::format("watch length {} not 1, 2, 4 or 8", kind));
    if (addr % kind != 0)
        return make_error(ErrorKind::target,
                          fmt::format("watch at {:#x} not aligned to {}", addr, kind));
    return vcpu::HwBreakpoint{type == BreakpointType::write_watch ? HwKind::write : HwKind::access,
                              addr, static_cast<unsigned>(kind)};
}
}  // namespace

Result<void> MachineTarget::insert_breakpoint(BreakpointType type, std::uint64_t addr,
                                              std::uint64_t kind) {
    if (type == BreakpointType::software) return machine_.sw_breakpoints().insert(addr, addr);
    auto bp = hw_breakpoint(type, addr, kind);
    if (!bp) return std::unexpected(bp.error());
    return machine_.insert_hw_breakpoint(*bp);
}

Result<void> MachineTarget::remove_breakpoint(BreakpointType type, std::uint64_t addr,
                                              std::uint64_t kind) {
    if (type == BreakpointType::software) return machine_.sw_breakpoints().remove(addr, addr);
    auto bp = hw_breakpoint(type, addr, kind);
    if (!bp) return std::unexpected(bp.error());
    return machine_.remove_hw_breakpoint(*bp);
}

Result<void> MachineTarget::resume(std::span<const gdbstub::ThreadAction> actions) {
    // vCont semantics (gdb manual, "vCont"): the first action that names a thread wins; an
    // action without a thread applies to every thread no earlier action named.
    const unsigned n = machine_.vcpu_count();
    std::vector<std::optional<vcpu::RunMode>> mode(n);
    std::vector<bool> decided(n, false);
    for (const auto& a : actions) {
        for (unsigned i = 0; i < n; ++i) {
            if (decided[i] || (a.thread && *a.thread != i + 1)) continue;
            decided[i] = true;
            if (a.kind == gdbstub::ResumeKind::cont) mode[i] = vcpu::RunMode::cont;
            if (a.kind == gdbstub::ResumeKind::step) mode[i] = vcpu::RunMode::step;
        }
    }
    std::vector<vcpu::VcpuAction> run;
    for (unsigned i = 0; i < n; ++i)
        if (mode[i]) run.push_back({i, *mode[i]});
    if (run.empty()) return make_error(ErrorKind::target, "the resume names no existing thread");
    machine_.resume(run);
    return {};
}

void MachineTarget::interrupt() {
    machine_.request_stop();
}

void MachineTarget::detach() {
    machine_.clear_breakpoints();
    machine_.discard_pending_stops();
    std::vector<vcpu::VcpuAction> all;
    for (unsigned i = 0; i < machine_.vcpu_count(); ++i) all.push_back({i, vcpu::RunMode::cont});
    machine_.resume(all);
}

void MachineTarget::kill() {
    machine_.clear_breakpoints();
    machine_.shutdown();
}

StopEvent MachineTarget::to_stop_event(const vcpu::VcpuStop& s) {
    StopEvent e;
    e.thread = s.vcpu + 1;
    e.signal = gdb_sigtrap;
    switch (s.cause) {
        case vcpu::StopCause::sw_breakpoint:
            e.reason = StopReason::sw_break;
            break;
        case vcpu::StopCause::hw_breakpoint:
            e.reason = StopReason::hw_break;
            break;
        case vcpu::StopCause::watchpoint:
            e.reason =
                s.access == vcpu::VcpuStop::Access::write ? StopReason::watch : StopReason::awatch;
            e.data_address = s.address;
            break;
        case vcpu::StopCause::step:
            e.reason = StopReason::step;
            break;
        case vcpu::StopCause::interrupted:
            e.signal = gdb_sigint;
            e.reason = StopReason::interrupt;
            break;
        case vcpu::StopCause::exited:
            e.kind = StopEvent::Kind::exited;
            e.exit_code = s.exit_code;
            break;
        case vcpu::StopCause::fault:
            e.reason = StopReason::fault;
            e.signal = s.fault == vcpu::FaultKind::triple_fault ? gdb_sigsegv : gdb_sigill;
            break;
    }
    return e;
}

void MachineTarget::set_stop_sink(std::function<void(const StopEvent&)> sink) {
    {
        std::lock_guard lock(sink_mutex_);
        sink_ = std::move(sink);
    }
    machine_.set_stop_handler([this](const vcpu::VcpuStop& s) {
        if (s.cause == vcpu::StopCause::fault && log_)
            log_(fmt::format("vCPU {} stopped: {}", s.vcpu, s.detail));
        std::lock_guard lock(sink_mutex_);
        if (sink_) sink_(to_stop_event(s));
    });
}

}  // namespace hvgdb::app
