// A scriptable Target for session tests: x86-64 registers per thread, a small RAM window,
// and a record of every call the session makes.  Depends on gdbstub/target.hpp.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gdbstub/arch/x86.hpp"
#include "gdbstub/target.hpp"

namespace hvgdb::gdbstub::testing {

struct BreakpointCall {
    bool insert;
    BreakpointType type;
    std::uint64_t address;
    std::uint64_t kind;
};

class FakeTarget : public Target {  // not final: a server test overrides thread_running
  public:
    // RAM the fake has: [kRamBase, kRamBase + kRamSize), byte i holds (i & 0xff).
    static constexpr std::uint64_t kRamBase = 0x1000;
    static constexpr std::uint64_t kRamSize = 0x1000;
    // Initial register values of every thread (rip, rsp, rbp); register N holds N elsewhere.
    static constexpr std::uint64_t kRip = 0x1000;
    static constexpr std::uint64_t kRsp = 0x7ff0;
    static constexpr std::uint64_t kRbp = 0x7ff8;

    explicit FakeTarget(std::vector<ThreadId> threads = {1, 2},
                        const arch::Arch& arch = arch::x86_64());

    const arch::Arch& arch() const override { return arch_; }
    std::vector<ThreadId> threads() const override { return threads_; }
    Result<void> read_register(ThreadId, std::size_t regno, std::span<std::uint8_t> out) override;
    Result<void> write_register(ThreadId, std::size_t regno,
                                std::span<const std::uint8_t> value) override;
    Result<std::size_t> read_memory(std::uint64_t addr, std::span<std::uint8_t> out) override;
    Result<void> write_memory(std::uint64_t addr, std::span<const std::uint8_t> data) override;
    Result<void> insert_breakpoint(BreakpointType, std::uint64_t addr, std::uint64_t kind) override;
    Result<void> remove_breakpoint(BreakpointType, std::uint64_t addr, std::uint64_t kind) override;
    std::size_t watchpoint_slots() const override { return watch_slots; }
    Result<void> resume(std::span<const ThreadAction> actions) override;
    void interrupt() override {
        ++interrupts;
        if (on_interrupt) on_interrupt();
    }
    Result<void> set_non_stop(bool on) override;
    bool supports_non_stop() const override { return non_stop_supported; }
    bool thread_running(ThreadId thread) const override { return running.contains(thread); }
    void select_thread(ThreadId thread) override { selected.push_back(thread); }
    bool detach(AfterDetach after) override {
        ++detaches;
        detached_to = after;
        return after == AfterDetach::run;
    }
    void kill() override { ++kills; }
    void set_stop_sink(std::function<void(const StopEvent&)> sink) override {
        stop_sink = std::move(sink);
    }

    void attached() override { ++attaches; }
    Result<std::string> monitor(std::string_view command) override {
        monitor_commands.emplace_back(command);
        if (!monitor_reply) return Target::monitor(command);
        return *monitor_reply;
    }
    bool end_requested() const override { return monitor_ends_target; }
    std::string stop_notice(const StopEvent&) override { return notice; }
    std::vector<MemoryRange> memory_map() const override { return memory_ranges; }
    std::string thread1_description = "cpu";  // what thread_description says of thread 1
    std::string thread_description(ThreadId thread) const override {
        ++descriptions_asked;
        return thread == 1 ? thread1_description : "";
    }

    std::uint64_t register_value(ThreadId thread, std::size_t regno) const;
    std::vector<std::uint8_t>& register_bytes(ThreadId thread, std::size_t regno);

    // What the target does before it reports `event`: the thread stops (in all-stop mode,
    // or when the target ends, every thread).
    void mark_stopped(const StopEvent& event);

    // Scripted failures.
    std::optional<Error> resume_error;
    std::optional<Error> breakpoint_error;           // for every Z/z when set
    std::optional<std::size_t> unreadable_register;  // read_register says unsupported
    bool memory_everywhere = false;                  // reads anywhere succeed in full (0xaa bytes)
    std::size_t memory_reads = 0;                    // read_memory calls
    std::optional<Result<std::string>> monitor_reply;  // unset: no monitor commands
    bool monitor_ends_target = false;                  // end_requested() (monitor quit)
    std::string notice;                                // stop_notice's text
    std::vector<MemoryRange> memory_ranges;            // memory_map(): none unless set
    std::size_t watch_slots = 0;                       // watchpoint_slots(): 0, unknown, unless set
    bool non_stop_supported = false;      // set_non_stop(true) succeeds; qSupported has QNonStop+
    std::optional<Error> non_stop_error;  // set_non_stop fails with this when set

    // What the session did.
    std::vector<std::vector<ThreadAction>> resumes;
    std::vector<BreakpointCall> breakpoints;
    std::vector<std::uint8_t> ram;
    std::size_t last_read_size = 0;
    int interrupts = 0;
    std::function<void()> on_interrupt;  // called by interrupt() when set (server tests)
    int detaches = 0;
    std::optional<AfterDetach> detached_to;  // the last detach's
    int kills = 0;
    int attaches = 0;
    std::vector<std::string> monitor_commands;
    bool non_stop = false;
    std::set<ThreadId> running;      // resumed with c or s, and not reported stopped since
    std::vector<ThreadId> selected;  // select_thread calls, in order
    mutable int descriptions_asked = 0;
    std::function<void(const StopEvent&)> stop_sink;

  private:
    const arch::Arch& arch_;
    std::vector<ThreadId> threads_;
    std::map<std::pair<ThreadId, std::size_t>, std::vector<std::uint8_t>> registers_;
};

}  // namespace hvgdb::gdbstub::testing
