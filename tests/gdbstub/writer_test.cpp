// protocol/writer: each Response kind as payload text, and framing.
#include "gdbstub/protocol/writer.hpp"

#include <doctest/doctest.h>

#include "wire.hpp"

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
    RegistersReply regs{{0x01, 0x02, 0, 0, 0, 0xff}, {{2, 3}}};
    CHECK(encode_payload(regs) == "0102xxxxxxff");
    regs.unavailable = {{0, 1}, {5, 1}};  // first and last
    CHECK(encode_payload(regs) == "xx02000000xx");
    regs.unavailable = {};
    CHECK(encode_payload(regs) == "0102000000ff");
    regs.unavailable = {{4, 9}};  // past the end: as far as the bytes go
    CHECK(encode_payload(regs) == "01020000xxxx");
    CHECK(encode_payload(MemoryReply{{0xde, 0xad, 0xbe, 0xef}}) == "deadbeef");
}

TEST_CASE("qMemoryRegionInfo replies: permissions only for memory") {
    CHECK(encode_payload(MemoryRegionInfoReply{0xe0000, 0x20000, "rx"}) ==
          "start:e0000;size:20000;permissions:rx;");
    CHECK(encode_payload(MemoryRegionInfoReply{0, 0x100000000000000, "rwx"}) ==
          "start:0;size:100000000000000;permissions:rwx;");
    CHECK(encode_payload(MemoryRegionInfoReply{0x100000000000000, 0xfe00000000000000, ""}) ==
          "start:100000000000000;size:fe00000000000000;");
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

    StopReply wide{.signal = 0x11, .thread = 0x1a3, .registers = {{0x1a3, {0x01}}, {0, {0xff}}}};
    CHECK(encode_payload(wide) == "T11thread:1a3;1a3:01;00:ff;");  // at least two digits

    CHECK(encode_payload(ExitedReply{0}) == "W00");
    CHECK(encode_payload(ExitedReply{0x2a}) == "W2a");
    CHECK(encode_payload(TerminatedReply{9}) == "X09");
}

TEST_CASE("lldb's QListThreadsInStopReply: threads and their pcs after the registers") {
    StopReply stop{.signal = 5,
                   .thread = 2,
                   .registers = {{8, {0x9f, 0x02, 0x10, 0x00}}},
                   .cause = StopCause::swbreak,
                   .data_address = 0,
                   .threads = {1, 2, 0x1a},
                   .thread_pcs = {0x1002f2, 0x10029f, 0}};
    CHECK(encode_payload(stop) ==
          "T05thread:02;08:9f021000;threads:01,02,1a;thread-pcs:1002f2,10029f,0;swbreak:;");
    stop.thread_pcs.clear();  // a thread runs: the threads without their pcs
    stop.cause = StopCause::none;
    CHECK(encode_payload(stop) == "T05thread:02;08:9f021000;threads:01,02,1a;");
}

TEST_CASE("error replies carry their text in hex once lldb asked for it") {
    CHECK(encode_payload(ErrorReply{0x0e, "no memory at 0x0"}) ==
          "E0e;6e6f206d656d6f727920617420307830");
    CHECK(encode_payload(ErrorReply{0x01, ""}) == "E01");
}

TEST_CASE("lldb's qHostInfo, qProcessInfo, qGDBServerVersion, qWatchpointSupportInfo") {
    // "x86_64-unknown-none" in hex.
    CHECK(encode_payload(HostInfoReply{.pid = std::nullopt,
                                       .triple = "x86_64-unknown-none",
                                       .pointer_size = 8,
                                       .watch_stops_after = true}) ==
          "triple:7838365f36342d756e6b6e6f776e2d6e6f6e65;endian:little;ptrsize:8;"
          "watchpoint_exceptions_received:after;");
    CHECK(encode_payload(HostInfoReply{.pid = 0x1a,
                                       .triple = "i386-unknown-none-code16",
                                       .pointer_size = 4,
                                       .watch_stops_after = false}) ==
          "pid:1a;triple:693338362d756e6b6e6f776e2d6e6f6e652d636f64653136;endian:little;"
          "ptrsize:4;");
    CHECK(encode_payload(ServerVersionReply{"hvgdb", "0.1.0"}) == "name:hvgdb;version:0.1.0;");
    CHECK(encode_payload(WatchpointSupportReply{1024}) == "num:1024;");
}

