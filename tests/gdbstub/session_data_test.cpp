// Session: registers, memory, breakpoints, threads, target.xml windows and error replies.
#include <doctest/doctest.h>

#include "gdbstub/arch/target_xml.hpp"
#include "gdbstub/protocol/hex.hpp"
#include "session_harness.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

TEST_CASE("p and P by register number") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("p10") == frame("0010000000000000"));
    CHECK(h.packet("p0") == frame("0000000000000000"));
    CHECK(h.packet("p11") == frame("11000000"));              // eflags: 32 bits
    CHECK(h.packet("p18") == frame("18000000000000000000"));  // st0: 80 bits
    CHECK(h.packet("p3a") == frame("3a00000000000000"));      // gs_base
    CHECK(h.packet("p57") == frame("57000000"));              // cr0: 32 bits
    CHECK(h.packet("p6d") == frame("6d00000000000000"));      // tsc, the last row
    CHECK(h.packet("p6e") == frame("E01"));                   // out of range
    CHECK(h.packet("P10=0070000000000000") == frame("OK"));
    CHECK(h.target.register_value(1, 16) == 0x7000);
    CHECK(h.packet("P10=0070") == frame("E01"));  // wrong size
    CHECK(h.packet("P6e=00000000") == frame("E01"));
}

TEST_CASE("g and G round trip") {
    Harness h;
    h.no_acks();
    std::string hex = payload_of(h.packet("g"));
    REQUIRE(hex.size() == 860 * 2);  // 552 bytes in gdb's features, 308 in hvgdb's
    hex.replace(0, 2, "ab");         // rax low byte
    CHECK(h.packet("G" + hex) == frame("OK"));
    CHECK(h.target.register_value(1, 0) == 0xab);
    CHECK(h.packet("G" + hex.substr(2)) == frame("E01"));  // one byte short
    CHECK(h.packet("G" + hex + "00") == frame("E01"));     // one byte long
}

TEST_CASE("a register the target cannot read is sent as unavailable") {
    Harness h;
    h.no_acks();
    h.target.unreadable_register = 1;
    std::string g = payload_of(h.packet("g"));
    CHECK(g.substr(0, 32) == "0000000000000000xxxxxxxxxxxxxxxx");
    CHECK(h.packet("p1") == frame("xxxxxxxxxxxxxxxx"));
}

TEST_CASE("Hg picks the thread for registers; T and qC") {
    Harness h;
    h.no_acks();
    h.target.register_bytes(2, 0)[0] = 0x22;
    CHECK(h.packet("Hg2") == frame("OK"));
    CHECK(h.packet("p0") == frame("2200000000000000"));
    CHECK(h.packet("qC") == frame("QC02"));
    CHECK(h.packet("Hg0") == frame("OK"));  // any: keeps thread 2
    CHECK(h.packet("qC") == frame("QC02"));
    CHECK(h.packet("Hgp1.1") == frame("OK"));
    CHECK(h.packet("qC") == frame("QC01"));
    CHECK(h.packet("Hg3") == frame("E02"));
    CHECK(h.packet("Hgp2.1") == frame("E02"));
    CHECK(h.packet("T2") == frame("OK"));
    CHECK(h.packet("Tp1.1") == frame("OK"));
    CHECK(h.packet("T3") == frame("E02"));
    // qThreadExtraInfo: the target's line in hex; nothing to say is the empty reply.
    CHECK(h.packet("qThreadExtraInfo,1") == frame("637075"));
    CHECK(h.packet("qThreadExtraInfo,2") == frame(""));
    CHECK(h.packet("qThreadExtraInfo,3") == frame("E02"));
    CHECK(h.packet("qThreadExtraInfo,-1") == frame("E01"));
}

TEST_CASE("qXfer:threads:read: each thread with its line, in windows; no other annex") {
    Harness h;
    h.no_acks();
    const std::string document =
        "<?xml version=\"1.0\"?>\n<threads>\n<thread id=\"1\">cpu</thread>\n"
        "<thread id=\"2\"></thread>\n</threads>\n";
    CHECK(h.packet("qXfer:threads:read::0,fff") == frame("l" + document));
    CHECK(h.target.descriptions_asked == 2);
    // Windows of one read agree; a read from 0 asks the target again.
    CHECK(h.packet("qXfer:threads:read::0,10") == frame("m" + document.substr(0, 16)));
    CHECK(h.packet("qXfer:threads:read::10,fff") == frame("l" + document.substr(16)));
    CHECK(h.target.descriptions_asked == 4);
    CHECK(h.packet("qXfer:threads:read::100,10") == frame("l"));
    CHECK(h.packet("qXfer:threads:read:x:0,10") == frame("E00"));
    CHECK(h.packet("qXfer:threads:read::0") == frame("E01"));
    // The line is XML text: markup characters as entities, control characters left out.
    h.target.thread1_description = "a<b & c>d\x01\te\xc3";
    CHECK(payload_of(h.packet("qXfer:threads:read::0,fff"))
              .find("<thread id=\"1\">a&lt;b &amp; c&gt;d\te?</thread>") != std::string::npos);
}

