// The machine: guest RAM at GPA 0 (and ROM, e.g. firmware, where asked), one thread per vCPU
// that alone touches its Vcpu, the port bus, debug state, and all-stop run control.  Other
// threads talk to vCPU threads by messages (resume, stop) and read the register snapshot each
// vCPU publishes when it stops.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "vcpu/breakpoints.hpp"
#include "vcpu/devices.hpp"
#include "vcpu/page_watches.hpp"
#include "vcpu/vm.hpp"
#include "vcpu/x86/lapic.hpp"
#include "vcpu/x86/state.hpp"

namespace hvgdb::vcpu {

struct VcpuSnapshot {
    x86::Registers regs;
    x86::SystemRegisters sregs;
    x86::FpuState fpu;
    x86::DebugRegisters debug;
    x86::ModelSpecificRegisters msrs;
    bool operator==(const VcpuSnapshot&) const = default;
};

// The parts of a snapshot a reader needs up to date (Machine::snapshot): `regs` and `sregs`,
// or all of it.
enum class SnapshotParts { cpu, all };

enum class StopCause {
    sw_breakpoint,
    hw_breakpoint,
    watchpoint,
    step,
    interrupted,  // request_stop(): Ctrl-C
    requested,    // request_stop(ids): the debugger stopped this vCPU alone (non-stop mode)
    exited,       // the guest wrote the exit port
    fault,        // triple fault, internal error, failed entry: the vCPU cannot go on
};

enum class FaultKind { none, triple_fault, internal_error, entry_failed, host_error };

struct VcpuStop {
    unsigned vcpu = 0;
    StopCause cause = StopCause::interrupted;
    std::uint64_t address = 0;  // breakpoint or watched address (linear)
    enum class Access { none, write, read, access } access = Access::none;  // watchpoints
    int exit_code = 0;                                                      // StopCause::exited
    FaultKind fault = FaultKind::none;                                      // StopCause::fault
    std::string detail;  // StopCause::fault: what happened
};

enum class RunMode { cont, step };
struct VcpuAction {
    unsigned vcpu;
    RunMode mode;
};

// A debug-register breakpoint or watchpoint (SDM vol. 3B, 17.2.4): len 1, 2, 4 or 8.
enum class HwKind { execute, write, access };
struct HwBreakpoint {
    HwKind kind;
    std::uint64_t linear;
    unsigned len;
    bool operator==(const HwBreakpoint&) const = default;
};

// A watchpoint as the debugger asks for it: `length` bytes from linear address `linear`.
struct Watchpoint {
    WatchKind kind = WatchKind::write;
    std::uint64_t linear = 0;
    std::uint64_t length = 0;
    bool operator==(const Watchpoint&) const = default;
};

struct MachineConfig {
    std::uint64_t ram_bytes = 128ull << 20;
    // vCPUs, 1 to 255 (xAPIC IDs are 8 bits and 0xff is the broadcast) and the host's maximum.
    unsigned cpus = 1;
    ConsoleSink console;
    SwBreakpointMechanism mechanism = SwBreakpointMechanism::int3;
    // Whether the host reports debug-register data breakpoints (see probe_host); without
    // them, insert_hw_breakpoint refuses write and access watchpoints as unsupported and
    // insert_watchpoint keeps them all by page protection.
    bool data_breakpoints = true;
    // hvgdb's own notes on what the guest asked for and did not get (an IPI of a delivery
    // mode hvgdb does not deliver, once per mode).  Called from vCPU threads, with the
    // machine's lock held: it must not call the Machine.
    std::function<void(const std::string&)> log;
};

// What the debugger has placed in the machine: all zero once its state is cleared
// (clear_breakpoints, discard_pending_stops), as when the debugger leaves.
struct DebugFootprint {
    std::size_t sw_breakpoints = 0;   // inserted, by linear address
    std::size_t debug_registers = 0;  // DR0-DR3 in use (hardware breakpoints, watches)
    std::size_t watchpoints = 0;      // watches listed by their bytes (see PageWatches)
    std::size_t protected_pages = 0;  // pages not at their mapping's permissions
    std::size_t kept_stops = 0;       // stops kept to report at a later resume
    bool operator==(const DebugFootprint&) const = default;
};

// One place where a ROM shows: `size` bytes from `offset` in the ROM appear at guest-physical
// `gpa`.  All three are multiples of 4 KiB (a KVM memory slot's granularity).
struct RomWindow {
    std::uint64_t gpa = 0;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
};

class Machine {
  public:
    static Result<std::unique_ptr<Machine>> create(const MachineConfig&);
    ~Machine();
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    // All of RAM, including any part a ROM window hides from the guest.
    std::span<std::uint8_t> ram();
    // Before start(): read-only memory holding a copy of `contents` (padded with 0xff to whole
    // pages), shown at each of `windows`.  The windows of all ROMs must not overlap; where one
    // lies over RAM it hides that RAM from the guest (as a PC shows its firmware at the top of
    // conventional memory).  The guest's writes to ROM exit as MMIO writes and are dropped;
    // the debugger's writes (and software breakpoints) change the ROM.  ErrorKind::invalid
    // for windows that break these rules.
    Result<void> add_rom(std::span<const std::uint8_t> contents,
                         std::span<const RomWindow> windows);
    // What the guest sees, RAM and ROM windows, sorted by address.
    std::span<const MemoryRegion> memory_map() const;
    unsigned vcpu_count() const;
    const HostCapabilities& capabilities() const;