TEST_CASE("lldb's jThreadsInfo: JSON with decimal numbers and hex register bytes") {
    ThreadsInfoReply info{{
        {.tid = 1,
         .signal = 5,
         .reason = LldbStopReason::breakpoint,
         .watch_address = 0,
         .name = "vCPU 0, 32-bit protected mode",
         .registers = {{4, {0x14, 0x50, 0x10, 0x00}}, {16, {0x9f, 0x02, 0x10, 0x00}}}},
        {.tid = 2, .signal = 0, .reason = LldbStopReason::none, .watch_address = 0},
    }};
    CHECK(encode_payload(info) ==
          R"([{"tid":1,"signal":5,"reason":"breakpoint","name":"vCPU 0, 32-bit protected mode",)"
          R"("registers":{"4":"14501000","16":"9f021000"}},{"tid":2,"registers":{}}])");

    ThreadsInfoReply reasons{{
        {.tid = 0x1a, .signal = 5, .reason = LldbStopReason::trace, .watch_address = 0},
        {.tid = 3, .signal = 5, .reason = LldbStopReason::watchpoint, .watch_address = 0x101040},
        {.tid = 4, .signal = 11, .reason = LldbStopReason::none, .watch_address = 0},
    }};
    CHECK(encode_payload(reasons) ==
          R"([{"tid":26,"signal":5,"reason":"trace","registers":{}},)"
          R"({"tid":3,"signal":5,"reason":"watchpoint","description":"1052736","registers":{}},)"
          R"({"tid":4,"signal":11,"registers":{}}])");

    // Names are JSON strings: quotes, backslashes and control characters escaped.
    ThreadsInfoReply quoted{{{.tid = 1, .name = "a\"b\\c\n"}}};
    CHECK(encode_payload(quoted) == R"([{"tid":1,"name":"a\"b\\c\u000a","registers":{}}])");
    // Bytes above ASCII too, so a name that is not UTF-8 still makes valid JSON.
    ThreadsInfoReply latin{{{.tid = 1, .name = "caf\xe9"}}};
    CHECK(encode_payload(latin) == R"([{"tid":1,"name":"caf\u00e9","registers":{}}])");
    CHECK(encode_payload(ThreadsInfoReply{}) == "[]");

    // On the wire every '}' is escaped as "}]" (lldb's JSON packets use the binary escapes).
    std::string out;
    append_frame(out, encode_payload(ThreadsInfoReply{{{.tid = 1}}}));
    CHECK(out == R"($[{"tid":1,"registers":{}]}]]#d4)");
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

namespace {

std::string framed(std::string_view payload) {
    std::string out;
    append_frame(out, payload);
    return out;
}

// The two hex digits of a frame's checksum, summed here one byte at a time.
std::string checksum_of(std::string_view frame) {
    unsigned sum = 0;
    for (unsigned char c : frame.substr(1, frame.size() - 4)) sum += c;
    return fmt::format("{:02x}", sum & 0xff);
}

// What gdb does with a reply (remote.c, read_frame): runs expanded on the bytes as sent, the
// character before '*' repeated; escapes undone after that, for binary replies.
std::string gdb_decode(std::string_view frame) {
    REQUIRE(frame.size() >= 4);
    std::string_view data = frame.substr(1, frame.size() - 4);
    std::string expanded;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '*') {
            REQUIRE(!expanded.empty());
            REQUIRE(i + 1 < data.size());
            expanded.append(static_cast<std::size_t>(data[++i] - 29), expanded.back());
        } else {
            expanded.push_back(data[i]);
        }
    }
    std::string payload;
    for (std::size_t i = 0; i < expanded.size(); ++i)
        payload.push_back(expanded[i] == '}' ? static_cast<char>(expanded[++i] ^ 0x20)
                                             : expanded[i]);
    return payload;
}

}  // namespace

