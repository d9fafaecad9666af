// Session in non-stop mode: QNonStop, OK to resumes, %Stop notifications and the vStopped
// sequence, '?' as a report of every stopped thread, vCont;t, vCtrlC, and what may be read
// while threads run.  Exact wire bytes.
#include <doctest/doctest.h>

#include "session_harness.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

namespace {

// A stop reply of the fake's threads, whose expedited registers all hold the same values.
std::string stop_reply(std::string_view signal, std::string_view thread,
                       std::string_view tail = "") {
    return "T" + std::string(signal) + "thread:" + std::string(thread) + ";" +
           std::string(kExpedited) + std::string(tail);
}

std::string stop_notification(std::string_view signal, std::string_view thread,
                              std::string_view tail = "") {
    return notification("Stop:" + stop_reply(signal, thread, tail));
}

}  // namespace

TEST_CASE("qSupported announces QNonStop+ only for a target with non-stop mode") {
    Harness h;
    h.target.non_stop_supported = true;
    CHECK(h.client("$qSupported:swbreak+;hwbreak+#d5") ==
          "+$PacketSize=10* ;QStartNoAckMode+;qXfer:features:read+;swbreak+;"
          "hwbreak+;vContSupported+;QNonStop+#29");
}

TEST_CASE("QNonStop:1 and QNonStop:0 switch the target's mode") {
    Harness h;
    h.target.non_stop_supported = true;
    h.no_acks();
    CHECK(h.packet("QNonStop:1") == "$OK#9a");
    CHECK(h.target.non_stop);
    CHECK(h.packet("QNonStop:1") == "$OK#9a");  // again: no change
    CHECK(h.packet("QNonStop:0") == "$OK#9a");
    CHECK_FALSE(h.target.non_stop);
    // gdb in all-stop mode sends QNonStop:0 to every stub that announced QNonStop+.
    CHECK(h.packet("QNonStop:0") == "$OK#9a");
}

TEST_CASE("a target without non-stop mode: empty reply, and all-stop goes on") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("QNonStop:1") == "$#00");
    CHECK(h.packet("QNonStop:0") == "$OK#9a");
    CHECK(h.packet("vCont;c") == "");  // all-stop: the reply is the stop
    CHECK(h.stop({.thread = 2}) == frame(stop_reply("05", "02")));
}

TEST_CASE("a target that refuses: its error") {
    Harness h;
    h.target.non_stop_supported = true;
    h.target.non_stop_error = Error{ErrorKind::target, 16, "busy"};
    h.no_acks();
    CHECK(h.packet("QNonStop:1") == "$E10#a6");
    CHECK_FALSE(h.target.non_stop);
}

TEST_CASE("malformed non-stop packets") {
    Harness h;
    h.non_stop();
    CHECK(h.packet("QNonStop:2") == "$E01#a6");
    CHECK(h.packet("QNonStop:") == "$E01#a6");
    CHECK(h.packet("vStopped;junk") == "$E01#a6");
    CHECK(h.packet("vCtrlC;1") == "$E01#a6");
    CHECK(h.packet("vStoppedjunk") == "$#00");  // another packet, unknown
    CHECK(h.target.non_stop);                   // the mode did not change
}

TEST_CASE("vCont;c:2 -> OK at once; the stop is a %Stop notification") {
    Harness h;
    h.non_stop();
    h.target.notice = "mode\n";  // console text has no place in non-stop mode
    CHECK(h.packet("vCont;c:2") == "$OK#9a");
    REQUIRE(h.target.resumes.size() == 1);
    REQUIRE(h.target.resumes[0].size() == 1);
    CHECK(h.target.resumes[0][0].kind == ResumeKind::cont);
    CHECK(h.target.resumes[0][0].thread == 2u);
    CHECK(h.target.thread_running(2));
    CHECK_FALSE(h.target.thread_running(1));

    // Thread 1 stays stopped and answers while thread 2 runs.
    CHECK(h.packet("qC") == "$QC01#f5");

    CHECK(h.stop({.thread = 2, .reason = StopReason::sw_break}) ==
          "%Stop:T05thread:02;06:f87f0*(;07:f07f0*(;10:0010*);swbreak:;#5f");
    CHECK(h.log.back() ==
          std::pair<char, std::string>{'%', "Stop:" + stop_reply("05", "02", "swbreak:;")});
    CHECK(h.packet("vStopped") == "$OK#9a");
    // In non-stop mode gdb picks the current thread itself (Hg): a stop does not change it.
    CHECK(h.packet("qC") == "$QC01#f5");
    CHECK(h.target.selected.empty());
}

