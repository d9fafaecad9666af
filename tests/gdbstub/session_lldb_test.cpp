// Session: lldb's extensions (lldb's docs/resources/lldbgdbremote.md).  lldb 16's connect
// sequence replayed byte for byte, the thread suffix, threads in stop replies, jThreadsInfo,
// qThreadStopInfo, error texts; exact wire bytes.
#include <doctest/doctest.h>

#include "gdbstub/arch/x86.hpp"
#include "session_harness.hpp"

using namespace hvgdb;
using namespace hvgdb::gdbstub;
using namespace hvgdb::gdbstub::testing;

namespace {

// kExpedited's registers in jThreadsInfo's JSON, closing the thread's object; every '}'
// escaped as on the wire ("}]").
constexpr std::string_view kJsonRegisters =
    R"("registers":{"6":"f87f000000000000","7":"f07f000000000000","16":"0010000000000000"}]}])";

// "x86_64-unknown-none" in hex.
constexpr std::string_view kTripleX86_64 = "7838365f36342d756e6b6e6f776e2d6e6f6e65";

// The opening of lldb's connect sequence, leaving the session in no-ack mode.
void lldb_connects(Harness& h) {
    h.client("+");
    h.client("$QStartNoAckMode#b0");
    h.client("+");
    h.client(
        "$qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+#2e");
}

}  // namespace

TEST_CASE("lldb 16 connects: exact bytes for its packets") {
    Harness h;
    CHECK(h.client("+") == "");
    CHECK(h.client("$QStartNoAckMode#b0") == "+$OK#9a");
    CHECK(h.client("+") == "");
    // qSupported's reply is gdb's (session_handshake_test.cpp); lldb announces no swbreak+.
    CHECK(h.client("$qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;"
                   "vfork-events+#2e")
              .starts_with("$PacketSize=10* ;"));
    CHECK(h.client("$QThreadSuffixSupported#e4") == "$OK#9a");
    CHECK(h.client("$QListThreadsInStopReply#21") == "$OK#9a");
    CHECK(h.client("$qHostInfo#9b") ==
          frame("triple:" + std::string(kTripleX86_64) +
                ";endian:little;ptrsize:8;watchpoint_exceptions_received:after;"));
    CHECK(h.client("$vCont?#49") == "$vCont;c;C;s;S;t#11");
    CHECK(h.client("$qVAttachOrWaitSupported#38") == "$#00");
    CHECK(h.client("$QEnableErrorStrings#8c") == "$OK#9a");
    CHECK(h.client("$qProcessInfo#dc") ==
          frame("pid:1;triple:" + std::string(kTripleX86_64) + ";endian:little;ptrsize:8;"));
    CHECK(h.client("$?#3f") ==
          frame("T05thread:01;" + std::string(kExpedited) + "threads:01,02;thread-pcs:1000,1000;"));
    // The other thread stopped along with the first: no signal.
    CHECK(h.client("$qThreadStopInfo2#2d") ==
          frame("T00thread:02;" + std::string(kExpedited) + "threads:01,02;thread-pcs:1000,1000;"));
    CHECK(h.client("$jThreadsInfo#c1") ==
          frame(R"([{"tid":1,"signal":5,"name":"cpu",)" + std::string(kJsonRegisters) +
                R"(,{"tid":2,)" + std::string(kJsonRegisters) + "]"));
    CHECK(h.client("$jThreadExtendedInfo:#b9") == "$#00");
    CHECK(h.client("$p0;thread:0001;#89") == frame("0000000000000000"));
    CHECK(h.client("$P0=3412000000000000;thread:0002;#b1") == "$OK#9a");
    CHECK(h.client("$x0,0#04") == "$#00");
    CHECK(h.client("$qWatchpointSupportInfo:#55") == "$#00");  // the fake cannot tell
    CHECK(h.client("$qGDBServerVersion#9b") ==
          frame(std::string("name:hvgdb;version:") + HVGDB_VERSION + ";"));

    CHECK(h.target.register_value(2, 0) == 0x1234);
    CHECK(h.target.register_value(1, 0) == 0);
    CHECK(h.target.resumes.empty());
}

