// MachineTarget: registers from the published snapshot, memory at linear addresses through
// the guest's page tables and the machine's breakpoint-aware access to guest-physical memory,
// breakpoints and run control mapped onto Machine calls.
#include "app/machine_target.hpp"

#include <algorithm>
#include <cstring>

#include "app/memory_map.hpp"
#include "gdbstub/arch/x86.hpp"

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
    vcpu::Machine& machine, const gdbstub::arch::Arch* forced_view,
    std::function<void(const std::string&)> log) {
    std::vector<View> views;
    for (const gdbstub::arch::Arch* arch : gdbstub::arch::x86_views()) {
        View view{arch,
                  {},
                  gdbstub::arch::find_generic(*arch, gdbstub::arch::Generic::pc),
                  vcpu::SnapshotParts::cpu};
        for (const auto& reg : arch->registers) {
            const RegisterBinding* b = find_register_binding(reg.name);
            if (!b)
                return make_error(
                    ErrorKind::fatal,
                    fmt::format("register '{}' of {} has no binding", reg.name, arch->name));
            vcpu::VcpuSnapshot sample;
            std::size_t bits = b->bytes ? b->bytes(sample).size() * 8 : 64;
            if (reg.bitsize > bits)
                return make_error(ErrorKind::fatal,
                                  fmt::format("register '{}' is wider than its binding", reg.name));
            view.rows.push_back(b);
            if (b->parts == vcpu::SnapshotParts::all) view.parts = vcpu::SnapshotParts::all;
        }
        views.push_back(std::move(view));
    }
    if (forced_view &&
        std::ranges::none_of(views, [&](const View& v) { return v.arch == forced_view; }))
        return make_error(ErrorKind::fatal, fmt::format("no register view {}", forced_view->name));
    return std::unique_ptr<MachineTarget>(
        new MachineTarget(machine, std::move(views), forced_view, std::move(log)));
}

MachineTarget::MachineTarget(vcpu::Machine& machine, std::vector<View> views,
                             const gdbstub::arch::Arch* forced_view,
                             std::function<void(const std::string&)> log)
    : machine_(machine),
      views_(std::move(views)),
      view_(&views_.front()),
      forced_view_(forced_view),
      log_(std::move(log)) {
    attached();
}

const MachineTarget::View& MachineTarget::view_of(const gdbstub::arch::Arch& arch) const {
    for (const View& v : views_)
        if (v.arch == &arch) return v;
    return views_.front();  // unreachable: create() checked every table
}

vcpu::VcpuSnapshot MachineTarget::reporting_snapshot() const {
    return machine_.snapshot(last_stopped_vcpu_.load(), vcpu::SnapshotParts::cpu);
}

const gdbstub::arch::Arch& MachineTarget::natural_view(const vcpu::x86::SystemRegisters& s) {
    switch (vcpu::x86::cpu_mode(s)) {
        case vcpu::x86::CpuMode::long64:
            return gdbstub::arch::x86_64();
        case vcpu::x86::CpuMode::protected32:
            return gdbstub::arch::i386();
        default:
            return gdbstub::arch::i8086();
    }
}

void MachineTarget::attached() {
    // Each debugger starts from the defaults, whatever the one before set.
    following_ = false;
    noticed_ = nullptr;
    physical_memory_ = false;
    page_table_root_.reset();
    // The view suits the vCPU that stopped last, unless that one still waits for its SIPI (an
    // idle AP often wins the race to report a Ctrl-C or a reattach): then the first vCPU that
    // runs guest code, so a long-mode guest is not shown through the reset state's view.
    unsigned id = last_stopped_vcpu_.load();
    for (unsigned other = 0; machine_.waiting_for_sipi(id) && other < machine_.vcpu_count();
         ++other)
        if (!machine_.waiting_for_sipi(other)) id = other;
    selected_vcpu_ = id;
    view_ = &view_of(forced_view_
                         ? *forced_view_
                         : natural_view(machine_.snapshot(id, vcpu::SnapshotParts::cpu).sregs));
    if (console_) console_->restore_default();
}

