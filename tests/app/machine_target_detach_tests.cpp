// What a detach leaves in a started machine, on the real KVM: software breakpoints' original
// bytes back in guest RAM (read through the host mapping, not the breakpoint-masking reads),
// no debug register, watch or protected page left, no kept stop; then the guest runs on over
// every former site without a stop (AfterDetach::run), or stays stopped where it is
// (AfterDetach::stop), also when the detach comes while it runs, mid-step, or in non-stop mode
// with one vCPU stopped.  Needs /dev/kvm (SKIPPED, exit 77, without it).
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/app/started_machine.hpp"
#include "tests/kvm_skip.hpp"

using namespace hvgdb;
using namespace std::chrono_literals;
using gdbstub::AfterDetach;
using gdbstub::BreakpointType;
using gdbstub::ResumeKind;
using gdbstub::StopEvent;
using gdbstub::StopReason;

namespace {

constexpr std::uint64_t counter = 0x600, quit = 0x602;
// 7c00: inc word [0x600]       counts, until the test sets the byte at 0x602
// 7c04: cmp byte [0x602], 0
// 7c09: je 7c00
// 7c0b: mov al, 7
// 7c0d: out 0xf4, al           exit code 15
const std::vector<std::uint8_t> program = {0xff, 0x06, 0x00, 0x06, 0x80, 0x3e, 0x02, 0x06,
                                           0x00, 0x74, 0xf5, 0xb0, 0x07, 0xe6, 0xf4};
constexpr std::uint64_t cmp_at = 0x7c04, je_at = 0x7c09, exit_at = 0x7c0b, out_at = 0x7c0d;
constexpr int exit_code = 15;

using Machine = test::StartedMachine;

std::uint16_t count(Machine& m) {
    std::uint16_t v;
    std::memcpy(&v, m.machine->ram().data() + counter, sizeof v);
    return v;
}

// What the guest sees of its program: the host's bytes, whatever the breakpoint table says.
std::vector<std::uint8_t> raw_program(Machine& m) {
    auto bytes = m.machine->ram().subspan(Machine::load_address, program.size());
    return {bytes.begin(), bytes.end()};
}

// Breakpoints in the loop and on its way out, a hardware breakpoint on the exit, a write watch
// on the counter and a read watch (page protection, always) on the quit flag.
void insert_everything(Machine& m) {
    for (std::uint64_t at : {cmp_at, je_at, exit_at})
        REQUIRE(m.target->insert_breakpoint(BreakpointType::software, at, 1));
    REQUIRE(m.target->insert_breakpoint(BreakpointType::hardware, out_at, 1));
    REQUIRE(m.target->insert_breakpoint(BreakpointType::write_watch, counter, 2));
    REQUIRE(m.target->insert_breakpoint(BreakpointType::read_watch, quit, 1));
    const vcpu::DebugFootprint f = m.machine->debug_footprint();
    CHECK(f.sw_breakpoints == 3);
    CHECK(f.debug_registers >= 1);
    CHECK(f.watchpoints == 2);
    CHECK(f.protected_pages >= 1);
    const std::uint8_t opcode = breakpoint_opcode(m.machine->sw_breakpoints().mechanism());
    CHECK(m.machine->ram()[cmp_at] == opcode);
    CHECK(m.machine->ram()[exit_at] == opcode);
}

// Nothing of the debugger is left in the machine or in the guest's bytes.
void check_released(Machine& m) {
    CHECK(m.machine->debug_footprint() == vcpu::DebugFootprint{});
    CHECK(raw_program(m) == program);
}

// The guest is told to end; it runs over every former site to its exit, and that exit is the
// first stop reported.
void check_runs_to_exit(Machine& m, bool resume) {
    m.machine->ram()[quit] = 1;
    const StopEvent end = resume ? m.run() : m.wait();
    CHECK(end.kind == StopEvent::Kind::exited);
    CHECK(end.exit_code == exit_code);
}

// The counter stands still: no vCPU runs the guest.
void check_stays_stopped(Machine& m) {
    const std::uint16_t before = count(m);
    CHECK_FALSE(m.wait_for(300ms));
    CHECK_FALSE(m.machine->running());
    CHECK(count(m) == before);
}

// The counter moves and nothing stops the guest.
void check_runs_freely(Machine& m) {
    const std::uint16_t before = count(m);
    CHECK_FALSE(m.wait_for(300ms));
    CHECK(m.machine->running());
    CHECK(count(m) != before);
}

}  // namespace

TEST_CASE("detach, run: the bytes are back, nothing is left, the guest runs over the sites") {
    Machine m(program);
    insert_everything(m);
    const StopEvent hit = m.run();  // the first inc writes the watched counter
    CHECK(hit.reason == StopReason::watch);
    m.forget_stop();
    CHECK(m.target->detach(AfterDetach::run));
    check_released(m);
    check_runs_freely(m);
    check_runs_to_exit(m, false);
}

