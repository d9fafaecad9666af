// Session: resuming, stop replies, Ctrl-C, and ending the session (D, k, vKill, W, X).
#include <doctest/doctest.h>

#include "session_harness.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

namespace {

std::string t05(std::string_view thread, std::string_view tail = "") {
    return frame("T05thread:" + std::string(thread) + ";" + std::string(kExpedited) +
                 std::string(tail));
}

}  // namespace

TEST_CASE("continue: no reply until the stop, then T with the breakpoint reason") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("vCont?") == frame("vCont;c;C;s;S;t"));
    CHECK(h.packet("vCont;c") == "");
    REQUIRE(h.target.resumes.size() == 1);
    REQUIRE(h.target.resumes[0].size() == 1);
    CHECK(h.target.resumes[0][0].kind == ResumeKind::cont);
    CHECK_FALSE(h.target.resumes[0][0].thread);

    CHECK(h.stop({.thread = 1, .reason = StopReason::sw_break}) == t05("01", "swbreak:;"));
    // The stop is remembered for '?'.
    CHECK(h.packet("?") == t05("01", "swbreak:;"));
}

TEST_CASE("stop reasons on the wire") {
    Harness h;
    h.no_acks();
    h.packet("c");
    CHECK(h.stop({.reason = StopReason::hw_break}) == t05("01", "hwbreak:;"));
    h.packet("c");
    CHECK(h.stop({.reason = StopReason::watch, .data_address = 0x2000}) ==
          t05("01", "watch:2000;"));
    h.packet("c");
    CHECK(h.stop({.reason = StopReason::rwatch, .data_address = 0x10}) == t05("01", "rwatch:10;"));
    h.packet("c");
    CHECK(h.stop({.reason = StopReason::awatch, .data_address = 0}) == t05("01", "awatch:0;"));
    h.packet("c");
    CHECK(h.stop({.signal = 11, .reason = StopReason::fault}) ==
          frame("T0bthread:01;" + std::string(kExpedited)));
}

TEST_CASE("the stopped thread becomes the current thread") {
    Harness h;
    h.no_acks();
    h.packet("c");
    h.target.register_bytes(2, 16)[0] = 0x42;
    CHECK(h.stop({.thread = 2, .reason = StopReason::step}) ==
          frame("T05thread:02;06:f87f000000000000;07:f07f000000000000;10:4210000000000000;"));
    CHECK(h.packet("qC") == frame("QC02"));
    CHECK(h.packet("p10") == frame("4210000000000000"));
}

TEST_CASE("step: vCont with a thread, and the legacy forms") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("vCont;s:2;c") == "");
    REQUIRE(h.target.resumes.at(0).size() == 2);
    CHECK(h.target.resumes[0][0].kind == ResumeKind::step);
    CHECK(h.target.resumes[0][0].thread == 2u);
    CHECK(h.target.resumes[0][1].kind == ResumeKind::cont);
    CHECK_FALSE(h.target.resumes[0][1].thread);
    h.stop({.thread = 2, .reason = StopReason::step});

    // Legacy 's' steps the current thread (2 after the stop) and nothing else.
    CHECK(h.packet("s") == "");
    REQUIRE(h.target.resumes.at(1).size() == 1);
    CHECK(h.target.resumes[1][0].kind == ResumeKind::step);
    CHECK(h.target.resumes[1][0].thread == 2u);
    h.stop({.thread = 2});

    // Hc names the thread legacy 's' steps.
    CHECK(h.packet("Hc1") == frame("OK"));
    h.packet("S0b");
    CHECK(h.target.resumes.at(2)[0].thread == 1u);
    CHECK(h.target.resumes.at(2)[0].signal == 0x0b);
    h.stop({.thread = 1});

    // vCont signals and process-qualified thread ids.
    h.packet("vCont;C02:p1.2;t:p1.1");
    CHECK(h.target.resumes.at(3)[0].signal == 2);
    CHECK(h.target.resumes.at(3)[0].thread == 2u);
    CHECK(h.target.resumes.at(3)[1].kind == ResumeKind::stop);
}

TEST_CASE("resume at an address writes the pc first") {
    Harness h;
    h.no_acks();
    h.packet("c7c00");
    CHECK(h.target.register_value(1, 16) == 0x7c00);
    h.stop({});
    h.packet("S05;8000");
    CHECK(h.target.register_value(1, 16) == 0x8000);
    CHECK(h.target.resumes.at(1)[0].signal == 5);
}

TEST_CASE("resume errors come back at once and the target stays stopped") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("vCont;c:3") == frame("E02"));     // no thread 3
    CHECK(h.packet("vCont;c:p2.1") == frame("E02"));  // no process 2
    h.target.resume_error = Error{ErrorKind::target, 16, "busy"};
    CHECK(h.packet("c") == frame("E10"));
    CHECK(h.packet("qC") == frame("QC01"));  // still answering: not running
    CHECK(h.target.resumes.empty());
}

