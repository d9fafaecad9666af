// Session: bad input from the client, byte for byte.  Every malformed, truncated, oversize or
// unknown packet gets its error or the empty reply (gdb manual, "Standard Replies" and
// "Overview"), the link level recovers from bad checksums, naks, noise and stray framing
// characters, and the NEXT packet on the same connection is answered as usual.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "gdbstub/arch/target_xml.hpp"
#include "gdbstub/protocol/hex.hpp"
#include "gdbstub/protocol/packet_decoder.hpp"
#include "session_harness.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

namespace {

// A packet the session must keep answering after each bad one: qC with the current thread.
constexpr std::string_view kProbe = "qC";
const std::string kProbeReply = frame("QC01");

struct Case {
    std::string_view packet;
    std::string_view reply;  // payload of the expected reply
};

// Malformed and truncated packets of every family the stub knows, and packets it does not
// know.  E01 is a malformed request, E02 a thread or process that does not exist, "" the
// empty reply (unknown packet).
constexpr Case kCases[] = {
    // Memory: missing fields, bad and odd hex, overflowing numbers, lengths that disagree.
    {"m", "E01"},
    {"m1000", "E01"},
    {"m1000,", "E01"},
    {"m,4", "E01"},
    {"mxyz,4", "E01"},
    {"m1000,0", "E01"},
    {"m10000000000000000,1", "E01"},  // 65 bits
    {"m1000,-1", "E01"},
    {"M1000,2", "E01"},
    {"M1000,2:", "E01"},
    {"M1000,2:cc", "E01"},    // fewer bytes than the length
    {"M1000,1:cc90", "E01"},  // more bytes than the length
    {"M1000,2:cc9", "E01"},   // odd digit count
    {"M1000,2:zz90", "E01"},  // not hex
    {"X1000,2:a", "E01"},     // X data shorter than its length
    {"X1000,1:ab", "E01"},    // and longer
    {"X1000,2", "E01"},
    // Registers: numbers out of range, sizes that do not fit.
    {"p", "E01"},
    {"p6e", "E01"},     // one past the last row
    {"pffff", "E01"},   // the parser's bound
    {"p10000", "E01"},  // past it
    {"p-1", "E01"},
    {"p10;thread:;", "E01"},
    {"p10;thread:1", "E01"},  // suffix without its ';'
    {"p10;thread:3;", "E02"},
    {"P10", "E01"},
    {"P10=", "E01"},
    {"P10=00", "E01"},  // rip is 8 bytes
    {"P10=0", "E01"},
    {"G", "E01"},
    {"G00", "E01"},
    {"gx", "E01"},
    // Breakpoints.
    {"Z", "E01"},
    {"Z0", "E01"},
    {"Z0,1000", "E01"},
    {"Z0,1000,", "E01"},
    {"Z5,1000,1", "E01"},
    {"z0,,1", "E01"},
    {"Z0,1000,1;X1,0", "E01"},  // conditions were not offered
    // Resuming: bad addresses, signals, vCont actions.
    {"c1000x", "E01"},
    {"s-1", "E01"},
    {"C", "E01"},
    {"C100", "E01"},
    {"S05;", "E01"},
    {"vCont", "E01"},
    {"vCont;", "E01"},
    {"vCont;x", "E01"},
    {"vCont;cx", "E01"},
    {"vCont;c:", "E01"},
    {"vCont;C", "E01"},
    {"vCont;c:3", "E02"},
    {"vCont;c:100000000", "E01"},
    {"vCont;s:-2", "E01"},
    {"vCont;c:p2.1", "E02"},
    // Threads: out of range, negative, multiprocess forms.
    {"H", "E01"},
    {"Hx1", "E01"},
    {"Hg", "E01"},
    {"Hg3", "E02"},
    {"Hg-2", "E01"},
    {"Hg100000000", "E01"},
    {"Hgp", "E01"},
    {"Hgp1.", "E01"},
    {"Hgp2.1", "E02"},
    {"Hgpx.1", "E01"},
    {"T", "E01"},
    {"T0x", "E01"},
    {"Tp1.3", "E02"},
    {"qThreadExtraInfo,", "E01"},
    {"qThreadExtraInfo,ffffffff", "E02"},
    {"qThreadStopInfo", "E01"},
    // Queries.
    {"qSupported:", "E01"},
    {"qSupported:;;", "E01"},
    {"qSupported:swbreak", "E01"},
    {"qXfer:features:read:target.xml:", "E01"},
    {"qXfer:features:read:target.xml:0", "E01"},
    {"qXfer:features:read::0,10", "E01"},
    {"qXfer:features:read", ""},  // not a read this stub knows
    {"qRcmd,6", "E01"},
    {"qRcmd,zz", "E01"},
    {"qAttached:", "E01"},
    {"qAttached:100000000", "E01"},
    {"QNonStop:", "E01"},
    {"QNonStop:2", "E01"},
    {"qMemoryRegionInfo:", "E01"},
    // Ending: bad pids.
    {"D;", "E01"},
    {"Dx", "E01"},
    {"vKill;", "E01"},
    {"vKill;x", "E01"},
    {"vStopped;1", "E01"},
    // Unknown packets of every kind: the empty reply.
    {"", ""},
    {"qFooBar", ""},
    {"QFooBar:1", ""},
    {"vFooBar", ""},
    {"vFile:open:2f6574632f706173737764,0,0", ""},
    {"vMustReplyEmpty", ""},
    {"vKill", ""},
    {"jFooBar:[]", ""},
    {"!", ""},
    {"x1000,4", ""},  // lldb's binary read, not offered
    {"\x7f\xff", ""},
};

// `count` hex digits without runs, so that framing sends them as they are.
std::string hex_digits(std::size_t count) {
    std::string digits;
    digits.reserve(count);
    while (digits.size() < count) digits += "0123456789abcdef";
    digits.resize(count);
    return digits;
}

// The first bytes of the fake's RAM (at FakeTarget::kRamBase).
std::vector<std::uint8_t> ram_start(const Harness& h, std::size_t count) {
    return {h.target.ram.begin(), h.target.ram.begin() + static_cast<std::ptrdiff_t>(count)};
}

std::string hex_text(std::string_view text) {
    return protocol::to_hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

}  // namespace

TEST_CASE("each bad packet gets its reply and the next packet is answered") {
    Harness h;
    h.no_acks();
    for (const Case& c : kCases) {
        CAPTURE(c.packet);
        CHECK(h.packet(c.packet) == frame(c.reply));
        CHECK(h.packet(kProbe) == kProbeReply);
    }
    CHECK(h.target.resumes.empty());  // nothing malformed ran the target
    CHECK(h.target.breakpoints.empty());
    CHECK(h.target.kills == 0);
    CHECK(h.target.detaches == 0);
    CHECK_FALSE(h.session.finished());
}

TEST_CASE("the same in ack mode: each one is acked, then answered") {
    Harness h;
    for (const Case& c : kCases) {
        CAPTURE(c.packet);
        CHECK(h.client(frame(c.packet)) == "+" + frame(c.reply));
        CHECK(h.client("+" + frame(kProbe)) == "+" + kProbeReply);
        h.client("+");
    }
}

TEST_CASE("with error strings on, an error carries its text, cut short when it quotes the client") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("QEnableErrorStrings") == frame("OK"));
    CHECK(h.packet("m1000,0") == frame("E01;" + hex_text("'m' of zero bytes")));
    CHECK(h.packet("Hg3") == frame("E02;" + hex_text("no thread 0x3")));
    // A 30 KiB bad number is quoted by its first 40 bytes: the reply stays small.
    std::string junk(30000, 'z');
    CHECK(h.packet("m" + junk + ",4") ==
          frame("E01;" + hex_text("bad hex number '" + junk.substr(0, 40) + "...'")));
    CHECK(h.packet("vCont;" + junk) ==
          frame("E01;" + hex_text("unsupported vCont action '" + junk.substr(0, 40) + "...'")));
    CHECK(h.packet(kProbe) == kProbeReply);
}

