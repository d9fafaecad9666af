// Typed replies of the stub: a handler returns one of these and only writer.cpp turns it into
// wire syntax.  Pure: std only.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace hvgdb::gdbstub::protocol {

// Nothing at all is sent (resume requests wait for a stop; 'k' needs no reply).
struct NoReply {};
// "": the packet is not supported (gdb manual, "Overview").
struct EmptyReply {};
struct OkReply {};
// "Enn".
struct ErrorReply {
    std::uint8_t code = 1;
};

// Register contents for 'g' and 'p', in order.  An unavailable register is sent as 'x'
// digits (gdb manual, "Packets", 'g').
struct RegisterValue {
    std::vector<std::uint8_t> bytes;  // little-endian, the register's size
    bool available = true;
};
struct RegistersReply {
    std::vector<RegisterValue> registers;
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

// "O<hex>": text for the debugger's console, sent before a reply (monitor output, notes
// before a stop reply).
struct ConsoleOutput {
    std::string text;
};

using Response =
    std::variant<NoReply, EmptyReply, OkReply, ErrorReply, RegistersReply, MemoryReply, StopReply,
                 ExitedReply, TerminatedReply, SupportedReply, VContActionsReply, ThreadListReply,
                 CurrentThreadReply, AttachedReply, XferReply, ConsoleOutput>;

}  // namespace hvgdb::gdbstub::protocol
