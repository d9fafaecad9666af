// The debugger's view of the machine: what the session may ask of it.  Implemented by the
// adapter over vcpu::Machine and by a fake target in tests.  Depends on common/ and arch/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "gdbstub/arch/arch.hpp"

namespace hvgdb::gdbstub {

// gdb thread id: one per vCPU, starting at 1 (gdb reserves 0 for "any" and -1 for "all").
using ThreadId = std::uint32_t;

enum class BreakpointType { software, hardware, write_watch, read_watch, access_watch };

enum class ResumeKind { cont, step, stop };

// One action of a resume request.  thread == nullopt applies to every thread not named by
// another action (vCont's default action).
struct ThreadAction {
    ResumeKind kind = ResumeKind::cont;
    std::optional<ThreadId> thread;
    std::optional<std::uint8_t> signal;
};

enum class StopReason { none, sw_break, hw_break, watch, rwatch, awatch, step, interrupt, fault };

// One range of the address space the debugger's memory addresses may use (gdb manual,
// "Memory Map Format"): ram is read and written; rom is read-only to the debugger, which
// then puts its breakpoints there in hardware.
enum class MemoryKind { ram, rom };
struct MemoryRange {
    std::uint64_t start = 0;
    std::uint64_t length = 0;  // > 0; start + length may be 2^64 (the top of the space)
    MemoryKind kind = MemoryKind::ram;
    bool operator==(const MemoryRange&) const = default;
};

// What the machine does once the debugger has left (D, or its connection closed): run on,
// as gdb's detach means, or stay stopped where it is for the next debugger (--on-detach).
enum class AfterDetach { run, stop };

// What the target reports when it stops or ends.
struct StopEvent {
    enum class Kind { stopped, exited, killed } kind = Kind::stopped;
    ThreadId thread = 1;
    std::uint8_t signal = 5;  // GDB signal number: 5 SIGTRAP, 2 SIGINT, 11 SIGSEGV, 4 SIGILL...
    StopReason reason = StopReason::none;
    std::uint64_t data_address = 0;  // watchpoint address for watch/rwatch/awatch
    int exit_code = 0;               // Kind::exited
};

// The registers of a 'g' reply or a 'G' packet: `visit(regno, bytes)` for each row of `arch`
// in order, on that row's bytes of `all`.  The first error `visit` returns ends the walk, as
// does `all` running short (ErrorKind::protocol).
template <class Byte, class Visit>
Result<void> for_each_register(const arch::Arch& arch, std::span<Byte> all, Visit&& visit) {
    for (std::size_t regno = 0; regno < arch.registers.size(); ++regno) {
        const std::size_t size = arch.register_bytes(regno);
        if (all.size() < size) return make_error(ErrorKind::protocol, "register data too short");
        if (Result<void> r = visit(regno, all.first(size)); !r) return r;
        all = all.subspan(size);
    }
    return {};
}

class Target {
  public:
    virtual ~Target() = default;

    // The register table for the thread's current view of the machine.
    virtual const arch::Arch& arch() const = 0;
    virtual std::vector<ThreadId> threads() const = 0;
    // A line about a thread for the debugger's thread list (qThreadExtraInfo), e.g. "vCPU 0,
    // 64-bit long mode"; empty when there is nothing to say.  Called only while stopped.
    virtual std::string thread_description(ThreadId thread) const {
        (void)thread;
        return {};
    }

    // Register N of the arch table, little-endian, exactly arch().register_bytes(N) bytes.
    // Called only while the target is stopped.
    virtual Result<void> read_register(ThreadId, std::size_t regno,
                                       std::span<std::uint8_t> out) = 0;
    virtual Result<void> write_register(ThreadId, std::size_t regno,
                                        std::span<const std::uint8_t> value) = 0;
    // 'g': every register at once into `all`, the rows in order (exactly the 'g' layout).  A
    // row the target does not have (unsupported) is zeroed and its number added to
    // `unavailable`, in order.  By default one read_register per row; a target that copies
    // its registers from one place should read that once.
    virtual Result<void> read_registers(ThreadId thread, std::span<std::uint8_t> all,
                                        std::vector<std::size_t>& unavailable) {
        return for_each_register(arch(), all, [&](std::size_t regno, auto bytes) -> Result<void> {
            auto read = read_register_or_zero(thread, regno, bytes);
            if (!read) return std::unexpected(read.error());
            if (!*read) unavailable.push_back(regno);
            return {};
        });
    }
    // read_register, where a row the target does not have (unsupported) reads as zeros and
    // false.
    Result<bool> read_register_or_zero(ThreadId thread, std::size_t regno,
                                       std::span<std::uint8_t> out) {
        auto read = read_register(thread, regno, out);
        if (read) return true;
        if (read.error().kind != ErrorKind::unsupported) return std::unexpected(read.error());
        std::ranges::fill(out, std::uint8_t{0});
        return false;
    }
    // 'G': every register at once, `all` being the rows in order (exactly the 'g' layout).
    // By default one write_register per row, a row the target does not have (unsupported)
    // skipped; a target that can should apply all or nothing.
    virtual Result<void> write_registers(ThreadId thread, std::span<const std::uint8_t> all) {
        return for_each_register(arch(), all, [&](std::size_t regno, auto bytes) -> Result<void> {
            auto written = write_register(thread, regno, bytes);
            // gdb writes back every register it read, including ones sent as unavailable.
            if (!written && written.error().kind != ErrorKind::unsupported) return written;
            return {};
        });
    }

