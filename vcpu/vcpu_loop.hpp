// Machine internals shared by machine.cpp, vcpu_loop.cpp and stepping.cpp: the per-vCPU thread
// record and the all-stop bookkeeping.  Not part of the public interface.
#pragma once

#include <sys/mman.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "vcpu/machine.hpp"
#include "vcpu/x86/instruction.hpp"
#include "vcpu/x86/lapic.hpp"

namespace hvgdb::vcpu {

// What a single step found at the PC before it ran (stepping.cpp).
struct StepPlan {
    std::uint64_t pc = 0;  // linear
    x86::InstructionClass instruction;
    std::optional<x86::InterruptEntry> entry;  // INT n, INT3, INTO: the handler it enters
    bool on_breakpoint = false;  // the PC's byte is a breakpoint's hlt (SwBreakpointMechanism)
    bool enters_handler_at(std::uint64_t linear) const { return entry && entry->handler == linear; }
};

// Adds an instruction breakpoint at `linear` in the first debug register `debug` leaves free
// (none when all four are taken): how a step over a software interrupt stops in its handler.
void add_step_catch(DebugControl& debug, std::uint64_t linear);

// One vCPU's thread and the messages it takes.  Fields are guarded by Machine::Impl::mutex.
struct VcpuThread {
    // read_rest: the parts of the snapshot a stop leaves unread (see snapshot_partial).
    enum class Command { none, run, step, write, read_rest, quit };

    unsigned id = 0;
    std::thread thread;
    std::shared_ptr<VcpuKick> kick;  // set once the thread has created its vCPU
    Command command = Command::none;
    bool running = false;  // between resume and its stop
    std::atomic<bool> stop_requested{false};
    bool quiet_stop = false;  // the stop asked for is request_stop(ids)'s, not Ctrl-C's
    std::atomic<bool> debug_dirty{false};       // breakpoints changed while running: re-apply
    std::optional<DebugControl> applied_debug;  // vCPU thread only: what KVM has now
    std::optional<StepPlan> step_plan;          // vCPU thread only: the single step under way
    VcpuSnapshot snapshot;                      // published at each stop
    // A stop reads the general and system registers only; the FPU, debug registers and MSRs
    // in `snapshot` are then those of an earlier read until snapshot(all) has them read.
    bool snapshot_partial = false;
    VcpuSnapshot reset_state;                   // published by start(): what reset() restores
    bool reset_waits_for_sipi = false;          // and whether it waited for SIPI then
    bool snapshot_dirty = false;                // staged writes to apply before running
    std::optional<VcpuSnapshot> write_request;  // Command::write: the state to apply now
    std::optional<Result<void>> write_result;   // and how that went, for write_snapshot
    std::condition_variable write_done;         // a write applied, or the rest read
    std::condition_variable wake;

    // Interprocessor interrupts (ipi.cpp).  INIT, SIPI, NMI and fixed interrupts from other
    // vCPUs are messages too: this vCPU's thread takes them.  The atomics are written under
    // the mutex and read without it at the run loop's head.
    x86::Lapic lapic;                             // its xAPIC, IA32_APIC_BASE as last read
    std::atomic<bool> waiting_for_sipi{false};    // in the INIT state, out of the guest
    std::atomic<bool> init_pending{false};        // an INIT to take before running on
    std::optional<std::uint8_t> sipi_vector;      // a SIPI to take while waiting for one
    std::atomic<bool> nmi_pending{false};         // an NMI to inject
    std::atomic<bool> interrupts_changed{false};  // IRR, ISR or priorities changed: look again
};

// The vCPU's state as the debugger sees it, and the part of it a loader sets (vcpu_loop.cpp).
Result<VcpuSnapshot> take_snapshot(Vcpu& vcpu);
// What take_snapshot reads beyond the general and system registers: the FPU, the debug
// registers and the MSRs, into `s`.
Result<void> take_rest(Vcpu& vcpu, VcpuSnapshot& s);
Result<void> load_snapshot(Vcpu& vcpu, const VcpuSnapshot& s);

struct Machine::Impl {
    Impl(std::unique_ptr<Vm> vm_, std::span<std::uint8_t> ram_, const MachineConfig& config);
    ~Impl();

    Result<void> start();
    void resume(std::span<const VcpuAction> actions);
    void request_stop();
    void request_stop(std::span<const unsigned> ids);
    // Under mutex: the first kept stop of a vCPU `actions` resumes that still stands (stops
    // at breakpoints removed since are dropped); nullopt when there is none.
    std::optional<VcpuStop> take_pending_stop(std::span<const VcpuAction> actions);
    void shutdown();
    Result<void> write_snapshot(unsigned id, const VcpuSnapshot& s);