TEST_CASE("run-length encoding: runs of 4 to 98, counts never '#' or '$', exact bytes") {
    CHECK(framed("000") == "$000#90");      // 2 more copies: "0*" and a count would be longer
    CHECK(framed("0000") == "$0* #7a");     // ' ' is 3 more
    CHECK(framed("00000") == "$0*!#7b");    // '!' 4 more
    CHECK(framed("000000") == "$0*\"#7c");  // '"' 5 more
    // 6 and 7 more would be '#' and '$': 5 more, and the rest as it comes.
    CHECK(framed("0000000") == "$0*\"0#ac");
    CHECK(framed("00000000") == "$0*\"00#dc");
    CHECK(framed("000000000") == "$0*%#7f");           // '%' is 8 more
    CHECK(framed(std::string(98, 'f')) == "$f*~#0e");  // '~' 97 more, the most
    CHECK(framed(std::string(99, 'f')) == "$f*~f#74");
    CHECK(framed(std::string(102, 'f')) == "$f*~f* #be");
    CHECK(framed("T05thread:01;10:0010000000000000;") == "$T05thread:01;10:0010*);#f1");
    // Repeated characters that need escaping go as escape pairs: a pair is never in a run.
    CHECK(framed("****") == "$}\x0a}\x0a}\x0a}\x0a#1c");
    CHECK(framed("}}}}") == "$}]}]}]}]#68");
    // A run right after an escape pair starts with a plain character of its own.
    CHECK(framed("}]]]]") == "$}]]* #81");
    CHECK(framed("}]]]]]") == "$}]]*!#82");
}

TEST_CASE("run-length encoding reads back the same in gdb's and lldb's decoders") {
    const std::string alphabet = "0fx}*#$] ";
    std::uint32_t seed = 12345;
    for (int round = 0; round < 2000; ++round) {
        std::string payload;
        seed = seed * 1103515245 + 12345;
        std::size_t length = seed >> 16 & 0x1ff;
        while (payload.size() < length) {
            seed = seed * 1103515245 + 12345;
            char c = alphabet[(seed >> 16) % alphabet.size()];
            payload.append((seed >> 8) % 110 + 1, c);
        }
        payload.resize(length);
        std::string frame = framed(payload);
        CAPTURE(payload);
        CAPTURE(frame);
        CHECK(gdb_decode(frame) == payload);
        CHECK(hvgdb::gdbstub::testing::payload_of(frame) == payload);  // lldb's way
        CHECK(frame.find_first_of("$#", 1) == frame.size() - 3);       // only the framing ones
        CHECK(frame.substr(frame.size() - 2) == checksum_of(frame));
    }
}

TEST_CASE("a memory reply's worth of hex: the same bytes back, the checksum of what was sent") {
    std::uint32_t seed = 7;
    std::vector<std::uint8_t> bytes(32767);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        seed = seed * 1103515245 + 12345;
        bytes[i] = i % 4096 < 100 ? 0 : static_cast<std::uint8_t>(seed >> 16);  // some runs
    }
    const std::string payload = encode_payload(MemoryReply{bytes});
    for (std::size_t cut :
         {payload.size(), payload.size() - 1, payload.size() - 7, 9ul, 8ul, 7ul}) {
        CAPTURE(cut);
        const std::string frame = framed(std::string_view(payload).substr(0, cut));
        CHECK(gdb_decode(frame) == payload.substr(0, cut));
        CHECK(frame.substr(frame.size() - 2) == checksum_of(frame));
        CHECK(frame.size() < cut + 4);  // the runs of zeros shrank
    }
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