TEST_CASE("m reads memory; short reads return what was read") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("m1000,4") == frame("00010203"));
    CHECK(h.packet("m1ffe,4") == frame("feff"));
    CHECK(h.packet("m0,4") == frame("E0e"));  // EFAULT from the target
    CHECK(h.packet("m1000,0") == frame("E01"));
    // A huge length is cut to what fits in one packet (and here to the fake's RAM).
    std::string reply = h.packet("m1000,ffffffff");
    CHECK(reply.size() == 1 + 0x1000 * 2 + 3);
}

TEST_CASE("read-ahead: the next 'm' of a long read is made between packets") {
    FakeTarget target;
    Session session(target);  // packets not logged: with a log there is no read-ahead
    auto packet = [&session](std::string_view payload) {
        std::string out;
        session.receive(frame(payload), out);
        return out;
    };
    std::string handshake;
    session.receive("+" + frame("QStartNoAckMode") + "+", handshake);
    auto hex_of = [&target](std::uint64_t addr, std::size_t n) {
        return protocol::to_hex(std::span(target.ram).subspan(addr - FakeTarget::kRamBase, n));
    };

    CHECK(packet("m1000,100") == frame(hex_of(0x1000, 0x100)));
    CHECK_FALSE(session.wants_read_ahead());  // short reads are not worth it
    CHECK(packet("m1000,400") == frame(hex_of(0x1000, 0x400)));
    REQUIRE(session.wants_read_ahead());
    session.read_ahead();
    CHECK_FALSE(session.wants_read_ahead());
    const std::size_t reads = target.memory_reads;
    CHECK(packet("m1400,400") == frame(hex_of(0x1400, 0x400)));  // made already
    CHECK(target.memory_reads == reads);
    // Any other packet drops it: here a write to the bytes it read.
    session.read_ahead();
    CHECK(packet("M1800,2:abcd") == frame("OK"));
    CHECK(packet("m1800,400") == frame("abcd" + hex_of(0x1802, 0x3fe)));
    CHECK(target.memory_reads == reads + 2);
    // Another address or length is read afresh.
    session.read_ahead();
    CHECK(packet("m1c00,200") == frame(hex_of(0x1c00, 0x200)));
    CHECK(target.memory_reads == reads + 4);
    // At the end of memory the next read fails: made ahead, nothing is kept, and it is read
    // (and fails) again when asked.
    CHECK(packet("m1c00,400") == frame(hex_of(0x1c00, 0x400)));
    session.read_ahead();
    CHECK(target.memory_reads == reads + 6);
    CHECK(packet("m2000,400") == frame("E0e"));
    CHECK(target.memory_reads == reads + 7);
    // A malformed packet, or a stop, drops a reply made ahead.
    CHECK(packet("m1000,400") == frame(hex_of(0x1000, 0x400)));
    session.read_ahead();
    CHECK(packet("m1400") == frame("E01"));
    CHECK(packet("m1400,400") == frame(hex_of(0x1400, 0x400)));
    CHECK(target.memory_reads == reads + 10);
    session.read_ahead();
    std::string reply;
    session.on_stop(StopEvent{.thread = 2}, reply);
    CHECK(packet("m1800,400") == frame(hex_of(0x1800, 0x400)));
    CHECK(target.memory_reads == reads + 12);
    // No read-ahead while threads run in non-stop mode, nor with packets logged.
    target.non_stop_supported = true;
    CHECK(packet("QNonStop:1") == frame("OK"));
    CHECK(packet("m1000,400") == frame(hex_of(0x1000, 0x400)));
    CHECK_FALSE(session.wants_read_ahead());
    Harness logged;
    logged.no_acks();
    CHECK(logged.packet("m1000,400") == frame(hex_of(0x1000, 0x400)));
    CHECK_FALSE(logged.session.wants_read_ahead());
}

TEST_CASE("m is limited to half the packet size") {
    Harness h;
    h.no_acks();
    h.target.memory_everywhere = true;
    std::string reply = h.packet("m0,20000");
    CHECK(h.target.last_read_size == 0x8000);
    CHECK(reply == frame(std::string(0x10000, 'a')));
}