TEST_CASE("huge lengths are capped, not allocated") {
    Harness h;
    h.no_acks();
    h.target.memory_everywhere = true;
    // m: at most what one reply holds (two hex digits per byte).
    std::string reply = h.packet("mffffffffffff0000,ffffffffffffffff");
    CHECK(h.target.last_read_size == protocol::kMaxPacketSize / 2);
    CHECK(payload_of(reply) == std::string(protocol::kMaxPacketSize, 'a'));
    // qXfer: a window no larger than a reply, from any offset.
    std::string xfer = h.packet("qXfer:features:read:target.xml:0,ffffffffffffffff");
    CHECK(xfer.size() <= 1 + protocol::kMaxPacketSize + 3);
    CHECK(payload_of(xfer) == "l" + arch::target_xml(arch::x86_64()));
    CHECK(h.packet("qXfer:features:read:target.xml:ffffffffffffffff,ffffffffffffffff") ==
          frame("l"));
    CHECK(h.packet(kProbe) == kProbeReply);
}

TEST_CASE("bad checksum: '-' in ack mode and the retransmission runs once") {
    Harness h;
    const std::string good = frame("m1000,4");  // "$m1000,4#8e"
    CHECK(h.client("$m1000,4#00") == "-");
    CHECK(h.client(good) == "+" + frame("00010203"));
    CHECK(h.client("+") == "");
    // Checksum digits that are not hex, or cut short by the next packet.
    CHECK(h.client("$m1000,4#zz") == "-");
    CHECK(h.client("$m1000,4#8") == "");
    CHECK(h.client(good) == "+" + frame("00010203"));
    CHECK(h.client("+$m1000,4#" + frame(kProbe)) == "+" + kProbeReply);
}