TEST_CASE("stops queue behind an unacknowledged one; vStopped sends them, then OK") {
    Harness h({}, {1, 2, 3});
    h.non_stop();
    CHECK(h.packet("vCont;c") == "$OK#9a");
    // The default action becomes one action per thread, each naming it.
    REQUIRE(h.target.resumes.size() == 1);
    REQUIRE(h.target.resumes[0].size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(h.target.resumes[0][i].kind == ResumeKind::cont);
        CHECK(h.target.resumes[0][i].thread == ThreadId(i + 1));
    }

    CHECK(h.stop({.thread = 3, .reason = StopReason::sw_break}) ==
          stop_notification("05", "03", "swbreak:;"));
    CHECK(h.stop({.thread = 1, .reason = StopReason::hw_break}) == "");  // waits
    CHECK(h.packet("m1000,2") == "$0001#c1");  // other packets are answered meanwhile
    CHECK(h.stop({.thread = 2, .signal = 0x0b, .reason = StopReason::fault}) == "");
    CHECK(h.packet("vStopped") == frame(stop_reply("05", "01", "hwbreak:;")));
    CHECK(h.packet("vStopped") == frame(stop_reply("0b", "02")));
    CHECK(h.packet("vStopped") == "$OK#9a");
    CHECK(h.packet("vStopped") == "$OK#9a");  // nothing left: OK again

    // The report is over: the next stop is a notification again.
    CHECK(h.packet("vCont;c:1") == "$OK#9a");
    CHECK(h.stop({.thread = 1, .reason = StopReason::step}) == stop_notification("05", "01"));
}

TEST_CASE("'?' in non-stop mode reports every stopped thread") {
    Harness h;
    h.non_stop();

    SUBCASE("two stopped: the initial stop is the reply, the other a notification after it") {
        // gdb 13 takes one stopped thread from '?' at connect: the other stop follows the OK
        // that ends the report, with no signal, as a new notification.
        CHECK(h.packet("?") == frame(stop_reply("05", "01")));
        CHECK(h.packet("vStopped") == "$OK#9a" + stop_notification("00", "02"));
        CHECK(h.packet("vStopped") == "$OK#9a");
        CHECK(h.packet("vStopped") == "$OK#9a");
    }
    SUBCASE("the thread of the latest stop is the reply") {
        h.packet("vCont;c:2");
        CHECK(h.stop({.thread = 2, .signal = 0x0b, .reason = StopReason::fault}) ==
              stop_notification("0b", "02"));
        CHECK(h.packet("?") == frame(stop_reply("0b", "02")));
        CHECK(h.packet("vStopped") == "$OK#9a" + stop_notification("05", "01"));
        CHECK(h.packet("vStopped") == "$OK#9a");
    }
    SUBCASE("one stopped: its last stop, reported before or not") {
        h.packet("vCont;c");
        CHECK(h.stop({.thread = 2, .reason = StopReason::sw_break}) ==
              stop_notification("05", "02", "swbreak:;"));
        CHECK(h.packet("vStopped") == "$OK#9a");
        CHECK(h.packet("?") == frame(stop_reply("05", "02", "swbreak:;")));
        CHECK(h.packet("vStopped") == "$OK#9a");
    }
    SUBCASE("none stopped: OK") {
        h.packet("vCont;c");
        CHECK(h.packet("?") == "$OK#9a");
        CHECK(h.packet("vStopped") == "$OK#9a");
        // No report is open, so a stop is a notification at once.
        CHECK(h.stop({.thread = 1, .signal = 2, .reason = StopReason::interrupt}) ==
              stop_notification("02", "01"));
    }
    SUBCASE("a report in progress is abandoned and starts again") {
        h.packet("vCont;c");
        CHECK(h.stop({.thread = 1}) == stop_notification("05", "01"));
        CHECK(h.stop({.thread = 2, .signal = 2}) == "");
        CHECK(h.packet("?") == frame(stop_reply("02", "02")));
        CHECK(h.packet("vStopped") == "$OK#9a" + stop_notification("05", "01"));
        CHECK(h.packet("vStopped") == "$OK#9a");
    }
    SUBCASE("stops during the report wait for its end, and count as running for vCont") {
        h.packet("vCont;c:2");
        CHECK(h.packet("?") == frame(stop_reply("05", "01")));
        CHECK(h.stop({.thread = 2}) == "");
        CHECK(h.packet("vCont;c:2") == "$OK#9a");
        CHECK(h.target.resumes.size() == 1);  // thread 2's stop is not reported yet
        CHECK(h.packet("vStopped") == "$OK#9a" + stop_notification("05", "02"));
        CHECK(h.packet("vStopped") == "$OK#9a");
    }
    SUBCASE("QNonStop:0 drops what the report held") {
        CHECK(h.packet("?") == frame(stop_reply("05", "01")));
        CHECK(h.packet("QNonStop:0") == "$OK#9a");
        CHECK(h.packet("vStopped") == "$OK#9a");
    }
}

