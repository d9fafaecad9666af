// Handlers for lldb's extensions (lldb's docs/resources/lldbgdbremote.md): what the target is
// (qHostInfo, qProcessInfo, qGDBServerVersion), every thread's stop at once
// (QListThreadsInStopReply, jThreadsInfo, qThreadStopInfo), the thread suffix of g, G, p and P
// (QThreadSuffixSupported), watchpoint slots (qWatchpointSupportInfo) and error texts
// (QEnableErrorStrings).  gdb sends none of these.
#include <fmt/format.h>

#include "gdbstub/session_impl.hpp"

namespace hvgdb::gdbstub {

namespace {

// The one process, numbered as resolve_thread expects it.
constexpr std::uint32_t kProcessId = 1;

protocol::LldbStopReason lldb_reason(StopReason reason) {
    switch (reason) {
        case StopReason::sw_break:
        case StopReason::hw_break:
            return protocol::LldbStopReason::breakpoint;
        case StopReason::step:
            return protocol::LldbStopReason::trace;
        case StopReason::watch:
        case StopReason::rwatch:
        case StopReason::awatch:
            return protocol::LldbStopReason::watchpoint;
        default:
            // A fault or an interrupt: the signal says it all.
            return protocol::LldbStopReason::none;
    }
}

// What qHostInfo and qProcessInfo both say about a register view.
Result<protocol::HostInfoReply> host_info(const arch::Arch& arch) {
    if (arch.triple.empty())
        return make_error(ErrorKind::unsupported, fmt::format("no triple for {}", arch.name));
    // A pointer is as wide as the pc: 8 bytes in long mode, 4 in protected and in real mode,
    // whose linear addresses the 32-bit view shows (lldb has no 16-bit targets).
    auto pc = arch::find_generic(arch, arch::Generic::pc);
    return protocol::HostInfoReply{.pid = std::nullopt,
                                   .triple = std::string(arch.triple),
                                   .pointer_size = pc ? arch.register_bytes(*pc) : 8,
                                   .watch_stops_after = false};
}

}  // namespace

Result<Response> Session::Impl::handle(const protocol::QueryHostInfo&) {
    auto info = host_info(target.arch());
    if (!info) return std::unexpected(info.error());
    // Watchpoints stop after the access, as x86 data breakpoints are traps (Intel SDM vol. 3B,
    // 17.2.5); the target's page-protection watches stop there too (Target::StopEvent).
    info->watch_stops_after = true;
    return *info;
}

Result<Response> Session::Impl::handle(const protocol::QueryProcessInfo&) {
    auto info = host_info(target.arch());
    if (!info) return std::unexpected(info.error());
    info->pid = kProcessId;
    return *info;
}

Result<Response> Session::Impl::handle(const protocol::EnableThreadSuffix&) {
    // The register parsers take the suffix whether or not it was announced.
    return protocol::OkReply{};
}

Result<Response> Session::Impl::handle(const protocol::ListThreadsInStopReply&) {
    list_threads_in_stop = true;
    return protocol::OkReply{};
}

void Session::Impl::list_threads(protocol::StopReply& reply) {
    auto threads = target.threads();
    reply.threads.assign(threads.begin(), threads.end());
    // thread-pcs lists every thread or none: a running thread's pc is not known (non-stop
    // mode), and then lldb asks for the pcs it needs.
    const arch::Arch& arch = target.arch();
    auto pc = arch::find_generic(arch, arch::Generic::pc);
    if (!pc) return;
    for (ThreadId thread : threads) {
        std::vector<std::uint8_t> bytes(arch.register_bytes(*pc));
        if ((non_stop && runs(thread)) || !target.read_register(thread, *pc, bytes)) {
            reply.thread_pcs.clear();
            return;
        }
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < bytes.size() && i < 8; ++i)
            value |= std::uint64_t{bytes[i]} << (8 * i);
        reply.thread_pcs.push_back(value);
    }
}

Result<Response> Session::Impl::handle(const protocol::QueryThreadsInfo&) {
    protocol::ThreadsInfoReply reply;
    for (ThreadId thread : target.threads()) {
        if (non_stop && runs(thread)) continue;  // it has no stop to tell
        StopEvent stop = thread_stop(thread);
        reply.threads.push_back({.tid = thread,
                                 .signal = stop.signal,
                                 .reason = lldb_reason(stop.reason),
                                 .watch_address = stop.data_address,
                                 .name = target.thread_description(thread),
                                 .registers = expedited_registers(thread)});
    }
    return reply;
}

Result<Response> Session::Impl::handle(const protocol::QueryThreadStopInfo& query) {
    auto thread = resolve_thread(query.thread);
    if (!thread) return std::unexpected(thread.error());
    if (!*thread) return make_error(ErrorKind::protocol, "qThreadStopInfo names no one thread");
    if (non_stop && runs(**thread))
        return make_error(ErrorKind::target, fmt::format("thread {} is running", **thread), EBUSY);
    return stop_response(thread_stop(**thread));
}

Result<Response> Session::Impl::handle(const protocol::QueryWatchpointSupport&) {
    std::size_t slots = target.watchpoint_slots();
    if (slots == 0) return make_error(ErrorKind::unsupported, "watchpoint slots unknown");
    return protocol::WatchpointSupportReply{slots};
}

Result<Response> Session::Impl::handle(const protocol::QueryServerVersion&) {
    return protocol::ServerVersionReply{"hvgdb", HVGDB_VERSION};
}

Result<Response> Session::Impl::handle(const protocol::EnableErrorStrings&) {
    error_strings = true;
    return protocol::OkReply{};
}

}  // namespace hvgdb::gdbstub
