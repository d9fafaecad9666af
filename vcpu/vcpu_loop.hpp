// Machine internals shared by machine.cpp and vcpu_loop.cpp: the per-vCPU thread record and
// the all-stop bookkeeping.  Not part of the public interface.
#pragma once

#include <sys/mman.h>

#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "vcpu/machine.hpp"

namespace hvgdb::vcpu {

// One vCPU's thread and the messages it takes.  Fields are guarded by Machine::Impl::mutex.
struct VcpuThread {
    enum class Command { none, run, step, write, quit };

    unsigned id = 0;
    std::thread thread;
    std::shared_ptr<VcpuKick> kick;  // set once the thread has created its vCPU
    Command command = Command::none;
    bool running = false;  // between resume and its stop
    std::atomic<bool> stop_requested{false};
    std::atomic<bool> debug_dirty{false};       // breakpoints changed while running: re-apply
    std::optional<DebugControl> applied_debug;  // vCPU thread only: what KVM has now
    VcpuSnapshot snapshot;                      // published at each stop
    bool snapshot_dirty = false;                // staged writes to apply before running
    std::optional<VcpuSnapshot> write_request;  // Command::write: the state to apply now
    std::optional<Result<void>> write_result;   // and how that went, for write_snapshot
    std::condition_variable write_done;
    std::condition_variable wake;
};

struct Machine::Impl {
    Impl(std::unique_ptr<Vm> vm_, std::span<std::uint8_t> ram_, const MachineConfig& config);
    ~Impl();

    Result<void> start();
    void resume(std::span<const VcpuAction> actions);
    void request_stop();
    void shutdown();
    Result<void> write_snapshot(unsigned id, const VcpuSnapshot& s);

    // vCPU thread side.
    void thread_main(VcpuThread& self);
    void report_ready(std::optional<Error> error);
    VcpuStop run_until_stop(Vcpu& vcpu, VcpuThread& self, bool step, bool debug_registers_off);
    Result<void> apply_debug(Vcpu& vcpu, VcpuThread& self, bool step);
    void debug_state_changed();  // under mutex: running vCPUs re-apply their debug state
    void finish_stop(Vcpu& vcpu, VcpuThread& self, VcpuStop stop);  // snapshot, then publish
    void apply_write(Vcpu& vcpu, VcpuThread& self);                 // Command::write
    void publish_stop(VcpuThread& self, VcpuStop stop);
    DebugControl debug_control(bool step) const;  // under mutex

    // Memory layout (machine.cpp): KVM slots for every region of `memory`.
    Result<void> map_memory();

    std::unique_ptr<Vm> vm;
    std::span<std::uint8_t> ram;
    std::vector<std::span<std::uint8_t>> roms;  // host copies of ROM contents, owned
    std::vector<MemoryRegion> rom_windows;      // where the guest sees them
    PhysicalMemory memory;                      // what the guest sees: RAM and ROM windows
    std::vector<MemoryRegion> mapped;           // the regions KVM has slots for now
    std::unique_ptr<PortBus> ports;
    SwBreakpoints breakpoints;
    bool data_breakpoints = true;

    mutable std::mutex mutex;
    std::vector<std::unique_ptr<VcpuThread>> vcpus;
    std::array<std::optional<HwBreakpoint>, 4> hw_slots;
    std::function<void(const VcpuStop&)> stop_handler;
    unsigned running_count = 0;
    std::optional<VcpuStop> primary_stop;  // the stop to report once all vCPUs are out
    std::deque<VcpuStop> pending_stops;    // further stops, reported at later resumes
    bool started = false;
    bool shut_down = false;
    std::size_t threads_ready = 0;  // start(): vCPU threads done with their initial state
    std::optional<Error> start_error;
    std::condition_variable start_done;
};

}  // namespace hvgdb::vcpu