TEST_CASE("the thread suffix picks the registers' thread and leaves the current one") {
    Harness h;
    lldb_connects(h);
    h.target.register_bytes(2, 16)[0] = 0x42;
    CHECK(h.packet("p10;thread:0002;") == frame("4210000000000000"));
    CHECK(h.packet("p10") == frame("0010000000000000"));  // Hg's thread: still 1
    CHECK(h.packet("qC") == frame("QC01"));

    std::string all_of_2 = h.packet("g;thread:2;");
    CHECK(h.packet("g") != all_of_2);
    CHECK(h.packet("Hg2") == "$OK#9a");
    CHECK(h.packet("g") == all_of_2);
    CHECK(h.packet("Hg1") == "$OK#9a");

    // G with a suffix writes that thread's registers: thread 2's back onto thread 1.
    std::string hex = all_of_2.substr(1, all_of_2.size() - 4);
    CHECK(h.packet("G" + hex + ";thread:1;") == "$OK#9a");
    CHECK(h.target.register_value(1, 16) == 0x1042);

    // "all" and "any" keep the current thread, as Hg does.
    CHECK(h.packet("p10;thread:-1;") == frame("4210000000000000"));
    CHECK(h.packet("P10=0020000000000000;thread:0;") == "$OK#9a");
    CHECK(h.target.register_value(1, 16) == 0x2000);

    CHECK(h.packet("p10;thread:9;") == frame("E02"));     // no such thread
    CHECK(h.packet("p10;thread:p2.1;") == frame("E02"));  // no such process
    CHECK(h.packet("p10;thread:zz;") == frame("E01"));    // malformed
    CHECK(h.packet("p10;thread:2") == frame("E01"));      // no closing ';'
    CHECK(h.packet("P10=00;thread:2;") == frame("E01"));  // value of the wrong size
    CHECK(h.packet("G0011;thread:2;") == frame("E01"));   // data of the wrong size
}

TEST_CASE("QListThreadsInStopReply: every stop reply lists the threads and their pcs") {
    Harness h;
    lldb_connects(h);
    // Not asked for yet: gdb's stop reply.
    CHECK(h.packet("?") == frame("T05thread:01;" + std::string(kExpedited)));
    CHECK(h.packet("QListThreadsInStopReply") == "$OK#9a");

    CHECK(h.packet("c") == "");
    h.target.register_bytes(2, 16)[0] = 0x42;
    CHECK(h.stop({.thread = 2, .reason = StopReason::sw_break}) ==
          frame("T05thread:02;06:f87f000000000000;07:f07f000000000000;10:4210000000000000;"
                "threads:01,02;thread-pcs:1000,1042;"));
    CHECK(h.packet("?") ==
          frame("T05thread:02;06:f87f000000000000;07:f07f000000000000;10:4210000000000000;"
                "threads:01,02;thread-pcs:1000,1042;"));

    // The end of the target is W, with no thread list.
    CHECK(h.packet("c") == "");
    CHECK(h.stop({.kind = StopEvent::Kind::exited, .exit_code = 0x2b}) == frame("W2b"));
}

TEST_CASE("jThreadsInfo and qThreadStopInfo: each thread's own stop, in lldb's words") {
    Harness h;
    lldb_connects(h);
    auto thread_2 = [](std::string_view fields) {
        return R"({"tid":2,)" + std::string(fields) + std::string(kJsonRegisters);
    };
    // Thread 1 stopped along with thread 2: no signal, no reason.
    auto thread_1 = R"([{"tid":1,"name":"cpu",)" + std::string(kJsonRegisters) + ",";

    h.packet("c");
    h.stop({.thread = 2, .reason = StopReason::sw_break});
    CHECK(h.packet("jThreadsInfo") ==
          frame(thread_1 + thread_2(R"("signal":5,"reason":"breakpoint",)") + "]"));
    CHECK(h.packet("qThreadStopInfo1") == frame("T00thread:01;" + std::string(kExpedited)));
    CHECK(h.packet("qThreadStopInfo2") == frame("T05thread:02;" + std::string(kExpedited)));

    h.packet("vCont;s:2");
    h.stop({.thread = 2, .reason = StopReason::step});
    CHECK(h.packet("jThreadsInfo") ==
          frame(thread_1 + thread_2(R"("signal":5,"reason":"trace",)") + "]"));

    h.packet("c");
    h.stop({.thread = 2, .reason = StopReason::hw_break});
    CHECK(h.packet("jThreadsInfo") ==
          frame(thread_1 + thread_2(R"("signal":5,"reason":"breakpoint",)") + "]"));

    // A watchpoint: its address in decimal as the description, as lldb reads it.
    h.packet("c");
    h.stop({.thread = 2, .reason = StopReason::awatch, .data_address = 0x101040});
    CHECK(h.packet("jThreadsInfo") ==
          frame(thread_1 +
                thread_2(R"("signal":5,"reason":"watchpoint","description":"1052736",)") + "]"));
    CHECK(h.packet("qThreadStopInfo2") ==
          frame("T05thread:02;" + std::string(kExpedited) + "awatch:101040;"));

    // A fault or an interrupt: the signal alone.
    h.packet("c");
    h.stop({.thread = 2, .signal = 11, .reason = StopReason::fault});
    CHECK(h.packet("jThreadsInfo") == frame(thread_1 + thread_2(R"("signal":11,)") + "]"));
    h.packet("c");
    h.client("\x03");
    CHECK(h.target.interrupts == 1);
    h.stop({.thread = 1, .signal = 2, .reason = StopReason::interrupt});
    CHECK(h.packet("jThreadsInfo") ==
          frame(R"([{"tid":1,"signal":2,"name":"cpu",)" + std::string(kJsonRegisters) + "," +
                thread_2("") + "]"));
}