    // Memory at debugger addresses.  read_memory may stop short at an unmapped address and
    // returns the number of bytes read (0 with an error when none).  Inserted software
    // breakpoints never show in what is read; writes over them keep them inserted.
    virtual Result<std::size_t> read_memory(std::uint64_t addr, std::span<std::uint8_t> out) = 0;
    virtual Result<void> write_memory(std::uint64_t addr, std::span<const std::uint8_t> data) = 0;

    // Z/z packets.  `kind` is the packet's kind field (breakpoint length or watch length).
    virtual Result<void> insert_breakpoint(BreakpointType, std::uint64_t addr,
                                           std::uint64_t kind) = 0;
    virtual Result<void> remove_breakpoint(BreakpointType, std::uint64_t addr,
                                           std::uint64_t kind) = 0;
    // How many watchpoints (Z2, Z3, Z4) the target holds at once, for lldb's
    // qWatchpointSupportInfo; 0 when it cannot tell (the packet is then unsupported).
    virtual std::size_t watchpoint_slots() const { return 0; }

    // Starts the threads as asked and returns at once; the stop comes later through the
    // stop sink.  Errors are reported only for requests that cannot start at all.
    virtual Result<void> resume(std::span<const ThreadAction> actions) = 0;

    // Ctrl-C: stop every running thread; a stop event with SIGINT follows.  In non-stop
    // mode every running thread stops and each reports its own stop.
    virtual void interrupt() = 0;

    // Non-stop mode (QNonStop): each thread stops on its own and the others run on; every
    // stop is reported through the stop sink.  In non-stop mode resume() leaves the threads
    // no action names as they are (running or stopped), and a ResumeKind::stop action stops
    // a running thread, which reports a stop with signal 0.  ErrorKind::unsupported when the
    // target cannot.
    virtual Result<void> set_non_stop(bool on) {
        if (!on) return {};
        return make_error(ErrorKind::unsupported, "no non-stop mode");
    }
    // Whether set_non_stop(true) can succeed: the session announces QNonStop+ in qSupported
    // only then (gdb manual, "Remote Non-Stop"), as gdb sends QNonStop only to a stub that
    // announced it.  A target that overrides set_non_stop overrides this too.
    virtual bool supports_non_stop() const { return false; }
    // Whether the thread runs: resumed, and its stop not yet reported.
    virtual bool thread_running(ThreadId thread) const {
        (void)thread;
        return false;
    }
    // The debugger's current thread (Hg, or the thread a stop made current): memory accesses
    // use its view of memory (its page tables) from now on.
    virtual void select_thread(ThreadId thread) { (void)thread; }

    // The debugger leaves (D, or its connection closed): every breakpoint and watchpoint
    // removed with the original bytes and page permissions restored, single steps cleared,
    // stops not yet reported dropped.  Then every thread runs (AfterDetach::run) or stops
    // where it is (AfterDetach::stop); the target is in all-stop mode again.  Returns whether
    // threads still run, so that a stop may still come through the stop sink (with `stop`:
    // threads that ran are on their way to that stop).
    virtual bool detach(AfterDetach after) = 0;

    // The debugger ends the machine.
    virtual void kill() = 0;

    // A debugger has connected and the target is stopped: the target may pick the register
    // view (arch()) that suits its current state.
    virtual void attached() {}

    // A 'monitor' command (qRcmd): the text to show the user, or an error whose message is
    // shown.  ErrorKind::unsupported when the target has no monitor commands.  Called while
    // stopped, and in non-stop mode also while threads run (a command that needs a thread
    // stopped refuses then); it may change arch(), which a client then has to fetch again.
    virtual Result<std::string> monitor(std::string_view command) {
        (void)command;
        return make_error(ErrorKind::unsupported, "no monitor commands");
    }
    // True once a monitor command asked to end the target (hvgdb's `monitor quit`): the
    // session then ends it as vKill does, with the command's reply as the last one.
    virtual bool end_requested() const { return false; }

    // Text for the debugger's console ahead of the reply for this stop (for example: the CPU
    // mode no longer matches the register view); empty for none.
    virtual std::string stop_notice(const StopEvent& event) {
        (void)event;
        return {};
    }

    // Where the target reports stops.  The target may call it from any thread; whoever sets
    // it is responsible for moving the event to the session's thread.
    virtual void set_stop_sink(std::function<void(const StopEvent&)> sink) = 0;

    // Where the target sends the guest's console text for the debugger (when it forwards it
    // at all), from any thread, as the guest writes it; whoever sets it moves the text to the
    // session's thread and must not block.  An empty function: no one takes it.
    virtual void set_console_sink(std::function<void(std::string_view)> sink) { (void)sink; }

    // The ranges the debugger's memory addresses may use, sorted by address and disjoint;
    // the debugger refuses any access outside them.  Empty: no memory map (the session does
    // not offer qXfer:memory-map:read, and qMemoryRegionInfo is unsupported).  Fixed for the
    // target's life.
    virtual std::vector<MemoryRange> memory_map() const { return {}; }
};

}  // namespace hvgdb::gdbstub