std::vector<gdbstub::MemoryRange> MachineTarget::memory_map() const {
    return debugger_memory_map(machine_.memory_map(), memory_map_mode_);
}

void MachineTarget::set_console(std::shared_ptr<ConsoleRouter> console) {
    console_ = std::move(console);
}

void MachineTarget::set_console_sink(std::function<void(std::string_view)> sink) {
    if (console_) console_->set_debugger(std::move(sink));
}

std::uint64_t MachineTarget::linear_pc(const vcpu::VcpuSnapshot& s) {
    return vcpu::x86::code_linear_address(s.sregs, s.regs.rip);
}

Result<void> MachineTarget::set_linear_pc(vcpu::VcpuSnapshot& s, std::uint64_t linear) {
    using vcpu::x86::CpuMode;
    auto unreachable = [&](std::string_view why) {
        return make_error(ErrorKind::target,
                          fmt::format("pc {:#x} is out of reach in {}: {}", linear,
                                      vcpu::x86::mode_name(s.sregs), why));
    };
    switch (vcpu::x86::cpu_mode(s.sregs)) {
        case CpuMode::long64:
            s.regs.rip = linear;
            return {};
        case CpuMode::protected32:
            if (linear > 0xffffffffu) return unreachable("linear addresses have 32 bits");
            s.regs.rip = (linear - s.sregs.cs.base) & 0xffffffffu;
            return {};
        case CpuMode::protected16:
            if (linear < s.sregs.cs.base || linear - s.sregs.cs.base > 0xffff)
                return unreachable("more than 64 KiB from the code segment's base");
            s.regs.rip = linear - s.sregs.cs.base;
            return {};
        case CpuMode::real: {
            if (linear >= s.sregs.cs.base && linear - s.sregs.cs.base <= 0xffff) {
                s.regs.rip = linear - s.sregs.cs.base;
                return {};
            }
            // Another segment, as a far jump would load it: CS = linear >> 4 (at most 0xffff),
            // IP the rest, which must fit 16 bits.
            const std::uint64_t selector = std::min<std::uint64_t>(linear >> 4, 0xffff);
            if (linear - (selector << 4) > 0xffff)
                return unreachable("above FFFF:FFFF, the highest real-mode address");
            s.sregs.cs.selector = static_cast<std::uint16_t>(selector);
            s.sregs.cs.base = selector << 4;
            s.regs.rip = linear - s.sregs.cs.base;
            return {};
        }
    }
    return {};
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
    if (regno >= view_->rows.size())
        return make_error(ErrorKind::target, fmt::format("no register {}", regno));
    std::size_t size = view_->arch->register_bytes(regno);
    if (out.size() != size) return make_error(ErrorKind::target, "register size mismatch");
    // A general or system register needs no more than the stop has read.
    vcpu::VcpuSnapshot s = machine_.snapshot(*id, view_->rows[regno]->parts);
    read_row(regno, s, out);
    return {};
}

// Every row of every view has a binding (create()): none is unavailable.
Result<void> MachineTarget::read_registers(ThreadId tid, std::span<std::uint8_t> all,
                                           std::vector<std::size_t>& /*unavailable*/) {
    auto id = vcpu_of(tid);
    if (!id) return std::unexpected(id.error());
    vcpu::VcpuSnapshot s = machine_.snapshot(*id, view_->parts);
    return gdbstub::for_each_register(*view_->arch, all,
                                      [&](std::size_t regno, auto bytes) -> Result<void> {
                                          read_row(regno, s, bytes);
                                          return {};
                                      });
}

void MachineTarget::read_row(std::size_t regno, vcpu::VcpuSnapshot& s,
                             std::span<std::uint8_t> out) const {
    const RegisterBinding& b = *view_->rows[regno];
    if (b.bytes) {
        std::memcpy(out.data(), b.bytes(s).data(), out.size());
        return;
    }
    std::uint64_t v = regno == view_->pc_row ? linear_pc(s) : b.get(s);
    std::memset(out.data(), 0, out.size());
    std::memcpy(out.data(), &v, std::min(out.size(), sizeof v));  // x86 and host: little-endian
}

