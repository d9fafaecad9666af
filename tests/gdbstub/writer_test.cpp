// protocol/writer: each Response kind as payload text, and framing.
#include "gdbstub/protocol/writer.hpp"

#include <doctest/doctest.h>

using namespace hvgdb::gdbstub::protocol;

TEST_CASE("simple replies") {
    CHECK(encode_payload(NoReply{}) == "");
    CHECK(encode_payload(EmptyReply{}) == "");
    CHECK(encode_payload(OkReply{}) == "OK");
    CHECK(encode_payload(ErrorReply{0x0e}) == "E0e");
    CHECK(encode_payload(ErrorReply{0}) == "E00");
    CHECK(encode_payload(AttachedReply{true}) == "1");
    CHECK(encode_payload(AttachedReply{false}) == "0");
    CHECK(encode_payload(CurrentThreadReply{0x1a}) == "QC1a");
    CHECK(encode_payload(CurrentThreadReply{1}) == "QC01");
}

TEST_CASE("register and memory data") {
    RegistersReply regs{{{{0x01, 0x02}, true}, {{0, 0, 0}, false}, {{0xff}, true}}};
    CHECK(encode_payload(regs) == "0102xxxxxxff");
    CHECK(encode_payload(MemoryReply{{0xde, 0xad, 0xbe, 0xef}}) == "deadbeef");
}

TEST_CASE("stop replies") {
    StopReply stop;
    stop.signal = 5;
    stop.thread = 1;
    stop.registers = {{6, {0xf8, 0x7f, 0, 0, 0, 0, 0, 0}}, {0x10, {0x00, 0x10, 0, 0, 0, 0, 0, 0}}};
    stop.cause = StopCause::swbreak;
    CHECK(encode_payload(stop) == "T05thread:01;06:f87f000000000000;10:0010000000000000;swbreak:;");

    StopReply watch{.signal = 5,
                    .thread = 2,
                    .registers = {},
                    .cause = StopCause::watch,
                    .data_address = 0x7ffe0};
    CHECK(encode_payload(watch) == "T05thread:02;watch:7ffe0;");
    watch.cause = StopCause::rwatch;
    CHECK(encode_payload(watch) == "T05thread:02;rwatch:7ffe0;");
    watch.cause = StopCause::awatch;
    CHECK(encode_payload(watch) == "T05thread:02;awatch:7ffe0;");
    watch.cause = StopCause::hwbreak;
    CHECK(encode_payload(watch) == "T05thread:02;hwbreak:;");
    watch.cause = StopCause::none;
    watch.signal = 2;
    CHECK(encode_payload(watch) == "T02thread:02;");

    CHECK(encode_payload(ExitedReply{0}) == "W00");
    CHECK(encode_payload(ExitedReply{0x2a}) == "W2a");
    CHECK(encode_payload(TerminatedReply{9}) == "X09");
}

TEST_CASE("capability and thread lists") {
    SupportedReply supported{0x10000, {"QStartNoAckMode+", "swbreak+"}};
    CHECK(encode_payload(supported) == "PacketSize=10000;QStartNoAckMode+;swbreak+");
    CHECK(encode_payload(VContActionsReply{"cCsSt"}) == "vCont;c;C;s;S;t");
    CHECK(encode_payload(ThreadListReply{{1, 2, 0x10}}) == "m01,02,10");
    CHECK(encode_payload(ThreadListReply{}) == "l");
}

TEST_CASE("qXfer chunks") {
    CHECK(encode_payload(XferReply{true, "<target>"}) == "m<target>");
    CHECK(encode_payload(XferReply{false, ""}) == "l");
    CHECK(encode_payload(XferReply{false, "</target>\n"}) == "l</target>\n");
}

TEST_CASE("console output: O and the text in hex") {
    CHECK(encode_payload(ConsoleOutput{"hi\n"}) == "O68690a");
    CHECK(encode_payload(ConsoleOutput{std::string("#$\0", 3)}) == "O232400");
}

TEST_CASE("framing escapes exactly $ # } * and checksums the escaped text") {
    CHECK(needs_escape('$'));
    CHECK(needs_escape('#'));
    CHECK(needs_escape('}'));
    CHECK(needs_escape('*'));
    CHECK_FALSE(needs_escape('{'));
    CHECK_FALSE(needs_escape('\x03'));
    std::string out;
    append_frame(out, "OK");
    CHECK(out == "$OK#9a");
    out.clear();
    append_frame(out, std::string("$#}*\xff", 5));
    CHECK(out == std::string("$}\x04}\x03}]}\x0a\xff#", 11) + "61");
}

TEST_CASE("notifications: '%', the escaped payload, the checksum of the escaped bytes") {
    std::string out;
    append_notification_frame(out, "Stop:T05thread:02;");
    CHECK(out == "%Stop:T05thread:02;#e8");
    out.clear();
    append_notification_frame(out, "Stop:W00");
    CHECK(out == "%Stop:W00#97");
    out.clear();
    append_notification_frame(out, "a*");  // escaped like a packet: '*' is "}\x0a"
    CHECK(out ==
          "%a}\x0a"
          "#e8");
}

TEST_CASE("the stop notification payload: \"Stop:\" and the stop reply") {
    StopReply stop{.signal = 5, .thread = 2, .registers = {}, .cause = StopCause::swbreak};
    CHECK(encode_stop_notification(stop) == "Stop:T05thread:02;swbreak:;");
    StopReply quiet{.signal = 0, .thread = 1, .registers = {}};
    CHECK(encode_stop_notification(quiet) == "Stop:T00thread:01;");
    CHECK(encode_stop_notification(ExitedReply{0x17}) == "Stop:W17");
    CHECK(encode_stop_notification(TerminatedReply{9}) == "Stop:X09");
}
