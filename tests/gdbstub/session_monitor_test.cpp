// Session: monitor commands (qRcmd), their console output, and the attach notification.
#include <doctest/doctest.h>

#include "session_harness.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

TEST_CASE("the target hears of each new session once") {
    Harness h;
    CHECK(h.target.attaches == 1);
}

TEST_CASE("qRcmd: output as O packets, then OK") {
    Harness h;
    h.no_acks();
    h.target.monitor_reply = std::string("ok\n");
    CHECK(h.packet("qRcmd,68656c70") == frame("O6f6b0a") + frame("OK"));
    REQUIRE(h.target.monitor_commands.size() == 1);
    CHECK(h.target.monitor_commands[0] == "help");
    // No output: just OK.
    h.target.monitor_reply = std::string();
    CHECK(h.packet("qRcmd,") == frame("OK"));
    CHECK(h.target.monitor_commands.back().empty());
}

TEST_CASE("qRcmd: long output is split into small O packets, in order") {
    Harness h;
    h.no_acks();
    std::string text(1300, 'a');
    text[0] = 'b';
    text.back() = 'c';
    h.target.monitor_reply = text;
    std::string reply = h.packet("qRcmd,78");
    // Three packets: 512, 512 and 276 characters of text, each "O" + hex.
    std::string hex_a = "61", hex_b = "62", hex_c = "63";
    std::string first = "O" + hex_b;
    for (int i = 1; i < 512; ++i) first += hex_a;
    std::string second = "O";
    for (int i = 0; i < 512; ++i) second += hex_a;
    std::string third = "O";
    for (int i = 0; i < 275; ++i) third += hex_a;
    third += hex_c;
    CHECK(reply == frame(first) + frame(second) + frame(third) + frame("OK"));
}

TEST_CASE("qRcmd: a target without monitor commands gets the empty reply") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("qRcmd,68656c70") == frame(""));
}

TEST_CASE("qRcmd: a failed command shows why, then an error reply") {
    Harness h;
    h.no_acks();
    h.target.monitor_reply = Result<std::string>(make_error(ErrorKind::invalid, "no such thing"));
    // "no such thing\n" in hex, then E02 (a target failure without an errno).
    CHECK(h.packet("qRcmd,78") == frame("O6e6f2073756368207468696e670a") + frame("E02"));
}

TEST_CASE("qRcmd: malformed hex is a protocol error and nothing runs") {
    Harness h;
    h.no_acks();
    h.target.monitor_reply = std::string("ok\n");
    CHECK(h.packet("qRcmd,6") == frame("E01"));
    CHECK(h.target.monitor_commands.empty());
}

TEST_CASE("qRcmd: a command that ends the target replies, then the session ends as after vKill") {
    Harness h;
    h.no_acks();
    h.target.monitor_reply = std::string("bye\n");
    h.target.monitor_ends_target = true;
    // "quit": the text, OK, and nothing more is read.
    CHECK(h.packet("qRcmd,71756974") == frame("O6279650a") + frame("OK"));
    CHECK(h.target.kills == 1);
    CHECK(h.target.detaches == 0);
    CHECK(h.session.finished());
    CHECK(h.session.target_ended());
    CHECK(h.packet("?").empty());
    // A disconnect now detaches nothing.
    h.session.on_disconnect();
    CHECK(h.target.detaches == 0);
}

TEST_CASE("qRcmd: only a command that succeeds ends the session") {
    Harness h;
    h.no_acks();
    h.target.monitor_reply = Result<std::string>(make_error(ErrorKind::invalid, "no"));
    h.target.monitor_ends_target = true;
    CHECK(h.packet("qRcmd,71756974") == frame("O6e6f0a") + frame("E02"));
    CHECK(h.target.kills == 0);
    CHECK_FALSE(h.session.finished());
}
