// The one table of packet names the stub understands -> family parsers.  Order matters:
// the first matching row wins, so longer names come before their prefixes.
#include <array>

#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

namespace {

using Parser = Result<Command> (*)(std::string_view args);

struct PacketName {
    std::string_view name;
    enum class Match { exact, prefix } match;
    Parser parse;
};

template <typename C>
Result<Command> no_arguments(std::string_view) {
    return C{};
}

Result<Command> vcont_without_actions(std::string_view) {
    return detail::malformed("vCont without actions");
}

Result<Command> thread_list_next(std::string_view) {
    return QueryThreadList{false};
}

// A 'v' packet's name ends at the first ';' (gdb manual, "Packets", 'v'): "vStopped;x" is
// vStopped with arguments it does not take, while "vStoppedx" is another, unknown packet.
Result<Command> unexpected_arguments(std::string_view args) {
    return detail::malformed("unexpected arguments '{}'", detail::excerpt(args));
}

using M = PacketName::Match;

constexpr std::array kPackets{
    PacketName{"qSupported", M::exact, no_arguments<QuerySupported>},
    PacketName{"qSupported:", M::prefix, parse_query_supported},
    PacketName{"QStartNoAckMode", M::exact, no_arguments<StartNoAckMode>},
    PacketName{"qXfer:features:read:", M::prefix, parse_read_features},
    PacketName{"qXfer:memory-map:read:", M::prefix, parse_read_memory_map},
    PacketName{"qXfer:threads:read:", M::prefix, parse_read_threads},
    PacketName{"qMemoryRegionInfo:", M::prefix, parse_memory_region_info},
    PacketName{"qAttached", M::exact, no_arguments<QueryAttached>},
    PacketName{"qAttached:", M::prefix, parse_query_attached},
    PacketName{"qRcmd,", M::prefix, parse_monitor},
    PacketName{"qThreadExtraInfo,", M::prefix, parse_thread_extra_info},
    PacketName{"qC", M::exact, no_arguments<QueryCurrentThread>},
    PacketName{"qfThreadInfo", M::exact, no_arguments<QueryThreadList>},
    PacketName{"qsThreadInfo", M::exact, thread_list_next},
    PacketName{"vCont?", M::exact, no_arguments<QueryVCont>},
    PacketName{"vCont;", M::prefix, parse_vcont},
    PacketName{"vCont", M::exact, vcont_without_actions},
    PacketName{"vKill;", M::prefix, parse_vkill},
    PacketName{"QNonStop:", M::prefix, parse_non_stop},
    PacketName{"vStopped", M::exact, no_arguments<VStopped>},
    PacketName{"vStopped;", M::prefix, unexpected_arguments},
    PacketName{"vCtrlC", M::exact, no_arguments<VCtrlC>},
    PacketName{"vCtrlC;", M::prefix, unexpected_arguments},
    // lldb's extensions (lldb's docs/resources/lldbgdbremote.md).
    PacketName{"qHostInfo", M::exact, no_arguments<QueryHostInfo>},
    PacketName{"qProcessInfo", M::exact, no_arguments<QueryProcessInfo>},
    PacketName{"QThreadSuffixSupported", M::exact, no_arguments<EnableThreadSuffix>},
    PacketName{"QListThreadsInStopReply", M::exact, no_arguments<ListThreadsInStopReply>},
    PacketName{"jThreadsInfo", M::exact, no_arguments<QueryThreadsInfo>},
    PacketName{"qThreadStopInfo", M::prefix, parse_thread_stop_info},
    PacketName{"qWatchpointSupportInfo", M::exact, no_arguments<QueryWatchpointSupport>},
    PacketName{"qWatchpointSupportInfo:", M::exact, no_arguments<QueryWatchpointSupport>},
    PacketName{"qGDBServerVersion", M::exact, no_arguments<QueryServerVersion>},
    PacketName{"QEnableErrorStrings", M::exact, no_arguments<EnableErrorStrings>},
    PacketName{"?", M::exact, no_arguments<QueryHaltReason>},
    PacketName{"g", M::prefix, parse_read_registers},
    PacketName{"G", M::prefix, parse_write_registers},
    PacketName{"p", M::prefix, parse_read_register},
    PacketName{"P", M::prefix, parse_write_register},
    PacketName{"m", M::prefix, parse_read_memory},
    PacketName{"M", M::prefix, parse_write_memory_hex},
    PacketName{"X", M::prefix, parse_write_memory_binary},
    PacketName{"c", M::prefix, parse_continue},
    PacketName{"s", M::prefix, parse_step},
    PacketName{"C", M::prefix, parse_continue_signal},
    PacketName{"S", M::prefix, parse_step_signal},
    PacketName{"Z", M::prefix, parse_insert_breakpoint},
    PacketName{"z", M::prefix, parse_remove_breakpoint},
    PacketName{"H", M::prefix, parse_set_thread},
    PacketName{"T", M::prefix, parse_thread_alive},
    PacketName{"D", M::prefix, parse_detach},
    PacketName{"k", M::exact, no_arguments<Kill>},
};

}  // namespace

Result<Command> parse_command(std::string_view payload) {
    for (const PacketName& packet : kPackets) {
        bool matches =
            packet.match == M::exact ? payload == packet.name : payload.starts_with(packet.name);
        if (matches) return packet.parse(payload.substr(packet.name.size()));
    }
    // vMustReplyEmpty, qTStatus, qOffsets, qSymbol and everything else unknown: gdb manual,
    // "Overview": an empty response means the packet is not supported.
    return Unsupported{};
}

}  // namespace hvgdb::gdbstub::protocol