TEST_CASE("vCont;t:1 stops thread 1, which reports signal 0; t for a stopped thread is ignored") {
    Harness h;
    h.non_stop();
    h.packet("vCont;c");
    CHECK(h.packet("vCont;t:1") == "$OK#9a");
    REQUIRE(h.target.resumes.size() == 2);
    REQUIRE(h.target.resumes[1].size() == 1);
    CHECK(h.target.resumes[1][0].kind == ResumeKind::stop);
    CHECK(h.target.resumes[1][0].thread == 1u);
    CHECK(h.stop({.thread = 1, .signal = 0}) ==
          "%Stop:T00thread:01;06:f87f0*(;07:f07f0*(;10:0010*);#f5");
    CHECK(h.packet("vStopped") == "$OK#9a");

    // Thread 1 is stopped now: a second t asks nothing of the target.
    CHECK(h.packet("vCont;t:1") == "$OK#9a");
    CHECK(h.target.resumes.size() == 2);
    // vCont;t stops every running thread: only thread 2 runs.
    CHECK(h.packet("vCont;t") == "$OK#9a");
    REQUIRE(h.target.resumes.size() == 3);
    REQUIRE(h.target.resumes[2].size() == 1);
    CHECK(h.target.resumes[2][0].thread == 2u);
}

TEST_CASE("c and s are ignored for threads that run or whose stop is unacknowledged") {
    Harness h;
    h.non_stop();
    h.packet("vCont;c:1");
    CHECK(h.packet("vCont;s:1;c") == "$OK#9a");  // thread 1 runs: only thread 2 continues
    REQUIRE(h.target.resumes.size() == 2);
    REQUIRE(h.target.resumes[1].size() == 1);
    CHECK(h.target.resumes[1][0].kind == ResumeKind::cont);
    CHECK(h.target.resumes[1][0].thread == 2u);

    CHECK(h.stop({.thread = 2}) == stop_notification("05", "02"));
    // gdb has not acknowledged thread 2's stop: for vCont it still runs.
    CHECK(h.packet("vCont;c") == "$OK#9a");
    CHECK(h.target.resumes.size() == 2);
    CHECK(h.packet("vStopped") == "$OK#9a");
    CHECK(h.packet("vCont;s:2") == "$OK#9a");
    REQUIRE(h.target.resumes.size() == 3);
    CHECK(h.target.resumes[2][0].kind == ResumeKind::step);
    CHECK(h.target.resumes[2][0].thread == 2u);

    // The legacy packets reply OK too.
    h.stop({.thread = 2, .reason = StopReason::step});
    h.packet("vStopped");
    CHECK(h.packet("Hg2") == "$OK#9a");
    CHECK(h.packet("s") == "$OK#9a");
    CHECK(h.target.resumes.at(3).at(0).thread == 2u);
    CHECK(h.packet("vCont;c:3") == "$E02#a7");  // no thread 3
}

TEST_CASE("vCtrlC and 0x03 interrupt what runs; OK for vCtrlC") {
    Harness h;
    h.non_stop();
    CHECK(h.packet("vCtrlC") == "$OK#9a");  // nothing runs: nothing to interrupt
    CHECK(h.target.interrupts == 0);
    h.packet("vCont;c:2");
    CHECK(h.packet("vCtrlC") == "$OK#9a");
    CHECK(h.target.interrupts == 1);
    CHECK(h.client("\x03") == "");
    CHECK(h.target.interrupts == 2);
    CHECK(h.stop({.thread = 2, .signal = 2, .reason = StopReason::interrupt}) ==
          stop_notification("02", "02"));

    // All-stop: vCtrlC while stopped interrupts nothing.
    CHECK(h.packet("QNonStop:0") == "$OK#9a");
    CHECK(h.packet("vCtrlC") == "$OK#9a");
    CHECK(h.target.interrupts == 2);
}

TEST_CASE("registers of a running thread: error; memory and breakpoints: allowed") {
    Harness h;
    h.non_stop();
    h.packet("vCont;c:2");
    CHECK(h.packet("Hg2") == "$OK#9a");
    CHECK(h.packet("g") == "$E10#a6");
    CHECK(h.packet("p10") == "$E10#a6");
    CHECK(h.packet("P10=0000000000000000") == "$E10#a6");
    std::size_t bytes = 0;
    for (std::size_t regno = 0; regno < h.target.arch().registers.size(); ++regno)
        bytes += h.target.arch().register_bytes(regno);
    CHECK(h.packet("G" + std::string(bytes * 2, '0')) == "$E10#a6");
    CHECK(h.target.register_value(2, 16) == FakeTarget::kRip);  // nothing written

    CHECK(h.packet("m1000,4") == "$00010203#86");
    CHECK(h.packet("M1000,1:ff") == "$OK#9a");
    CHECK(h.packet("Z0,1000,1") == "$OK#9a");
    CHECK(h.target.breakpoints.size() == 1);

    // Thread 1 is stopped: its registers can be read.
    CHECK(h.packet("Hg1") == "$OK#9a");
    CHECK(h.packet("p10") == "$0010*)#14");
    CHECK(h.target.selected == std::vector<ThreadId>{2, 1});
}

