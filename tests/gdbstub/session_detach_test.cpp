// Session: what the target is told when the debugger leaves (D, a dropped connection) under
// each --on-detach choice, and what a session that starts on another debugger's stop reports.
#include <doctest/doctest.h>

#include "session_harness.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

namespace {
SessionOptions detaching(AfterDetach after) {
    SessionOptions options;
    options.after_detach = after;
    return options;
}
}  // namespace

TEST_CASE("D passes the --on-detach choice to the target, replies OK and finishes") {
    for (AfterDetach after : {AfterDetach::run, AfterDetach::stop}) {
        CAPTURE(static_cast<int>(after));
        FakeTarget target;
        Session session(target, detaching(after));
        std::string out;
        session.receive(frame("D"), out);
        CHECK(out == "+" + frame("OK"));
        CHECK(target.detaches == 1);
        CHECK(target.detached_to == after);
        CHECK(session.finished());
        CHECK_FALSE(session.target_ended());
        // The fake's threads run on after run and stay stopped after stop.
        CHECK(session.runs_after_detach() == (after == AfterDetach::run));
        session.on_disconnect();  // the connection then closes: no second detach
        CHECK(target.detaches == 1);
    }
}

TEST_CASE("a dropped connection detaches with the --on-detach choice, while running too") {
    FakeTarget target;
    Session session(target, detaching(AfterDetach::stop));
    std::string out;
    session.receive("+" + frame("vCont;c"), out);
    REQUIRE(target.resumes.size() == 1);
    // Half a packet, then the client is gone.
    session.receive("$m1000,", out);
    session.on_disconnect();
    CHECK(target.detaches == 1);
    CHECK(target.detached_to == AfterDetach::stop);
    CHECK(session.finished());
    CHECK_FALSE(session.runs_after_detach());
    // The stop the detach asked for reaches a session nobody listens to: nothing is sent.
    out.clear();
    session.on_stop({.thread = 1, .signal = 2, .reason = StopReason::interrupt}, out);
    CHECK(out == "");
}

TEST_CASE("D in non-stop mode while threads run, with --on-detach stop") {
    FakeTarget target;
    target.non_stop_supported = true;
    Session session(target, detaching(AfterDetach::stop));
    std::string out;
    session.receive(frame("QNonStop:1"), out);
    session.receive("+" + frame("vCont;c:1"), out);
    CHECK(out == "+" + frame("OK") + "+" + frame("OK"));
    CHECK(target.thread_running(1));
    out.clear();
    session.receive("+" + frame("D"), out);
    CHECK(out == "+" + frame("OK"));
    CHECK(target.detaches == 1);
    CHECK(target.detached_to == AfterDetach::stop);
    CHECK(session.finished());
}

TEST_CASE("a session started on another debugger's stop reports its signal, not its reason") {
    struct Inherited {
        StopEvent stop;
        std::string_view reply;  // '?' answers this, then the expedited registers
    };
    const Inherited cases[] = {
        // The debugger before had hit a breakpoint, a watchpoint, a step: those are gone.
        {{.thread = 2, .signal = 5, .reason = StopReason::sw_break}, "T05thread:02;"},
        {{.thread = 1, .signal = 5, .reason = StopReason::watch, .data_address = 0x1234},
         "T05thread:01;"},
        {{.thread = 1, .signal = 5, .reason = StopReason::step}, "T05thread:01;"},
        {{.thread = 2, .signal = 5, .reason = StopReason::hw_break}, "T05thread:02;"},
        // What is the machine's own stays: the attach's SIGINT, a fault's SIGSEGV.
        {{.thread = 1, .signal = 2, .reason = StopReason::interrupt}, "T02thread:01;"},
        {{.thread = 2, .signal = 11, .reason = StopReason::fault}, "T0bthread:02;"},
    };
    for (const Inherited& c : cases) {
        CAPTURE(c.reply);
        Harness h(c.stop);
        h.no_acks();
        CHECK(h.packet("?") == frame(std::string(c.reply) + std::string(kExpedited)));
    }
    // A stop during the session keeps its reason.
    Harness h({.thread = 2, .signal = 5, .reason = StopReason::sw_break});
    h.no_acks();
    h.packet("vCont;c");
    CHECK(h.stop({.thread = 1, .reason = StopReason::sw_break}) ==
          frame("T05thread:01;" + std::string(kExpedited) + "swbreak:;"));
}
