// Machine: RAM, vCPU threads and all-stop coordination.  Each vCPU thread runs a small state
// machine (stopped -> running | stepping -> stopped, halted while the guest waits in hlt) and
// only that thread calls into its Vcpu.
#include "vcpu/machine.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "vcpu/vcpu_loop.hpp"

namespace hvgdb::vcpu {

Machine::Machine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Machine::~Machine() {
    shutdown();
}

namespace {
// APIC IDs 0 to 254: xAPIC IDs are 8 bits, and 0xff is the physical broadcast.
constexpr unsigned max_xapic_cpus = 255;
}  // namespace

Result<std::unique_ptr<Machine>> Machine::create(const MachineConfig& config) {
    if (config.cpus == 0) return make_error(ErrorKind::invalid, "at least one vCPU is needed");
    if (config.cpus > max_xapic_cpus)
        return make_error(ErrorKind::invalid, fmt::format("{} vCPUs asked; xAPIC IDs allow {}",
                                                          config.cpus, max_xapic_cpus));
    auto vm = Vm::create();
    if (!vm) return std::unexpected(vm.error());
    if (config.cpus > (*vm)->capabilities().max_vcpus)
        return make_error(ErrorKind::invalid,
                          fmt::format("{} vCPUs asked, the host allows {}", config.cpus,
                                      (*vm)->capabilities().max_vcpus));
    // Anonymous memory, reserved lazily: untouched guest RAM costs the host nothing.
    void* p = ::mmap(nullptr, config.ram_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return errno_error(fmt::format("mmap {} bytes of guest RAM", config.ram_bytes));
    auto impl = std::make_unique<Impl>(
        std::move(*vm), std::span(static_cast<std::uint8_t*>(p), config.ram_bytes), config);
    if (auto r = impl->map_memory(); !r) return std::unexpected(r.error());
    return std::unique_ptr<Machine>(new Machine(std::move(impl)));
}

Result<void> Machine::Impl::map_memory() {
    // A new layout replaces the old one slot by slot: KVM refuses overlapping slots, and
    // nothing runs yet that could see the moment in between.
    for (const auto& r : mapped)
        if (auto u = vm->unmap(r.gpa, r.host.size()); !u) return u;
    mapped.clear();
    for (const auto& r : memory.regions()) {
        if (auto m = vm->map(r.host, r.gpa, r.guest); !m) return m;
        mapped.push_back(r);
    }
    return {};
}

std::span<std::uint8_t> Machine::ram() {
    return impl_->ram;
}

Result<void> Machine::add_rom(std::span<const std::uint8_t> contents,
                              std::span<const RomWindow> windows) {
    constexpr std::uint64_t page = 4096;
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->started)
            return make_error(ErrorKind::invalid, "ROM is added before the machine starts");
    }
    if (contents.empty()) return make_error(ErrorKind::invalid, "a ROM of 0 bytes");
    if (windows.empty()) return make_error(ErrorKind::invalid, "a ROM without a window");
    const std::uint64_t size = (contents.size() + page - 1) / page * page;
    for (const auto& w : windows) {
        if (w.size == 0 || w.gpa % page || w.offset % page || w.size % page)
            return make_error(ErrorKind::invalid,
                              fmt::format("ROM window at {:#x} ({:#x} bytes from offset {:#x}) "
                                          "is not made of whole 4 KiB pages",
                                          w.gpa, w.size, w.offset));
        if (w.offset > size || w.size > size - w.offset)
            return make_error(
                ErrorKind::invalid,
                fmt::format("ROM window at {:#x} reaches past the ROM's {:#x} bytes", w.gpa, size));
    }
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return errno_error(fmt::format("mmap {} bytes of ROM", size));
    std::span<std::uint8_t> host(static_cast<std::uint8_t*>(p), size);
    impl_->roms.push_back(host);  // owned from here on, whatever happens below
    std::memcpy(host.data(), contents.data(), contents.size());
    std::memset(host.data() + contents.size(), 0xff, size - contents.size());  // erased flash
    impl_->rom_contents.emplace_back(host.begin(), host.end());

    std::vector<MemoryRegion> all = impl_->rom_windows;
    for (const auto& w : windows)
        all.push_back({w.gpa, host.subspan(w.offset, w.size), MemoryPermissions::read_execute});
    auto layout = overlay_ram(impl_->ram, all);
    if (!layout) return std::unexpected(layout.error());
    impl_->rom_windows = std::move(all);
    impl_->memory = std::move(*layout);
    return impl_->map_memory();
}