TEST_CASE("qThreadExtraInfo of a running thread: the text from its last stop") {
    Harness h({}, {1, 2, 3});
    h.non_stop();
    CHECK(h.packet("qThreadExtraInfo,1") == "$637075#3c");  // "cpu", from the target
    h.packet("vCont;c");
    CHECK(h.target.descriptions_asked == 1);
    CHECK(h.packet("qThreadExtraInfo,1") == "$637075#3c");  // kept: the target is not asked
    CHECK(h.target.descriptions_asked == 1);
    // Never described while stopped: a fixed word, as an empty reply would make gdb give up
    // qThreadExtraInfo.
    CHECK(h.packet("qThreadExtraInfo,3") == "$72756e6e696e67#82");  // "running"
}

TEST_CASE("W is a notification too; the session ends with the OK to its vStopped") {
    Harness h;
    h.non_stop();
    h.packet("vCont;c");
    CHECK(h.stop({.thread = 1}) == stop_notification("05", "01"));
    CHECK(h.stop({.kind = StopEvent::Kind::exited, .exit_code = 0}) == "");
    CHECK(h.packet("vStopped") == "$W00#b7");
    CHECK_FALSE(h.session.target_ended());  // gdb has not acknowledged it yet
    CHECK_FALSE(h.session.finished());
    CHECK(h.packet("vStopped") == "$OK#9a");
    CHECK(h.session.target_ended());
    CHECK(h.session.finished());
    h.session.on_disconnect();
    CHECK(h.target.detaches == 0);
}

TEST_CASE("X as a notification; a dropped connection does not detach an ended target") {
    Harness h;
    h.non_stop();
    h.packet("vCont;c");
    CHECK(h.stop({.kind = StopEvent::Kind::killed}) == "%Stop:X09#a1");
    CHECK(h.packet("?") == "$X09#c1");
    h.session.on_disconnect();
    CHECK(h.target.detaches == 0);
}

TEST_CASE("QNonStop:0 returns to all-stop: a resume waits for its stop reply again") {
    Harness h;
    h.non_stop();
    h.packet("vCont;c:2");
    CHECK(h.stop({.thread = 2}) == stop_notification("05", "02"));
    CHECK(h.packet("QNonStop:0") == "$OK#9a");  // the unacknowledged report is dropped
    CHECK(h.packet("vStopped") == "$OK#9a");
    CHECK(h.packet("vCont;c") == "");
    CHECK(h.stop({.thread = 1}) == frame(stop_reply("05", "01")));
    // All-stop: the stop makes its thread current, on the target too.
    CHECK(h.target.selected == std::vector<ThreadId>{1});
    CHECK(h.packet("?") == frame(stop_reply("05", "01")));
}

TEST_CASE("D in non-stop mode detaches while threads run") {
    Harness h;
    h.non_stop();
    h.packet("vCont;c:1");
    CHECK(h.packet("D") == "$OK#9a");
    CHECK(h.target.detaches == 1);
    CHECK(h.session.finished());
    CHECK(h.stop({.thread = 1}) == "");  // nobody is told any more
}

TEST_CASE("a thread whose stop is still on its way to the session is not resumed again") {
    // The target marks a vCPU stopped before its stop event reaches the session's thread; a
    // vCont;c in between must not resume it, or the stop that follows would be stale.
    Harness h;
    h.non_stop();
    h.packet("vCont;c:2");
    REQUIRE(h.target.resumes.size() == 1);
    h.target.running.erase(2);  // stopped in the target, event not delivered yet
    CHECK(h.packet("vCont;c") == "$OK#9a");
    for (std::size_t i = 1; i < h.target.resumes.size(); ++i)
        for (const auto& action : h.target.resumes[i]) CHECK(action.thread != ThreadId{2});
    CHECK(h.packet("Hg2") == "$OK#9a");
    CHECK(h.packet("g") == "$E10#a6");  // still running for gdb
    h.stop({.thread = 2, .signal = 5, .reason = StopReason::sw_break});
    CHECK(h.packet("vStopped") == "$OK#9a");
    CHECK(h.packet("vCont;c:2") == "$OK#9a");
    CHECK(h.target.resumes.back().front().thread == ThreadId{2});
}
