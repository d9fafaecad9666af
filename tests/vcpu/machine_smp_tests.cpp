// Machine run control with two vCPUs on the real KVM: all-stop (every vCPU out before a stop
// is reported, stops kept for later resumes and never lost) and non-stop (one vCPU stops,
// the other runs on).  Both vCPUs start from states set before start(), in real mode.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/vcpu/machine_harness.hpp"
#include "vcpu/machine.hpp"

using namespace hvgdb::vcpu;

namespace {

using testing::Harness;
using testing::real_mode;

constexpr std::uint64_t code0 = 0x7c00, code1 = 0x7d00;
constexpr std::uint64_t counter0 = 0x500, counter1 = 0x502;

// inc word [counter]; jmp short back to the inc
std::vector<std::uint8_t> counting_loop(std::uint16_t counter) {
    return {0xff, 0x06, static_cast<std::uint8_t>(counter), static_cast<std::uint8_t>(counter >> 8),
            0xeb, 0xfa};
}
// nop; jmp $: a breakpoint on the nop is hit once, then the vCPU spins past it
const std::vector<std::uint8_t> nop_then_spin = {0x90, 0xeb, 0xfe};
// mov al, 7; out 0xf4, al: exits with (7 << 1) | 1
const std::vector<std::uint8_t> exits = {0xb0, 0x07, 0xe6, 0xf4};

// Two vCPUs with their own programs, and every stop they report, in order.
struct TwoVcpus {
    // Before the machine: a stop published while it shuts down still finds them.
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<VcpuStop> stops;
    Harness h{Harness::unstarted, [](MachineConfig& c) { c.cpus = 2; }};

    TwoVcpus(const std::vector<std::uint8_t>& program0, std::uint64_t at0,
             const std::vector<std::uint8_t>& program1, std::uint64_t at1, bool non_stop = false) {
        std::memcpy(h.machine->ram().data() + at0, program0.data(), program0.size());
        std::memcpy(h.machine->ram().data() + at1, program1.data(), program1.size());
        h.machine->set_stop_handler([this](const VcpuStop& s) {
            std::lock_guard lock(mutex);
            stops.push_back(s);
            cv.notify_all();
        });
        h.machine->set_non_stop(non_stop);
        h.machine->set_initial_state(0, real_mode(0, 0, at0));
        h.machine->set_initial_state(1, real_mode(0, 0, at1));
        REQUIRE(h.machine->start());
    }

    void resume(std::vector<VcpuAction> actions) { h.machine->resume(actions); }
    void resume_both() { resume({{0, RunMode::cont}, {1, RunMode::cont}}); }

    VcpuStop next_stop() {
        std::unique_lock lock(mutex);
        REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !stops.empty(); }));
        VcpuStop s = stops.front();
        stops.pop_front();
        return s;
    }
    bool no_stop_for(std::chrono::milliseconds t) {
        std::unique_lock lock(mutex);
        return !cv.wait_for(lock, t, [&] { return !stops.empty(); });
    }

    std::uint16_t word(std::uint64_t gpa) {
        std::uint16_t v = 0;
        std::memcpy(&v, h.machine->ram().data() + gpa, sizeof v);
        return v;
    }
    // Whether the counter at `gpa` moves within a while.
    bool advances(std::uint64_t gpa) {
        const auto before = word(gpa);
        for (int i = 0; i < 100; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (word(gpa) != before) return true;
        }
        return false;
    }
};

}  // namespace

TEST_CASE("all-stop: Ctrl-C stops both vCPUs and reports one stop") {
    TwoVcpus m(counting_loop(counter0), code0, counting_loop(counter1), code1);
    m.resume_both();
    REQUIRE(m.advances(counter0));
    REQUIRE(m.advances(counter1));
    m.h.machine->request_stop();
    auto s = m.next_stop();
    CHECK(s.cause == StopCause::interrupted);
    CHECK(!m.h.machine->running());
    CHECK(m.no_stop_for(std::chrono::milliseconds(200)));
    CHECK(!m.advances(counter0));
    CHECK(!m.advances(counter1));
}

TEST_CASE("all-stop: a breakpoint on one vCPU stops the other before it is reported") {
    TwoVcpus m(counting_loop(counter0), code0, nop_then_spin, code1);
    REQUIRE(m.h.machine->insert_hw_breakpoint({HwKind::execute, code1, 1}));
    m.resume_both();
    auto s = m.next_stop();
    CHECK(s.vcpu == 1);
    CHECK(s.cause == StopCause::hw_breakpoint);
    CHECK(s.address == code1);
    CHECK(!m.h.machine->running(0));
    CHECK(!m.advances(counter0));
}

namespace {
// mov cx, n; loop $; nop; jmp $: a count down, then a breakpoint on the nop is hit once
std::vector<std::uint8_t> count_down_then_spin(std::uint16_t n) {
    return {0xb9,
            static_cast<std::uint8_t>(n),
            static_cast<std::uint8_t>(n >> 8),
            0xe2,
            0xfe,
            0x90,
            0xeb,
            0xfe};
}
constexpr std::uint64_t nop_at = 5;
}  // namespace