std::span<const MemoryRegion> Machine::memory_map() const {
    return impl_->memory.regions();
}
unsigned Machine::vcpu_count() const {
    return static_cast<unsigned>(impl_->vcpus.size());
}
const HostCapabilities& Machine::capabilities() const {
    return impl_->vm->capabilities();
}
SwBreakpoints& Machine::sw_breakpoints() {
    return impl_->breakpoints;
}

void Machine::set_initial_state(unsigned id, const VcpuSnapshot& s) {
    std::lock_guard lock(impl_->mutex);
    impl_->vcpus.at(id)->snapshot = s;
    impl_->vcpus.at(id)->snapshot_dirty = true;
    impl_->vcpus.at(id)->waiting_for_sipi = false;
}

void Machine::set_init_state(const VcpuSnapshot& s) {
    std::lock_guard lock(impl_->mutex);
    impl_->init_state = s;
}

bool Machine::waiting_for_sipi(unsigned id) const {
    std::lock_guard lock(impl_->mutex);
    return impl_->vcpus.at(id)->waiting_for_sipi;
}

Result<void> Machine::start() {
    return impl_->start();
}

void Machine::set_stop_handler(std::function<void(const VcpuStop&)> handler) {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_handler = std::move(handler);
}

VcpuSnapshot Machine::snapshot(unsigned id, SnapshotParts parts) const {
    return impl_->snapshot(id, parts);
}

Result<void> Machine::write_snapshot(unsigned id, const VcpuSnapshot& s) {
    return impl_->write_snapshot(id, s);
}

Result<std::size_t> Machine::read_physical(std::uint64_t gpa, std::span<std::uint8_t> out) const {
    return impl_->breakpoints.read(gpa, out);
}

Result<void> Machine::write_physical(std::uint64_t gpa, std::span<const std::uint8_t> in) {
    ++impl_->debugger_memory_writes;  // releases vCPUs a fault stopped (see thread_main)
    return impl_->breakpoints.write(gpa, in);
}

Result<void> Machine::insert_hw_breakpoint(const HwBreakpoint& bp) {
    if (bp.kind != HwKind::execute && !impl_->data_breakpoints)
        return make_error(ErrorKind::unsupported, "this host does not report data breakpoints");
    std::lock_guard lock(impl_->mutex);
    auto& slots = impl_->hw_slots;
    if (std::find(slots.begin(), slots.end(), bp) != slots.end()) return {};
    auto free = std::find(slots.begin(), slots.end(), std::nullopt);
    if (free == slots.end())
        return make_error(ErrorKind::target, "all four debug registers are in use");
    *free = bp;
    impl_->debug_state_changed();
    return {};
}

Result<void> Machine::remove_hw_breakpoint(const HwBreakpoint& bp) {
    std::lock_guard lock(impl_->mutex);
    auto& slots = impl_->hw_slots;
    auto it = std::find(slots.begin(), slots.end(), bp);
    if (it == slots.end()) return make_error(ErrorKind::target, "no such hardware breakpoint");
    *it = std::nullopt;
    impl_->debug_state_changed();
    return {};
}

namespace {
// The debug-register form of a watch, when there is one (SDM vol. 3B, 17.2.4 and 17.2.5): a
// write or read/write watch of 1, 2, 4 or 8 bytes aligned to its length.  x86 cannot watch
// reads alone.
std::optional<HwBreakpoint> debug_register_watch(const Watchpoint& w) {
    if (w.kind == WatchKind::read) return std::nullopt;
    if (w.length != 1 && w.length != 2 && w.length != 4 && w.length != 8) return std::nullopt;
    if (w.linear % w.length != 0) return std::nullopt;
    return HwBreakpoint{w.kind == WatchKind::write ? HwKind::write : HwKind::access, w.linear,
                        static_cast<unsigned>(w.length)};
}
}  // namespace

Result<void> Machine::insert_watchpoint(const Watchpoint& w,
                                        const Result<std::vector<PhysicalRange>>& physical) {
    if (impl_->page_watches.contains(w.kind, w.linear, w.length)) return {};
    auto bp = debug_register_watch(w);
    if (bp && impl_->data_breakpoints && insert_hw_breakpoint(*bp)) {
        // Listed by its bytes too, for accesses emulated on pages other watches protect.
        if (physical)
            (void)impl_->page_watches.insert({w.kind, w.linear, w.length, *physical, false});
        return {};
    }  // else every debug register is taken: page protection
    if (!physical) return std::unexpected(physical.error());
    return impl_->page_watches.insert({w.kind, w.linear, w.length, *physical});
}