TEST_CASE("bad checksum in no-ack mode: an error reply, not silence and not the command") {
    Harness h;
    h.no_acks();
    CHECK(h.client("$M1000,1:cc#00") == frame("E01"));
    CHECK(h.target.ram[0] == 0x00);  // not written
    CHECK(h.client("$m1000,4#zz") == frame("E01"));
    CHECK(h.packet(kProbe) == kProbeReply);
}

TEST_CASE("'-' resends the last reply exactly, however often") {
    Harness h;
    CHECK(h.client(frame("m1000,4")) == "+" + frame("00010203"));
    CHECK(h.client("-") == frame("00010203"));
    CHECK(h.client("---") == frame("00010203") + frame("00010203") + frame("00010203"));
    // After an error too.
    CHECK(h.client("+" + frame("m1000")) == "+" + frame("E01"));
    CHECK(h.client("-") == frame("E01"));
    CHECK(h.client("+" + frame(kProbe)) == "+" + kProbeReply);
}

TEST_CASE("noise between packets and stray framing characters") {
    Harness h;
    h.no_acks();
    // Bytes outside a packet that are not '$', '+', '-' or 0x03 are dropped.
    CHECK(h.client("hello\r\n#00}*\xff" + frame(kProbe)) == kProbeReply);
    // A '$' inside a packet abandons it: only the second is answered.
    CHECK(h.client("$M1000,1:cc$" + std::string(kProbe) + "#b4") == kProbeReply);
    CHECK(h.target.ram[0] == 0x00);
    // A packet cut off at its '#' and then the next one.
    CHECK(h.client("$M1000,1:cc#" + frame(kProbe)) == kProbeReply);
    // An escape with nothing after it, and a run-length count with nothing before it.
    CHECK(h.client(frame("X1000,1:}")) == frame("E01"));
    CHECK(h.client(frame("*  ")) == frame("E01"));
    CHECK(h.target.ram[0] == 0x00);
    CHECK(h.packet(kProbe) == kProbeReply);
}

TEST_CASE("oversize packets, up to an endless one, are refused and the session goes on") {
    Harness h;
    h.no_acks();
    // 10 MiB in one packet: E01 once its checksum arrives.
    CHECK(h.packet("M1000,1:" + hex_digits(10 << 20)) == frame("E01"));
    CHECK(h.packet(kProbe) == kProbeReply);
    // A packet that never ends: no reply while it lasts, and the next '$' starts over.
    std::string endless(4 << 20, 'a');
    CHECK(h.client("$" + endless) == "");
    CHECK(h.client(endless) == "");
    CHECK(h.client(frame(kProbe)) == kProbeReply);
    // Run-length counts cannot blow a small packet up past PacketSize either: 1,000 runs of
    // 97 bytes each ("0*~") decode to 98,000.
    std::string runs;
    for (int i = 0; i < 1000; ++i) runs += "0*~";
    CHECK(h.packet("M1000,bf68:" + runs) == frame("E01"));
    CHECK(h.packet(kProbe) == kProbeReply);
}

TEST_CASE("run-length encoding from a client is decoded (lenient, as lldb's server is)") {
    Harness h;
    h.no_acks();
    // "a* " is "aaaa": the manual defines it for replies; a client that uses it is understood.
    CHECK(h.client(frame("M1000,2:a* ")) == frame("OK"));
    CHECK(ram_start(h, 2) == std::vector<std::uint8_t>{0xaa, 0xaa});
}

TEST_CASE("0x03 inside a packet: data while stopped, Ctrl-C while the target runs") {
    Harness h;
    h.no_acks();
    // Stopped: X carries raw bytes, 0x03 among them (gdb escapes only $ # } *).
    CHECK(h.client(frame("X1000,3:\x01\x03\x02")) == frame("OK"));
    CHECK(ram_start(h, 3) == std::vector<std::uint8_t>{0x01, 0x03, 0x02});
    CHECK(h.target.interrupts == 0);

    // Running (all-stop): a stray '$' has opened a packet; the user's Ctrl-C still stops the
    // target, and nothing else is answered until the stop.
    CHECK(h.packet("vCont;c") == "");
    CHECK(h.client("$garbage") == "");
    CHECK(h.client("\x03") == "");
    CHECK(h.target.interrupts == 1);
    CHECK(payload_of(h.stop({.signal = 2, .reason = StopReason::interrupt})) ==
          "T02thread:01;" + std::string(kExpedited));
    // The stray packet's tail is dropped with the next '$'.
    CHECK(h.client("more" + frame(kProbe)) == kProbeReply);
}

TEST_CASE("while the target runs in all-stop mode bad packets get no reply, and k still works") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("c") == "");
    CHECK(h.packet("m1000") == "");                           // malformed
    CHECK(h.client("$m1000,4#00") == "");                     // bad checksum
    CHECK(h.packet("M1000,1:" + hex_digits(0x20000)) == "");  // oversize
    CHECK(h.packet("qFooBar") == "");
    CHECK(h.packet("k") == "");
    CHECK(h.target.kills == 1);
    CHECK(h.session.finished());
}