Result<void> MachineTarget::set_row(vcpu::VcpuSnapshot& s, std::size_t regno,
                                    std::span<const std::uint8_t> value) const {
    if (regno >= view_->rows.size())
        return make_error(ErrorKind::target, fmt::format("no register {}", regno));
    std::size_t size = view_->arch->register_bytes(regno);
    if (value.size() != size) return make_error(ErrorKind::target, "register size mismatch");
    const RegisterBinding& b = *view_->rows[regno];
    if (b.bytes) {
        std::memcpy(b.bytes(s).data(), value.data(), size);
        return {};
    }
    // A narrower view (eax of rax) replaces only its own bytes.
    bool pc = regno == view_->pc_row;
    std::uint64_t v = pc ? linear_pc(s) : b.get(s);
    std::memcpy(&v, value.data(), std::min(size, sizeof v));
    if (pc) return set_linear_pc(s, v);
    b.set(s, v);
    return {};
}

Result<void> MachineTarget::write_register(ThreadId tid, std::size_t regno,
                                           std::span<const std::uint8_t> value) {
    auto id = vcpu_of(tid);
    if (!id) return std::unexpected(id.error());
    vcpu::VcpuSnapshot s = machine_.snapshot(*id);
    if (auto r = set_row(s, regno, value); !r) return r;
    return machine_.write_snapshot(*id, s);  // a refused value: an error reply, state kept
}

Result<void> MachineTarget::write_registers(ThreadId tid, std::span<const std::uint8_t> all) {
    auto id = vcpu_of(tid);
    if (!id) return std::unexpected(id.error());
    // Every row into one snapshot, applied at once: all of it or (refused) none of it.
    vcpu::VcpuSnapshot s = machine_.snapshot(*id);
    auto set = gdbstub::for_each_register(
        *view_->arch, all, [&](std::size_t regno, auto bytes) { return set_row(s, regno, bytes); });
    if (!set) return set;
    return machine_.write_snapshot(*id, s);
}

vcpu::x86::PhysicalReader MachineTarget::page_table_reader() const {
    return [this](std::uint64_t gpa, std::span<std::uint8_t> out) {
        auto n = machine_.read_physical(gpa, out);
        return n && *n == out.size();
    };
}

Result<vcpu::x86::Translation> MachineTarget::translate(std::uint64_t linear) const {
    const vcpu::VcpuSnapshot s = machine_.snapshot(selected_vcpu_, vcpu::SnapshotParts::cpu);
    auto t = vcpu::x86::translate(vcpu::x86::paging_control(s.sregs), linear, page_table_reader(),
                                  page_table_root_);
    if (!t) return make_error(ErrorKind::target, vcpu::x86::describe(linear, t.error()));
    return *t;
}

Result<vcpu::x86::Translation> MachineTarget::memory_translation(std::uint64_t address) const {
    if (physical_memory_) return vcpu::x86::identity_translation(address);
    return translate(address);
}

// A read goes page by page and stops short at the first page that is not mapped or not in
// guest memory; it fails only when not even its first byte can be read.
Result<std::size_t> MachineTarget::read_memory(std::uint64_t addr, std::span<std::uint8_t> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        if (done > 0 && addr + done < addr) break;  // no wrap past the top of the address space
        auto t = memory_translation(addr + done);
        if (!t) {
            if (done == 0) return std::unexpected(t.error());
            break;
        }
        auto piece = out.subspan(done, std::min<std::uint64_t>(out.size() - done, t->bytes_left));
        auto n = machine_.read_physical(t->physical, piece);
        if (!n) {
            if (done == 0) return std::unexpected(n.error());
            break;
        }
        done += *n;
        if (*n < piece.size()) break;
    }
    return done;
}