TEST_CASE("Ctrl-C while running interrupts; the SIGINT stop is the reply") {
    Harness h;
    h.no_acks();
    CHECK(h.client("\x03") == "");  // stopped: nothing to interrupt
    CHECK(h.target.interrupts == 0);
    h.packet("vCont;c");
    CHECK(h.client("\x03") == "");
    CHECK(h.target.interrupts == 1);
    CHECK(h.stop({.signal = 2, .reason = StopReason::interrupt}) ==
          frame("T02thread:01;" + std::string(kExpedited)));
}

TEST_CASE("0x03 in the same read as the resume packet") {
    Harness h;
    h.no_acks();
    CHECK(h.client("$vCont;c#a8\x03") == "");
    CHECK(h.target.interrupts == 1);
}

TEST_CASE("packets while running are ignored, not answered") {
    Harness h;
    h.no_acks();
    h.packet("c");
    CHECK(h.packet("g") == "");
    CHECK(h.packet("?") == "");
    CHECK(h.packet("not a packet") == "");
    CHECK(h.stop({}) == t05("01"));
    CHECK(h.packet("qC") == frame("QC01"));
}

TEST_CASE("a stop nobody waits for is remembered, not sent") {
    Harness h;
    h.no_acks();
    CHECK(h.stop({.thread = 2, .signal = 2}) == "");
    CHECK(h.packet("?") == frame("T02thread:02;" + std::string(kExpedited)));
}

TEST_CASE("D detaches, replies OK and finishes") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("D") == frame("OK"));
    CHECK(h.target.detaches == 1);
    CHECK(h.session.finished());
    CHECK_FALSE(h.session.target_ended());
    CHECK(h.packet("g") == "");  // nothing more is read
    h.session.on_disconnect();
    CHECK(h.target.detaches == 1);
}

TEST_CASE("D;pid detaches whatever the pid") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("D;a410") == frame("OK"));
    CHECK(h.target.detaches == 1);
    CHECK(h.session.finished());
}

TEST_CASE("k kills without a reply and ends the target") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("k") == "");
    CHECK(h.target.kills == 1);
    CHECK(h.session.finished());
    CHECK(h.session.target_ended());
    h.session.on_disconnect();
    CHECK(h.target.detaches == 0);
}

TEST_CASE("k works even while the target runs") {
    Harness h;
    h.no_acks();
    h.packet("c");
    CHECK(h.packet("k") == "");
    CHECK(h.target.kills == 1);
    CHECK(h.session.target_ended());
}

TEST_CASE("vKill replies OK, then the same as k") {
    // gdb 13 without multiprocess sends its made-up pid 42000.
    Harness h;
    h.no_acks();
    CHECK(h.packet("vKill;a410") == frame("OK"));
    CHECK(h.target.kills == 1);
    CHECK(h.session.finished());
    CHECK(h.session.target_ended());
}

TEST_CASE("the guest exits: W with the low byte of the exit code") {
    Harness h;
    h.no_acks();
    h.packet("c");
    CHECK(h.stop({.kind = StopEvent::Kind::exited, .exit_code = 0x12a}) == "$W2a#ea");
    CHECK(h.session.target_ended());
    CHECK(h.session.finished());
    h.session.on_disconnect();
    CHECK(h.target.detaches == 0);
}

TEST_CASE("the machine is killed: X09") {
    Harness h;
    h.no_acks();
    h.packet("vCont;c");
    CHECK(h.stop({.kind = StopEvent::Kind::killed}) == "$X09#c1");
    CHECK(h.session.target_ended());
}

TEST_CASE("an exit while stopped is remembered for '?'") {
    Harness h;
    h.no_acks();
    CHECK(h.stop({.kind = StopEvent::Kind::exited, .exit_code = 0}) == "");
    CHECK(h.session.target_ended());
    CHECK(h.packet("?") == "$W00#b7");
}

TEST_CASE("a dropped connection detaches once") {
    Harness h;
    h.no_acks();
    h.session.on_disconnect();
    h.session.on_disconnect();
    CHECK(h.target.detaches == 1);
    CHECK(h.session.finished());
}

TEST_CASE("a stop notice goes out as O packets ahead of the stop reply") {
    Harness h;
    h.no_acks();
    h.target.notice = "mode\n";
    h.packet("c");
    CHECK(h.stop({.thread = 1, .reason = StopReason::sw_break}) ==
          frame("O6d6f64650a") + t05("01", "swbreak:;"));
    h.target.notice.clear();
    h.packet("c");
    CHECK(h.stop({.thread = 1, .reason = StopReason::sw_break}) == t05("01", "swbreak:;"));
}