TEST_CASE("qThreadStopInfo names one existing thread") {
    Harness h;
    lldb_connects(h);
    CHECK(h.packet("qThreadStopInfo9") == frame("E02"));
    CHECK(h.packet("qThreadStopInfo0") == frame("E01"));   // "any" is no one thread
    CHECK(h.packet("qThreadStopInfo-1") == frame("E01"));  // nor is "all"
    CHECK(h.packet("qThreadStopInfo") == frame("E01"));
    CHECK(h.packet("qThreadStopInfoq") == frame("E01"));
}

TEST_CASE("QEnableErrorStrings: E replies carry the error's text in hex from then on") {
    Harness h;
    lldb_connects(h);
    CHECK(h.packet("m0,4") == frame("E0e"));  // the fake has no memory at 0
    CHECK(h.packet("QEnableErrorStrings") == "$OK#9a");
    // "unmapped: Bad address"
    CHECK(h.packet("m0,4") == frame("E0e;756e6d61707065643a204261642061646472657373"));
    // "no thread 0x9"
    CHECK(h.packet("qThreadStopInfo9") == frame("E02;6e6f2074687265616420307839"));
    // Unsupported packets still get the empty reply.
    CHECK(h.packet("qWatchpointSupportInfo:") == "$#00");
}

TEST_CASE("qWatchpointSupportInfo: the target's watchpoint slots") {
    Harness h;
    lldb_connects(h);
    CHECK(h.packet("qWatchpointSupportInfo:") == "$#00");
    h.target.watch_slots = 1024;
    CHECK(h.packet("qWatchpointSupportInfo:") == frame("num:1024;"));
    CHECK(h.packet("qWatchpointSupportInfo") == frame("num:1024;"));
}

TEST_CASE("qHostInfo and qProcessInfo follow the register view") {
    // Real mode: lldb disassembles 16-bit code for the code16 environment; addresses are 4
    // bytes, as the view's eip.
    FakeTarget target({1}, arch::i8086());
    Session session(target);
    std::string out;
    session.receive(frame("qHostInfo"), out);
    CHECK(out == "+" + frame("triple:693338362d756e6b6e6f776e2d6e6f6e652d636f64653136;"
                             "endian:little;ptrsize:4;watchpoint_exceptions_received:after;"));
    out.clear();
    session.receive("+" + frame("qProcessInfo"), out);
    CHECK(out == "+" + frame("pid:1;triple:693338362d756e6b6e6f776e2d6e6f6e652d636f64653136;"
                             "endian:little;ptrsize:4;"));

    FakeTarget protected_mode({1}, arch::i386());
    Session session32(protected_mode);
    out.clear();
    session32.receive(frame("qHostInfo"), out);
    CHECK(out == "+" + frame("triple:693338362d756e6b6e6f776e2d6e6f6e65;endian:little;ptrsize:4;"
                             "watchpoint_exceptions_received:after;"));
}

TEST_CASE("non-stop mode: running threads have no stop, no pc and no registers") {
    Harness h;
    h.non_stop();
    h.packet("QListThreadsInStopReply");
    CHECK(h.packet("vCont;c:2") == "$OK#9a");
    CHECK(h.packet("jThreadsInfo") ==
          frame(R"([{"tid":1,"signal":5,"name":"cpu",)" + std::string(kJsonRegisters) + "]"));
    // "thread 2 is running: Device or resource busy" once error texts are on.
    CHECK(h.packet("qThreadStopInfo2") == frame("E10"));
    CHECK(h.packet("p10;thread:2;") == frame("E10"));
    CHECK(h.packet("p10;thread:1;") == frame("0010000000000000"));
    // thread-pcs lists every thread or none.
    CHECK(h.packet("qThreadStopInfo1") ==
          frame("T05thread:01;" + std::string(kExpedited) + "threads:01,02;"));
}