    // Before start(): the state vCPU `id` begins with.  vCPU 0, the bootstrap processor,
    // runs from it.  The others are application processors (APs): without a state of their
    // own they wait for INIT and SIPI from the guest, as on a PC (README, "Multiprocessor
    // guests"); one given a state here runs from it instead.
    void set_initial_state(unsigned id, const VcpuSnapshot&);
    // Before start(): the state INIT leaves a processor in (Intel SDM vol. 3A, 9.1.1, table
    // 9-1), which the APs show while they wait for SIPI.  A SIPI with vector V starts an AP
    // from it at CS selector V << 8, base V << 12, IP 0.  IA32_APIC_BASE, the x87/SSE state
    // and the other MSRs are not taken from it: INIT keeps them.
    void set_init_state(const VcpuSnapshot&);
    // Whether vCPU `id` is an AP in the INIT state waiting for SIPI (resuming it waits for
    // one; a step of it ends at once).
    bool waiting_for_sipi(unsigned id) const;
    // Starts the vCPU threads; each creates its vCPU, loads its state and waits, stopped.
    Result<void> start();
    // Where stops are reported, from a vCPU thread, once every vCPU has left the guest.
    void set_stop_handler(std::function<void(const VcpuStop&)>);

    // Registers: the snapshot published at the last stop.  Only while stopped.  A stop reads
    // the general and system registers (`cpu`), which is all a stop report and memory
    // addressing need; the FPU, debug registers and MSRs are read once after the stop, on the
    // vCPU's thread, by the first snapshot() that asks for `all` (with `cpu` they are those of
    // an earlier read).  A write is applied at once on the vCPU's thread (what differs from
    // the snapshot, no more) and the snapshot re-read; when the hypervisor refuses it (an
    // inconsistent CR0, a read-only MSR changed), ErrorKind::target and the vCPU keeps its
    // state.  Before start() the write is only staged, like set_initial_state.
    VcpuSnapshot snapshot(unsigned id, SnapshotParts parts = SnapshotParts::all) const;
    Result<void> write_snapshot(unsigned id, const VcpuSnapshot&);

    // Guest-physical memory (RAM and ROM) from any thread, through the breakpoint table.
    Result<std::size_t> read_physical(std::uint64_t gpa, std::span<std::uint8_t> out) const;
    Result<void> write_physical(std::uint64_t gpa, std::span<const std::uint8_t> in);
    SwBreakpoints& sw_breakpoints();