Result<std::vector<vcpu::PhysicalRange>> MachineTarget::physical_ranges(
    std::uint64_t addr, std::uint64_t length) const {
    std::vector<vcpu::PhysicalRange> ranges;
    for (std::uint64_t done = 0; done < length;) {
        if (done > 0 && addr + done < addr)
            return make_error(ErrorKind::target, "past the top of the address space");
        auto t = memory_translation(addr + done);
        if (!t) return std::unexpected(t.error());
        const std::uint64_t n = std::min(length - done, t->bytes_left);
        if (!ranges.empty() && ranges.back().gpa + ranges.back().size == t->physical)
            ranges.back().size += n;
        else
            ranges.push_back({t->physical, n});
        done += n;
    }
    return ranges;
}

// Every page is translated and checked before the first byte is written, so a write that
// cannot be done whole changes nothing.
Result<void> MachineTarget::write_memory(std::uint64_t addr, std::span<const std::uint8_t> data) {
    auto ranges = physical_ranges(addr, data.size());
    if (!ranges) return std::unexpected(ranges.error());
    std::vector<std::uint8_t> scratch;
    std::uint64_t done = 0;
    for (const auto& r : *ranges) {
        scratch.resize(r.size);
        auto n = machine_.read_physical(r.gpa, scratch);  // all of it in guest memory?
        if (!n || *n != r.size)
            return make_error(ErrorKind::target,
                              fmt::format("{:#x} (guest-physical {:#x}) is not in guest memory",
                                          addr + done, r.gpa));
        done += r.size;
    }
    done = 0;
    for (const auto& r : *ranges) {
        if (auto w = machine_.write_physical(r.gpa, data.subspan(done, r.size)); !w) return w;
        done += r.size;
    }
    return {};
}

namespace {
// A Z2..Z4 packet's watch; gdb sends the watched length as the kind (gdb manual, "Packets").
Result<vcpu::Watchpoint> watchpoint(BreakpointType type, std::uint64_t addr, std::uint64_t kind) {
    if (kind == 0 || kind > vcpu::PageWatches::max_length)
        return make_error(ErrorKind::target,
                          fmt::format("cannot watch {} bytes (1 to {} can be watched)", kind,
                                      vcpu::PageWatches::max_length));
    const vcpu::WatchKind k = type == BreakpointType::read_watch     ? vcpu::WatchKind::read
                              : type == BreakpointType::access_watch ? vcpu::WatchKind::access
                                                                     : vcpu::WatchKind::write;
    return vcpu::Watchpoint{k, addr, kind};
}
}  // namespace

Result<void> MachineTarget::insert_breakpoint(BreakpointType type, std::uint64_t addr,
                                              std::uint64_t kind) {
    if (type == BreakpointType::software) {
        auto t = memory_translation(addr);
        if (!t) return std::unexpected(t.error());
        if (auto r = machine_.sw_breakpoints().insert(addr, t->physical); !r) return r;
        sw_breakpoint_gpa_[addr] = t->physical;
        return {};
    }
    if (type == BreakpointType::hardware)
        return machine_.insert_hw_breakpoint({vcpu::HwKind::execute, addr, 1});
    // Page protection watches the guest-physical bytes the address leads to now.
    auto w = watchpoint(type, addr, kind);
    if (!w) return std::unexpected(w.error());
    return machine_.insert_watchpoint(*w, physical_ranges(addr, kind));
}

Result<void> MachineTarget::remove_breakpoint(BreakpointType type, std::uint64_t addr,
                                              std::uint64_t kind) {
    if (type == BreakpointType::software) {
        // Removed where it was inserted: the guest may have changed its page tables since.
        auto it = sw_breakpoint_gpa_.find(addr);
        if (it == sw_breakpoint_gpa_.end())
            return make_error(ErrorKind::target, fmt::format("no breakpoint at {:#x}", addr));
        auto r = machine_.sw_breakpoints().remove(addr, it->second);
        sw_breakpoint_gpa_.erase(it);
        return r;
    }
    if (type == BreakpointType::hardware)
        return machine_.remove_hw_breakpoint({vcpu::HwKind::execute, addr, 1});
    auto w = watchpoint(type, addr, kind);
    if (!w) return std::unexpected(w.error());
    return machine_.remove_watchpoint(*w);
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
    std::vector<unsigned> stop;  // vCont's t: non-stop mode only
    for (unsigned i = 0; i < n; ++i) {
        if (mode[i]) run.push_back({i, *mode[i]});
        if (decided[i] && !mode[i]) stop.push_back(i);
    }
    if (run.empty() && stop.empty())
        return make_error(ErrorKind::target, "the resume names no existing thread");
    if (run.empty() && !non_stop_)  // all-stop: nothing runs, so no stop would ever come
        return make_error(ErrorKind::target, "vCont's t stops threads in non-stop mode only");
    if (!stop.empty()) machine_.request_stop(stop);
    if (!run.empty()) machine_.resume(run);
    return {};
}

