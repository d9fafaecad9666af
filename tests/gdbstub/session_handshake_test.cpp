// Session: gdb 13's connect handshake replayed byte for byte, replies asserted exactly.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "gdbstub/arch/target_xml.hpp"
#include "session_harness.hpp"

using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

namespace {

// What 'g' must return for the fake: every register little-endian, register N holding N
// except rip, rsp and rbp.
std::string expected_g_hex() {
    const arch::Arch& arch = arch::x86_64();
    std::string hex;
    for (std::size_t regno = 0; regno < arch.registers.size(); ++regno) {
        std::uint64_t value = regno;
        if (regno == 16) value = FakeTarget::kRip;
        if (regno == 7) value = FakeTarget::kRsp;
        if (regno == 6) value = FakeTarget::kRbp;
        for (std::size_t i = 0; i < arch.register_bytes(regno); ++i) {
            hex += fmt::format("{:02x}", i < 8 ? (value >> (8 * i)) & 0xff : 0);
        }
    }
    return hex;
}

}  // namespace

TEST_CASE("gdb 13 connects: exact bytes for every reply") {
    Harness h;

    // gdb opens with an ack, then qSupported; acks still on.  Replies are run-length encoded
    // (gdb manual, "Overview"): "10* " is 10000, "0*(" twelve zeros.
    CHECK(h.client("+$qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;"
                   "vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;"
                   "memory-tagging+;xmlRegisters=i386#77") ==
          "+$PacketSize=10* ;QStartNoAckMode+;qXfer:features:read+;swbreak+;"
          "hwbreak+;vContSupported+#a1");
    CHECK(h.client("+$vMustReplyEmpty#3a") == "+$#00");

    // The QStartNoAckMode packet is acked and so is nothing after its OK.
    CHECK(h.client("+$QStartNoAckMode#b0") == "+$OK#9a");
    CHECK(h.client("+") == "");
    CHECK(h.client("$Hgp0.0#ad") == "$OK#9a");

    // target.xml in windows of 0xffb bytes: 'm' while more follows, 'l' for the last part.
    std::string xml = arch::target_xml(arch::x86_64());
    REQUIRE(xml.size() > 2 * 0xffb);
    CHECK(h.client("$qXfer:features:read:target.xml:0,ffb#79") ==
          frame("m" + xml.substr(0, 0xffb)));
    std::size_t offset = 0xffb;
    for (; offset + 0xffb < xml.size(); offset += 0xffb)
        CHECK(h.packet(fmt::format("qXfer:features:read:target.xml:{:x},ffb", offset)) ==
              frame("m" + xml.substr(offset, 0xffb)));
    CHECK(h.packet(fmt::format("qXfer:features:read:target.xml:{:x},ffb", offset)) ==
          frame("l" + xml.substr(offset)));

    CHECK(h.client("$qTStatus#49") == "$#00");
    CHECK(h.client("$?#3f") == "$T05thread:01;06:f87f0*(;07:f07f0*(;10:0010*);#1a");
    CHECK(h.client("$qfThreadInfo#bb") == "$m01,02#5c");
    CHECK(h.client("$qsThreadInfo#c8") == "$l#6c");
    CHECK(h.client("$qAttached:1#fa") == "$1#31");
    CHECK(h.client("$Hc-1#09") == "$OK#9a");
    CHECK(h.client("$qC#b4") == "$QC01#f5");
    CHECK(h.client("$qOffsets#4b") == "$#00");
    CHECK(h.client("$g#67") == frame(expected_g_hex()));
    CHECK(h.client("$m1000,4#8e") == "$00010203#86");

    CHECK(h.target.resumes.empty());
    CHECK_FALSE(h.session.finished());
}

TEST_CASE("packets are logged in both directions, unescaped") {
    Harness h;
    h.client("+$qC#b4");
    h.client("$vMustReplyEmpty#3a");
    REQUIRE(h.log.size() == 4);
    CHECK(h.log[0] == std::pair<char, std::string>{'<', "qC"});
    CHECK(h.log[1] == std::pair<char, std::string>{'>', "QC01"});
    CHECK(h.log[2] == std::pair<char, std::string>{'<', "vMustReplyEmpty"});
    CHECK(h.log[3] == std::pair<char, std::string>{'>', ""});
}

TEST_CASE("acks in ack mode: NAK on a bad checksum, retransmit on '-'") {
    Harness h;
    CHECK(h.client("$qC#00") == "-");
    CHECK(h.client("$qC#b4") == "+$QC01#f5");
    CHECK(h.client("-") == "$QC01#f5");
    CHECK(h.client("+") == "");
}

TEST_CASE("a client without swbreak+ gets no swbreak key, and plain qSupported works") {
    Harness h;
    CHECK(h.client("$qSupported#37") ==
          "+$PacketSize=10* ;QStartNoAckMode+;qXfer:features:read+;swbreak+;"
          "hwbreak+;vContSupported+#a1");
    h.client("$vCont;c#a8");
    StopEvent stop{.thread = 2, .reason = StopReason::sw_break};
    CHECK(h.stop(stop) ==
          frame("T05thread:02;06:f87f000000000000;07:f07f000000000000;10:0010000000000000;"));
}

TEST_CASE("the initial stop is configurable") {
    Harness h(StopEvent{.thread = 2, .signal = 0x0b});
    h.no_acks();
    CHECK(h.packet("?") ==
          frame("T0bthread:02;06:f87f000000000000;07:f07f000000000000;10:0010000000000000;"));
    CHECK(h.packet("qC") == frame("QC02"));
}