TEST_CASE("M and X write memory") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("M1000,2:cc90") == frame("OK"));
    CHECK(h.target.ram[0] == 0xcc);
    CHECK(h.target.ram[1] == 0x90);
    // X data as gdb sends it: '}' and '#' escaped on the wire.
    std::string x = "X1002,2:}]}\x03";
    CHECK(h.client(frame(x)) == frame("OK"));
    CHECK(h.target.ram[2] == '}');
    CHECK(h.target.ram[3] == '#');
    CHECK(h.packet("X1000,0:") == frame("OK"));  // gdb's probe for binary downloads
    CHECK(h.packet("M0,1:00") == frame("E0e"));
    CHECK(h.packet("M1000,2:cc") == frame("E01"));
}

TEST_CASE("Z and z map to breakpoint types") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("Z0,7c00,1") == frame("OK"));
    CHECK(h.packet("Z1,7c01,1") == frame("OK"));
    CHECK(h.packet("Z2,2000,8") == frame("OK"));
    CHECK(h.packet("Z3,2000,4") == frame("OK"));
    CHECK(h.packet("Z4,2000,2") == frame("OK"));
    CHECK(h.packet("z0,7c00,1") == frame("OK"));
    REQUIRE(h.target.breakpoints.size() == 6);
    CHECK(h.target.breakpoints[0].type == BreakpointType::software);
    CHECK(h.target.breakpoints[0].address == 0x7c00);
    CHECK(h.target.breakpoints[0].kind == 1);
    CHECK(h.target.breakpoints[1].type == BreakpointType::hardware);
    CHECK(h.target.breakpoints[2].type == BreakpointType::write_watch);
    CHECK(h.target.breakpoints[2].kind == 8);
    CHECK(h.target.breakpoints[3].type == BreakpointType::read_watch);
    CHECK(h.target.breakpoints[4].type == BreakpointType::access_watch);
    CHECK_FALSE(h.target.breakpoints[5].insert);
}

TEST_CASE("breakpoint errors: unsupported is the empty reply, target errors are E..") {
    Harness h;
    h.no_acks();
    h.target.breakpoint_error = Error{ErrorKind::unsupported, 0, "no more debug registers"};
    CHECK(h.packet("Z1,1000,1") == "$#00");
    h.target.breakpoint_error = Error{ErrorKind::target, 14, "unmapped"};
    CHECK(h.packet("Z0,0,1") == frame("E0e"));
    h.target.breakpoint_error = Error{ErrorKind::target, 0, "busy"};
    CHECK(h.packet("Z0,0,1") == frame("E02"));
    CHECK(h.packet("Z9,0,1") == frame("E01"));  // malformed
}

TEST_CASE("a fatal target error ends the session") {
    Harness h;
    h.no_acks();
    h.target.breakpoint_error = Error{ErrorKind::fatal, 5, "KVM_SET_GUEST_DEBUG"};
    CHECK(h.packet("Z0,1000,1") == frame("E03"));
    CHECK(h.session.finished());
    CHECK(h.session.target_ended());
}

TEST_CASE("qXfer:features:read windows and errors") {
    Harness h;
    h.no_acks();
    std::string xml = arch::target_xml(arch::x86_64());
    CHECK(h.packet("qXfer:features:read:target.xml:0,10") == frame("m" + xml.substr(0, 0x10)));
    CHECK(h.packet("qXfer:features:read:target.xml:10,10") == frame("m" + xml.substr(0x10, 0x10)));
    std::string last = fmt::format("qXfer:features:read:target.xml:{:x},100", xml.size() - 5);
    CHECK(h.packet(last) == frame("l" + xml.substr(xml.size() - 5)));
    std::string end = fmt::format("qXfer:features:read:target.xml:{:x},100", xml.size());
    CHECK(h.packet(end) == frame("l"));
    CHECK(h.packet("qXfer:features:read:target.xml:ffffffffffffffff,100") == frame("l"));
    CHECK(h.packet("qXfer:features:read:other.xml:0,100") == frame("E00"));
    CHECK(h.packet("qXfer:features:read:target.xml:0") == frame("E01"));
    // The whole document in one window, when asked for.
    CHECK(h.packet("qXfer:features:read:target.xml:0,ffff") == frame("l" + xml));
}

TEST_CASE("malformed and oversize packets get E01; unknown ones the empty reply") {
    Harness h;
    h.no_acks();
    CHECK(h.packet("m1000") == frame("E01"));
    CHECK(h.packet("qSymbol::") == "$#00");
    CHECK(h.packet(std::string(0x10001, 'm')) == frame("E01"));
    CHECK(h.packet("qC") == frame("QC01"));  // and the session goes on
}