TEST_CASE("all-stop: a second vCPU's breakpoint stop is kept, not lost") {
    // Both vCPUs count down at the same time and reach their breakpoints close together;
    // often the second hits its breakpoint before the first one's stop has kicked it out.
    // Whichever way, its stop comes at the next resume: kept, or hit when it runs again.  A
    // lost stop would leave that vCPU past its breakpoint and the resume without a stop.
    constexpr std::uint16_t n = 0x4000;
    TwoVcpus m(count_down_then_spin(n), code0, count_down_then_spin(n), code1);
    const std::uint64_t bp[] = {code0 + nop_at, code1 + nop_at};
    REQUIRE(m.h.machine->insert_hw_breakpoint({HwKind::execute, bp[0], 1}));
    REQUIRE(m.h.machine->insert_hw_breakpoint({HwKind::execute, bp[1], 1}));
    auto restart = [&] {
        for (unsigned id : {0u, 1u}) {
            auto s = m.h.machine->snapshot(id);
            s.regs.rip = id == 0 ? code0 : code1;
            REQUIRE(m.h.machine->write_snapshot(id, s));
        }
    };

    SUBCASE("reported when that vCPU resumes, not when only the first one steps") {
        for (int attempt = 0; attempt < 100; ++attempt) {
            CAPTURE(attempt);
            restart();
            m.resume_both();
            auto first = m.next_stop();
            REQUIRE(first.cause == StopCause::hw_breakpoint);
            const unsigned other = 1 - first.vcpu;
            m.resume({{first.vcpu, RunMode::step}});
            auto step = m.next_stop();
            CHECK(step.vcpu == first.vcpu);
            CHECK(step.cause == StopCause::step);
            m.resume_both();
            auto second = m.next_stop();
            CHECK(second.vcpu == other);
            CHECK(second.cause == StopCause::hw_breakpoint);
            CHECK(second.address == bp[other]);
        }
    }
    SUBCASE("dropped when its breakpoint was removed meanwhile: the vCPU runs on") {
        m.resume_both();
        REQUIRE(m.next_stop().cause == StopCause::hw_breakpoint);
        REQUIRE(m.h.machine->remove_hw_breakpoint({HwKind::execute, bp[0], 1}));
        REQUIRE(m.h.machine->remove_hw_breakpoint({HwKind::execute, bp[1], 1}));
        m.resume_both();
        CHECK(m.no_stop_for(std::chrono::milliseconds(300)));
        m.h.machine->request_stop();
        CHECK(m.next_stop().cause == StopCause::interrupted);
        CHECK(m.h.machine->snapshot(0).regs.rip == bp[0] + 1);  // spinning past the nop
        CHECK(m.h.machine->snapshot(1).regs.rip == bp[1] + 1);
    }
}

TEST_CASE("non-stop: one vCPU stops while the other runs on") {
    TwoVcpus m(counting_loop(counter0), code0, counting_loop(counter1), code1, true);
    m.resume_both();
    REQUIRE(m.advances(counter1));
    const unsigned one = 1;
    m.h.machine->request_stop({&one, 1});
    auto s = m.next_stop();
    CHECK(s.vcpu == 1);
    CHECK(s.cause == StopCause::requested);
    CHECK(m.h.machine->running(0));
    CHECK(!m.h.machine->running(1));
    CHECK(m.advances(counter0));
    CHECK(!m.advances(counter1));
    CHECK(m.no_stop_for(std::chrono::milliseconds(100)));

    SUBCASE("the stopped one's registers can be written and it resumes alone") {
        auto snap = m.h.machine->snapshot(1);
        snap.regs.rax = 0x1234;
        REQUIRE(m.h.machine->write_snapshot(1, snap));
        CHECK(m.h.machine->snapshot(1).regs.rax == 0x1234);
        m.resume({{1, RunMode::cont}});
        CHECK(m.advances(counter1));
    }
    SUBCASE("a step of the stopped one ends with its own stop only") {
        m.resume({{1, RunMode::step}});
        auto step = m.next_stop();
        CHECK(step.vcpu == 1);
        CHECK(step.cause == StopCause::step);
        CHECK(m.h.machine->running(0));
    }
    SUBCASE("Ctrl-C stops the rest: one SIGINT-style stop") {
        m.h.machine->request_stop();
        auto last = m.next_stop();
        CHECK(last.vcpu == 0);
        CHECK(last.cause == StopCause::interrupted);
        CHECK(!m.h.machine->running());
    }
}

TEST_CASE("non-stop: Ctrl-C with both running reports both, one of them interrupted") {
    TwoVcpus m(counting_loop(counter0), code0, counting_loop(counter1), code1, true);
    m.resume_both();
    REQUIRE(m.advances(counter0));
    m.h.machine->request_stop();
    auto a = m.next_stop();
    auto b = m.next_stop();
    CHECK(a.vcpu != b.vcpu);
    CHECK(a.cause == StopCause::interrupted);
    CHECK(b.cause == StopCause::requested);
    CHECK(!m.h.machine->running());
}

TEST_CASE("non-stop: a breakpoint stops its vCPU alone") {
    TwoVcpus m(counting_loop(counter0), code0, nop_then_spin, code1, true);
    REQUIRE(m.h.machine->insert_hw_breakpoint({HwKind::execute, code1, 1}));
    m.resume_both();
    auto s = m.next_stop();
    CHECK(s.vcpu == 1);
    CHECK(s.cause == StopCause::hw_breakpoint);
    CHECK(m.h.machine->running(0));
    CHECK(m.advances(counter0));
    m.h.machine->request_stop();
    CHECK(m.next_stop().vcpu == 0);
}

TEST_CASE("non-stop: the guest's exit stops every vCPU and is reported once") {
    TwoVcpus m(counting_loop(counter0), code0, exits, code1, true);
    m.resume_both();
    auto s = m.next_stop();
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 15);
    CHECK(!m.h.machine->running());
    CHECK(m.no_stop_for(std::chrono::milliseconds(200)));
}
