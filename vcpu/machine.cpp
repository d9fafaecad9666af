// Machine: RAM, vCPU threads and all-stop coordination.  Each vCPU thread runs a small state
// machine (stopped -> running | stepping -> stopped, halted while the guest waits in hlt) and
// only that thread calls into its Vcpu.
#include "vcpu/machine.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
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

Result<std::unique_ptr<Machine>> Machine::create(const MachineConfig& config) {
    if (config.cpus == 0) return make_error(ErrorKind::invalid, "at least one vCPU is needed");
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
    if (auto r = impl->vm->map(impl->ram, 0, MemoryPermissions::read_write_execute); !r)
        return std::unexpected(r.error());
    return std::unique_ptr<Machine>(new Machine(std::move(impl)));
}

std::span<std::uint8_t> Machine::ram() {
    return impl_->ram;
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
}

Result<void> Machine::start() {
    return impl_->start();
}

void Machine::set_stop_handler(std::function<void(const VcpuStop&)> handler) {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_handler = std::move(handler);
}

VcpuSnapshot Machine::snapshot(unsigned id) const {
    std::lock_guard lock(impl_->mutex);
    return impl_->vcpus.at(id)->snapshot;
}

void Machine::write_snapshot(unsigned id, const VcpuSnapshot& s) {
    std::lock_guard lock(impl_->mutex);
    impl_->vcpus.at(id)->snapshot = s;
    impl_->vcpus.at(id)->snapshot_dirty = true;
}

Result<std::size_t> Machine::read_physical(std::uint64_t gpa, std::span<std::uint8_t> out) const {
    return impl_->breakpoints.read(gpa, out);
}

Result<void> Machine::write_physical(std::uint64_t gpa, std::span<const std::uint8_t> in) {
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

void Machine::clear_breakpoints() {
    impl_->breakpoints.remove_all();
    std::lock_guard lock(impl_->mutex);
    impl_->hw_slots.fill(std::nullopt);
    impl_->debug_state_changed();
}

void Machine::discard_pending_stops() {
    std::lock_guard lock(impl_->mutex);
    impl_->pending_stops.clear();
}

void Machine::resume(std::span<const VcpuAction> actions) {
    impl_->resume(actions);
}
void Machine::request_stop() {
    impl_->request_stop();
}
bool Machine::running() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->running_count > 0;
}
void Machine::shutdown() {
    if (impl_) impl_->shutdown();
}

}  // namespace hvgdb::vcpu