void MachineTarget::interrupt() {
    machine_.request_stop();
}

Result<void> MachineTarget::set_non_stop(bool on) {
    non_stop_ = on;
    machine_.set_non_stop(on);
    return {};
}

bool MachineTarget::thread_running(ThreadId tid) const {
    auto id = vcpu_of(tid);
    return id && machine_.running(*id);
}

void MachineTarget::select_thread(ThreadId tid) {
    if (auto id = vcpu_of(tid)) selected_vcpu_ = *id;
}

namespace {
// "2 software breakpoints, 1 watchpoint": what a debugger left inserted; empty for nothing.
std::string describe_left(const vcpu::DebugFootprint& f) {
    std::string text;
    auto count = [&](std::size_t n, std::string_view what) {
        if (n == 0) return;
        text += fmt::format("{}{} {}{}", text.empty() ? "" : ", ", n, what, n == 1 ? "" : "s");
    };
    count(f.sw_breakpoints, "software breakpoint");
    count(f.debug_registers, "debug register");
    count(f.watchpoints, "watchpoint");
    return text;
}
}  // namespace

bool MachineTarget::detach(gdbstub::AfterDetach after) {
    // gdb removes its breakpoints before D; a debugger that vanished has not.
    if (const std::string left = describe_left(machine_.debug_footprint()); !left.empty() && log_)
        log_("removed what the debugger left in the guest: " + left);
    // Original bytes back, debug registers and page protection gone; a vCPU that runs takes
    // the empty debug state (no single step) at once, a stopped one when it next runs.
    machine_.clear_breakpoints();
    sw_breakpoint_gpa_.clear();
    machine_.discard_pending_stops();
    non_stop_ = false;
    if (after == gdbstub::AfterDetach::stop) {
        // All-stop, then every vCPU that runs leaves the guest: one stop follows once all are
        // out (non-stop threads the debugger left running stop too).
        machine_.set_non_stop(false);
        const bool running = machine_.running();
        machine_.request_stop();
        return running;
    }
    std::vector<vcpu::VcpuAction> all;
    for (unsigned i = 0; i < machine_.vcpu_count(); ++i) all.push_back({i, vcpu::RunMode::cont});
    // Every stopped vCPU runs again, also those a non-stop debugger left stopped while
    // others ran; the next debugger starts in all-stop mode.
    machine_.set_non_stop(true);
    machine_.resume(all);
    machine_.set_non_stop(false);
    return true;
}

void MachineTarget::kill() {
    machine_.clear_breakpoints();
    sw_breakpoint_gpa_.clear();
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
            e.reason = s.access == vcpu::VcpuStop::Access::write  ? StopReason::watch
                       : s.access == vcpu::VcpuStop::Access::read ? StopReason::rwatch
                                                                  : StopReason::awatch;
            e.data_address = s.address;
            break;
        case vcpu::StopCause::step:
            e.reason = StopReason::step;
            break;
        case vcpu::StopCause::interrupted:
            e.signal = gdb_sigint;
            e.reason = StopReason::interrupt;
            break;
        case vcpu::StopCause::requested:  // vCont's t: no signal (gdb manual, "Packets")
            e.signal = 0;
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
        last_stopped_vcpu_.store(s.vcpu);
        if (s.cause == vcpu::StopCause::fault && log_)
            log_(fmt::format("vCPU {} stopped: {}", s.vcpu, s.detail));
        std::lock_guard lock(sink_mutex_);
        if (sink_) sink_(to_stop_event(s));
    });
}

}  // namespace hvgdb::app