TEST_CASE("detach, stop: stopped after a step, the guest stays where it is") {
    Machine m(program);
    insert_everything(m);
    CHECK(m.run().reason == StopReason::watch);  // after the inc, at cmp's breakpoint
    // The step a debugger makes there, with that breakpoint and the read watch cmp would hit
    // out of the way: to je's breakpoint.  Then they are back for the detach.
    REQUIRE(m.target->remove_breakpoint(BreakpointType::software, cmp_at, 1));
    REQUIRE(m.target->remove_breakpoint(BreakpointType::read_watch, quit, 1));
    m.forget_stop();
    REQUIRE(m.target->resume(std::array{gdbstub::ThreadAction{ResumeKind::step, 1, {}}}));
    CHECK(m.wait().reason == StopReason::step);
    const std::uint64_t pc = m.pc();
    CHECK(pc == je_at);
    REQUIRE(m.target->insert_breakpoint(BreakpointType::software, cmp_at, 1));
    REQUIRE(m.target->insert_breakpoint(BreakpointType::read_watch, quit, 1));
    m.forget_stop();
    CHECK_FALSE(m.target->detach(AfterDetach::stop));  // nothing ran: no stop will come
    check_released(m);
    check_stays_stopped(m);
    CHECK(m.pc() == pc);
    // The next debugger continues: no step, breakpoint or watch of the one before stops it.
    check_runs_to_exit(m, true);
}

TEST_CASE("detach, stop: while the guest runs, it stops once and stays stopped") {
    Machine m(program);
    insert_everything(m);
    // Past the first stops (the counter's watch), then running with the rest still inserted.
    REQUIRE(m.target->remove_breakpoint(BreakpointType::write_watch, counter, 2));
    REQUIRE(m.target->remove_breakpoint(BreakpointType::read_watch, quit, 1));
    for (std::uint64_t at : {cmp_at, je_at})
        REQUIRE(m.target->remove_breakpoint(BreakpointType::software, at, 1));
    REQUIRE(m.target->resume(std::array{gdbstub::ThreadAction{}}));
    CHECK_FALSE(m.wait_for(100ms));
    REQUIRE(m.machine->running());
    CHECK(m.target->detach(AfterDetach::stop));  // it runs: a stop comes
    const StopEvent stopped = m.wait();
    CHECK(stopped.kind == StopEvent::Kind::stopped);
    CHECK(stopped.signal == 2);
    check_released(m);
    m.forget_stop();
    check_stays_stopped(m);
    check_runs_to_exit(m, true);
}

TEST_CASE("detach, run: a detach that races with a single step leaves no step behind") {
    Machine m(program);
    for (int round = 0; round < 30; ++round) {
        CAPTURE(round);
        REQUIRE(m.target->insert_breakpoint(BreakpointType::software, cmp_at, 1));
        m.forget_stop();
        REQUIRE(m.target->resume(std::array{gdbstub::ThreadAction{ResumeKind::step, 1, {}}}));
        CHECK(m.target->detach(AfterDetach::run));
        // The step's stop still comes; with no debugger the server detaches again then.
        const StopEvent step = m.wait();
        CHECK(step.kind == StopEvent::Kind::stopped);
        m.forget_stop();
        CHECK(m.target->detach(AfterDetach::run));
        check_released(m);
        // No single step is left: the guest runs on until the next debugger stops it.
        CHECK_FALSE(m.wait_for(20ms));
        CHECK(m.machine->running());
        m.target->interrupt();
        CHECK(m.wait().signal == 2);
    }
    check_runs_to_exit(m, true);
}

TEST_CASE("detach in non-stop mode with one vCPU stopped and one running") {
    Machine m(program, true, 2);  // vCPU 1 waits for SIPI: it runs, as far as gdb knows
    REQUIRE(m.target->set_non_stop(true));
    REQUIRE(m.target->resume(std::array{gdbstub::ThreadAction{}}));
    REQUIRE(m.target->resume(std::array{gdbstub::ThreadAction{ResumeKind::stop, 1, {}}}));
    CHECK(m.wait().thread == 1);
    REQUIRE(m.target->thread_running(2));
    REQUIRE(m.target->insert_breakpoint(BreakpointType::software, cmp_at, 1));
    REQUIRE(m.target->insert_breakpoint(BreakpointType::write_watch, counter, 2));

    m.forget_stop();
    CHECK(m.target->detach(AfterDetach::stop));  // vCPU 1 runs: its stop comes
    CHECK(m.wait().kind == StopEvent::Kind::stopped);
    check_released(m);
    m.forget_stop();
    check_stays_stopped(m);
    CHECK_FALSE(m.target->thread_running(1));
    CHECK_FALSE(m.target->thread_running(2));

    // A later detach with run lets both go, in all-stop mode: the next stop stops both.
    CHECK(m.target->detach(AfterDetach::run));
    check_runs_freely(m);
    CHECK(m.target->thread_running(1));
    CHECK(m.target->thread_running(2));
    check_runs_to_exit(m, false);
}

int main(int argc, char** argv) {
    return test::run_tests_if_kvm(argc, argv);
}