Result<void> Machine::remove_watchpoint(const Watchpoint& w) {
    auto removed = impl_->page_watches.remove(w.kind, w.linear, w.length);
    if (running()) impl_->page_watches.apply();  // else at the next resume
    if (auto bp = debug_register_watch(w))
        if (remove_hw_breakpoint(*bp)) return {};
    return removed;
}

void Machine::clear_breakpoints() {
    impl_->breakpoints.remove_all();
    impl_->page_watches.clear();
    std::lock_guard lock(impl_->mutex);
    impl_->hw_slots.fill(std::nullopt);
    impl_->debug_state_changed();
}

void Machine::discard_pending_stops() {
    std::lock_guard lock(impl_->mutex);
    impl_->pending_stops.clear();
}

DebugFootprint Machine::debug_footprint() const {
    DebugFootprint f;
    f.sw_breakpoints = impl_->breakpoints.size();
    f.watchpoints = impl_->page_watches.size();
    f.protected_pages = impl_->page_watches.protected_pages();
    std::lock_guard lock(impl_->mutex);
    f.debug_registers = static_cast<std::size_t>(
        std::ranges::count_if(impl_->hw_slots, [](const auto& slot) { return slot.has_value(); }));
    f.kept_stops = impl_->pending_stops.size();
    return f;
}

void Machine::resume(std::span<const VcpuAction> actions) {
    impl_->page_watches.apply();  // before the vCPUs enter the guest again
    impl_->resume(actions);
}
void Machine::set_non_stop(bool on) {
    std::lock_guard lock(impl_->mutex);
    impl_->non_stop = on;
    impl_->interrupt_owed = false;
}
void Machine::request_stop() {
    impl_->request_stop();
}
void Machine::request_stop(std::span<const unsigned> ids) {
    impl_->request_stop(ids);
}
bool Machine::running() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->running_count > 0;
}
bool Machine::running(unsigned id) const {
    std::lock_guard lock(impl_->mutex);
    return id < impl_->vcpus.size() && impl_->vcpus[id]->running;
}
Result<void> Machine::reset(const std::function<Result<void>()>& reload) {
    Impl& m = *impl_;
    {
        std::lock_guard lock(m.mutex);
        if (!m.started || m.shut_down)
            return make_error(ErrorKind::target, "the machine is not running");
        if (m.running_count > 0 || m.primary_stop)
            return make_error(ErrorKind::target, "a reset needs every vCPU stopped");
        m.pending_stops.clear();
        m.interrupt_owed = false;
    }
    Result<void> memory = m.breakpoints.rewrite([&]() -> Result<void> {
        // Private anonymous memory reads as zero once dropped; KVM's mappings follow (its MMU
        // notifier), and untouched RAM costs the host nothing again.
        if (::madvise(m.ram.data(), m.ram.size(), MADV_DONTNEED) != 0)
            return errno_error("madvise(MADV_DONTNEED) to clear guest RAM");
        for (std::size_t i = 0; i < m.roms.size(); ++i)
            std::memcpy(m.roms[i].data(), m.rom_contents[i].data(), m.roms[i].size());
        return reload();
    });
    ++m.debugger_memory_writes;  // a vCPU a fault stopped runs again (see thread_main)
    m.ports->reset();
    for (auto& v : m.vcpus) {
        VcpuSnapshot state;
        (void)m.snapshot(v->id, SnapshotParts::all);  // its TSC read, for the line below
        {
            std::lock_guard lock(m.mutex);
            state = v->reset_state;
            state.msrs.tsc = v->snapshot.msrs.tsc;  // read-only: the write leaves it alone
            v->lapic = x86::Lapic(static_cast<std::uint8_t>(v->id), state.sregs.apic_base);
            v->init_pending = false;
            v->sipi_vector.reset();
            v->nmi_pending = false;
            v->interrupts_changed = true;
        }
        // Every vCPU is reset even when one write fails, so none is left half reset; the
        // first error is the one reported.
        auto written = m.write_snapshot(v->id, state);
        if (!written && memory) memory = std::unexpected(written.error());
        std::lock_guard lock(m.mutex);
        v->waiting_for_sipi = v->reset_waits_for_sipi;
    }
    return memory;
}

x86::Lapic Machine::lapic(unsigned id) const {
    std::lock_guard lock(impl_->mutex);
    return impl_->vcpus.at(id)->lapic;
}

std::optional<std::vector<PortDeviceState>> Machine::devices() const {
    return impl_->ports->devices();
}

void Machine::shutdown() {
    if (impl_) impl_->shutdown();
}

}  // namespace hvgdb::vcpu
