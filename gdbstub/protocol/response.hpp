// Typed replies of the stub: a handler returns one of these and only writer.cpp turns it into
// wire syntax.  Pure: std only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hvgdb::gdbstub::protocol {

// Nothing at all is sent (resume requests wait for a stop; 'k' needs no reply).
struct NoReply {};
// "": the packet is not supported (gdb manual, "Overview").
struct EmptyReply {};
struct OkReply {};
// "Enn", or "Enn;<text in hex>" for a client that sent lldb's QEnableErrorStrings.
struct ErrorReply {
    std::uint8_t code = 1;
    std::string text = {};  // empty: none
};

// Register contents for 'g' and 'p': the registers' bytes in order, each little-endian.  An
// unavailable register is sent as 'x' digits (gdb manual, "Packets", 'g').
struct RegistersReply {
    struct Span {
        std::size_t offset = 0;
        std::size_t size = 0;
        bool operator==(const Span&) const = default;
    };
    std::vector<std::uint8_t> bytes;
    std::vector<Span> unavailable = {};  // the unavailable registers' bytes, in order
};

// Memory contents for 'm'.
struct MemoryReply {
    std::vector<std::uint8_t> bytes;
};

enum class StopCause { none, swbreak, hwbreak, watch, rwatch, awatch };

// "T" stop reply (gdb manual, "Stop Reply Packets").
struct StopReply {
    struct Register {
        std::size_t regno;
        std::vector<std::uint8_t> bytes;  // little-endian
    };
    std::uint8_t signal = 5;
    std::uint32_t thread = 1;
    std::vector<Register> registers;  // expedited, in this order
    StopCause cause = StopCause::none;
    std::uint64_t data_address = 0;  // for watch, rwatch and awatch
    // lldb's QListThreadsInStopReply: "threads:01,02;" names every thread, and
    // "thread-pcs:100000,100010;" their pcs in the same order when `thread_pcs` is not empty.
    std::vector<std::uint32_t> threads = {};
    std::vector<std::uint64_t> thread_pcs = {};
};
// "Wxx": the process exited with this status.
struct ExitedReply {
    std::uint8_t status = 0;
};
// "Xxx": the process was terminated by this signal.
struct TerminatedReply {
    std::uint8_t signal = 9;
};

// qSupported: "PacketSize=..;feature;feature".
struct SupportedReply {
    std::size_t packet_size = 0;
    std::vector<std::string> features;  // each with its '+', '-' or "=value"
};
// vCont?: "vCont;c;C;s;S;t".
struct VContActionsReply {
    std::string actions;  // one letter per supported action
};
// qfThreadInfo / qsThreadInfo: "m1,2" or "l" when `threads` is empty.
struct ThreadListReply {
    std::vector<std::uint32_t> threads;
};
// qC: "QC<tid>".
struct CurrentThreadReply {
    std::uint32_t thread = 1;
};
// qAttached: "1" attached to an existing process, "0" created by the stub.
struct AttachedReply {
    bool attached = true;
};
// qXfer read: "m<data>" when more may follow, "l<data>" at the end.
struct XferReply {
    bool more = false;
    std::string data;
};

// qMemoryRegionInfo (lldb's docs/resources/lldbgdbremote.md):
// "start:<hex>;size:<hex>;permissions:<rwx letters>;", without permissions for a range that
// is not memory.
struct MemoryRegionInfoReply {
    std::uint64_t start = 0;
    std::uint64_t size = 0;
    std::string permissions;  // empty: no permissions key
};

// lldb's replies (lldb's docs/resources/lldbgdbremote.md).

// qHostInfo and qProcessInfo: "[pid:1;]triple:<hex>;endian:little;ptrsize:8;" and for
// qHostInfo "watchpoint_exceptions_received:after;" when watchpoints stop after the access.
// Every target the stub serves is little-endian (see RegisterValue).
struct HostInfoReply {
    std::optional<std::uint32_t> pid = {};  // qProcessInfo's process id
    std::string triple = {};                // LLVM target triple ("x86_64-unknown-none")
    std::size_t pointer_size = 8;           // bytes
    bool watch_stops_after = false;
};
// qGDBServerVersion: "name:hvgdb;version:0.1.0;".
struct ServerVersionReply {
    std::string name = {};
    std::string version = {};
};
// qWatchpointSupportInfo: "num:<decimal count>;".
struct WatchpointSupportReply {
    std::size_t count = 0;
};
// Why a thread stopped, in lldb's words ("reason" in jThreadsInfo).
enum class LldbStopReason { none, breakpoint, trace, watchpoint };
// jThreadsInfo: a JSON array with one object per thread, e.g.
// [{"tid":1,"signal":5,"reason":"breakpoint","name":"vCPU 0","registers":{"16":"<hex>"}}].
// Numbers are decimal; registers are keyed by decimal register number, their bytes in hex.
struct ThreadsInfoReply {
    struct Thread {
        std::uint32_t tid = 1;
        std::uint8_t signal = 0;  // 0: no "signal" key
        LldbStopReason reason = LldbStopReason::none;
        std::uint64_t watch_address = 0;  // watchpoint: "description" is it in decimal
        std::string name = {};            // empty: no "name" key
        std::vector<StopReply::Register> registers = {};  // expedited
    };
    std::vector<Thread> threads = {};
};

// "O<hex>": text for the debugger's console, sent before a reply (monitor output, notes
// before a stop reply).
struct ConsoleOutput {
    std::string text;
};

using Response =
    std::variant<NoReply, EmptyReply, OkReply, ErrorReply, RegistersReply, MemoryReply, StopReply,
                 ExitedReply, TerminatedReply, SupportedReply, VContActionsReply, ThreadListReply,
                 CurrentThreadReply, AttachedReply, XferReply, MemoryRegionInfoReply, HostInfoReply,
                 ServerVersionReply, WatchpointSupportReply, ThreadsInfoReply, ConsoleOutput>;

}  // namespace hvgdb::gdbstub::protocol