    // vCPU thread side.
    void thread_main(VcpuThread& self);
    void report_ready(std::optional<Error> error);
    VcpuStop run_until_stop(Vcpu& vcpu, VcpuThread& self, bool step, bool debug_registers_off);
    // Around a single step (stepping.cpp): plan_step looks at the instruction at the PC before
    // the debug state is set (apply_debug adds the plan's catch); finish_step takes the stop
    // the step ended in and makes it the step hvgdb defines (README, "Stepping").
    void plan_step(VcpuThread& self);
    VcpuStop finish_step(Vcpu& vcpu, VcpuThread& self, VcpuStop stop, bool debug_registers_off);
    // Runs the instruction under a breakpoint's byte that the vCPU reached through another
    // linear address than the breakpoint's, with the original byte in place.  The stop to
    // report when that step ends in one the debugger must see (an exit, a fault, Ctrl-C, or
    // the single step it asked for); nullopt to run on.
    // The debug state for stepping over one instruction without the debugger's instruction
    // breakpoints (so the one at the PC does not hit again): a single step, DR7 clear, and
    // with `catch_interrupt_entry` the catch at the handler a planned step enters.
    Result<void> arm_step_over(Vcpu& vcpu, VcpuThread& self, bool catch_interrupt_entry);
    std::optional<VcpuStop> step_original(Vcpu& vcpu, VcpuThread& self, bool step,
                                          std::uint64_t gpa);
    // After an MMIO exit that touched a watch (`hit`) or came while single-stepping: the
    // instruction completes and nothing after it runs; the watchpoint's stop, or the step's.
    VcpuStop finish_instruction(Vcpu& vcpu, unsigned id, std::optional<WatchHit> hit);
    // After an emulation failure: when the instruction is fetched from a page a read or
    // access watch took away, single-steps it with that page readable for the step (its
    // writes there are still watched, its reads there are not).  `handled` is false when the
    // failure is not such a fetch; `stop` is the stop to report, nullopt to run on.
    struct FetchStep {
        bool handled = false;
        std::optional<VcpuStop> stop;
    };
    FetchStep step_watched_fetch(Vcpu& vcpu, VcpuThread& self, bool step, bool debug_registers_off);
    // The guest halted: waits, using no CPU, until the debugger stops it (that stop) or INIT,
    // NMI or, with `interruptible` (RFLAGS.IF), an interrupt the xAPIC delivers wakes it
    // (nullopt: run on, the run loop takes it).
    std::optional<VcpuStop> wait_while_halted(VcpuThread& self, bool interruptible);
    // Multiprocessor start-up, on the vCPU's own thread (ipi.cpp).  Takes a pending INIT
    // (the access under way completed first) and a SIPI that starts the vCPU; while it waits
    // for SIPI a step ends at once and a run waits, using no CPU, for a SIPI, an INIT or the
    // debugger.  `changed`: the vCPU's registers were replaced; `stop`: the stop to report
    // instead of entering the guest.
    struct Startup {
        bool changed = false;
        std::optional<VcpuStop> stop;
    };
    Startup take_startup(Vcpu& vcpu, VcpuThread& self, bool step);
    static bool startup_pending(const VcpuThread& self) {
        return self.init_pending.load() || self.waiting_for_sipi.load();
    }
    // A guest access that exited as MMIO: the xAPIC answers it in the vCPU's APIC page (and
    // delivers the IPI a command sends), guest memory elsewhere (see PageWatches).
    std::optional<WatchHit> complete_mmio(Vcpu& vcpu, VcpuThread& self, const MmioAccess& access);
    void send_ipi(unsigned from, const x86::Ipi& ipi);  // under mutex
    // Before each entry into the guest: injects a pending NMI, and the interrupt the xAPIC
    // delivers when the guest can take it (else asks for the exit when it can).  Nothing
    // while single-stepping: a step runs its one instruction (KVM_GUESTDBG_BLOCKIRQ's rule).
    Result<void> deliver_interrupts(Vcpu& vcpu, VcpuThread& self, bool step);
    Result<void> apply_debug(Vcpu& vcpu, VcpuThread& self, bool step);
    void debug_state_changed();       // under mutex: running vCPUs re-apply their debug state
    void ask_to_stop(VcpuThread& v);  // under mutex: out of the guest or its wait, and stop
    void finish_stop(Vcpu& vcpu, VcpuThread& self, VcpuStop stop);  // snapshot, then publish
    void apply_write(Vcpu& vcpu, VcpuThread& self);                 // Command::write
    void read_rest(Vcpu& vcpu, VcpuThread& self);                   // Command::read_rest
    VcpuSnapshot snapshot(unsigned id, SnapshotParts parts);        // Machine::snapshot
    void publish_stop(VcpuThread& self, VcpuStop stop);
    DebugControl debug_control(bool step) const;  // under mutex

    // Memory layout (machine.cpp): KVM slots for every region of `memory`.
    Result<void> map_memory();

    std::unique_ptr<Vm> vm;
    std::span<std::uint8_t> ram;
    std::vector<std::span<std::uint8_t>> roms;  // host copies of ROM contents, owned
    std::vector<MemoryRegion> rom_windows;      // where the guest sees them
    PhysicalMemory memory;                      // what the guest sees: RAM and ROM windows
    std::atomic<std::uint64_t> debugger_memory_writes{0};  // Machine::write_physical calls
    std::vector<MemoryRegion> mapped;                      // the regions KVM has slots for now
    std::unique_ptr<PortBus> ports;
    SwBreakpoints breakpoints;
    PageWatches page_watches;  // watchpoints the debug registers do not hold
    bool data_breakpoints = true;
    std::function<void(const std::string&)> log;  // MachineConfig::log
    // Each ROM's contents as add_rom made them, which reset() puts back.
    std::vector<std::vector<std::uint8_t>> rom_contents;

    mutable std::mutex mutex;
    VcpuSnapshot init_state;          // Machine::set_init_state
    unsigned reported_ipi_modes = 0;  // delivery modes said to be ignored, one bit each
    std::vector<std::unique_ptr<VcpuThread>> vcpus;
    std::array<std::optional<HwBreakpoint>, 4> hw_slots;
    std::function<void(const VcpuStop&)> stop_handler;
    unsigned running_count = 0;
    std::optional<VcpuStop> primary_stop;  // the stop to report once all vCPUs are out
    std::deque<VcpuStop> pending_stops;    // further stops, reported at later resumes
    bool non_stop = false;                 // see Machine::set_non_stop
    bool interrupt_owed = false;           // non-stop: request_stop()'s SIGINT not yet reported
    bool started = false;
    bool shut_down = false;
    std::size_t threads_ready = 0;  // start(): vCPU threads done with their initial state
    std::optional<Error> start_error;
    std::condition_variable start_done;
};

}  // namespace hvgdb::vcpu