    // Debug-register breakpoints shared by all vCPUs; ErrorKind::target when the four
    // slots are taken, ErrorKind::unsupported for watchpoints the host cannot report.
    // Applied at the next resume.
    Result<void> insert_hw_breakpoint(const HwBreakpoint&);
    Result<void> remove_hw_breakpoint(const HwBreakpoint&);
    // Watchpoints, exact to the byte.  A write or access watch of 1, 2, 4 or 8 aligned bytes
    // takes a free debug register where the host reports data breakpoints; every other watch
    // (read watches, other lengths, more than the debug registers hold, hosts without data
    // breakpoints) is kept by page protection over `physical`: where the page walk found the
    // watched bytes, or why it could not, which is then the error.  A protected page costs
    // an exit for every guest access to it.  Inserted at once (the vCPUs are stopped while
    // the debugger sets watches); a removed watch's pages get their permissions back at the
    // next resume.  ErrorKind::target when neither way can take the watch.
    Result<void> insert_watchpoint(const Watchpoint&,
                                   const Result<std::vector<PhysicalRange>>& physical);
    Result<void> remove_watchpoint(const Watchpoint&);
    // Every breakpoint and watchpoint removed, original bytes and page permissions restored.
    void clear_breakpoints();
    // Forgets stops that happened while another was being reported (the debugger that
    // would have been told about them has left).
    void discard_pending_stops();
    DebugFootprint debug_footprint() const;

    // Run control.  In all-stop mode (the default) a stop of one vCPU makes every other
    // running vCPU leave the guest before the stop is reported, and a stop that happens
    // meanwhile on another vCPU is kept and reported when that vCPU is resumed again (unless
    // the breakpoint it hit is gone by then: the vCPU then simply runs on).  In non-stop
    // mode each vCPU's stop is reported on its own and the others run on; only the guest's
    // exit stops them all.
    void set_non_stop(bool on);
    // Starts the named vCPUs that are stopped; vCPUs not named keep their state.  In
    // all-stop mode nothing starts while a vCPU runs, and when a named vCPU has a kept stop,
    // that stop is reported instead and nothing starts.
    void resume(std::span<const VcpuAction> actions);
    // Makes every running vCPU leave the guest.  All-stop: one stop with cause `interrupted`
    // follows unless another stop is reported first.  Non-stop: each reports its stop, the
    // first with cause `interrupted`, the others `requested`.  No effect when nothing runs.
    void request_stop();
    // Non-stop: makes the named running vCPUs leave the guest; each reports a stop with
    // cause `requested`.
    void request_stop(std::span<const unsigned> ids);
    bool running() const;
    bool running(unsigned id) const;

    // Back to the state start() found: RAM cleared (all zero), then `reload` writes the image
    // into it again (through ram(), not write_physical); ROMs get the contents add_rom gave
    // them; every vCPU the state it started in (vCPU 0 its initial state, APs back to waiting
    // for SIPI in the INIT state; the TSC runs on), its xAPIC and the devices their reset
    // values; stops not yet reported are dropped.  Breakpoints and watchpoints stay: software
    // breakpoints are patched again over the new bytes, which become their originals.
    // ErrorKind::target while any vCPU runs.  An error from `reload` is returned once the
    // rest is done.
    Result<void> reset(const std::function<Result<void>()>& reload);

    // For the debugger: vCPU `id`'s xAPIC (IA32_APIC_BASE as of its last stop), and the
    // devices on the port bus.  At any time.
    x86::Lapic lapic(unsigned id) const;
    std::optional<std::vector<PortDeviceState>> devices() const;

    // Ends the vCPU threads.
    void shutdown();

    struct Impl;

  private:
    explicit Machine(std::unique_ptr<Impl>);
    std::unique_ptr<Impl> impl_;
};

}  // namespace hvgdb::vcpu
