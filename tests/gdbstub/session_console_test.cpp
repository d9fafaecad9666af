// Session: the guest's console output forwarded as O packets while the client waits for an
// all-stop stop reply, ahead of that reply, in packets as large as PacketSize allows; never
// while stopped, in non-stop mode, or after the client left.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "session_harness.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

namespace {

std::string forward(Harness& h, std::string_view text, bool expect_sent = true) {
    std::string out;
    CHECK(h.session.console_output(text, out) == expect_sent);
    return out;
}

std::string o_packet(std::string_view text) {
    std::string hex = "O";
    for (unsigned char c : text) hex += fmt::format("{:02x}", c);
    return frame(hex);
}

}  // namespace

TEST_CASE("console text while the guest runs: O packets, then the stop reply") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("vCont;c") == "");
    CHECK(forward(h, "hello\n") == frame("O68656c6c6f0a"));
    // Bytes that are special on the wire travel as hex like any other.
    CHECK(forward(h, "$#}*") == frame("O24237d2a"));
    CHECK(h.stop({.thread = 1, .reason = StopReason::sw_break}) ==
          frame("T05thread:01;06:f87f000000000000;07:f07f000000000000;10:0010000000000000;"
                "swbreak:;"));
    // Logged like every packet.
    REQUIRE(h.log.size() >= 3);
    CHECK(h.log[h.log.size() - 3] == std::pair<char, std::string>{'>', "O68656c6c6f0a"});
}

TEST_CASE("console text is not forwarded while stopped, in non-stop mode, or after detach") {
    Harness h;
    h.no_acks();
    CHECK(forward(h, "before the first resume\n", false) == "");
    h.packet("c");
    h.stop({.thread = 1, .reason = StopReason::step});
    CHECK(forward(h, "after the stop\n", false) == "");
    // A step waits for a stop reply like a continue.
    h.packet("vCont;s:1");
    CHECK(forward(h, "x") == frame("O78"));
    h.stop({.thread = 1, .reason = StopReason::step});
    h.packet("D");
    CHECK(forward(h, "after detach\n", false) == "");

    Harness n;
    n.non_stop();
    CHECK(n.packet("vCont;c") == frame("OK"));
    CHECK(forward(n, "non-stop\n", false) == "");
}

TEST_CASE("console text is split at PacketSize: 'O' and two hex digits per byte") {
    Harness h;
    h.no_acks();
    h.packet("c");
    // PacketSize is 0x10000: 0x7fff bytes of text make a payload of 0xffff characters.
    const std::string fits(0x7fff, 'a');
    std::string out = forward(h, fits);
    CHECK(out == o_packet(fits));
    CHECK(out.size() == 1 + 0xffff + 3);  // '$', payload, '#' and two checksum digits

    std::string one_more = fits + "b";
    CHECK(forward(h, one_more) == o_packet(fits) + o_packet("b"));
}
