// Thread ids and the packets that name one thread: H and T (gdb manual, "Packets", thread-id
// syntax), lldb's qThreadStopInfo and its thread suffix (lldb's docs/resources/
// lldbgdbremote.md).
#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

using detail::malformed;

namespace {

// "-1" all, "0" any, else a positive hex id that fits a 32-bit ThreadId.
Result<IdSpec> parse_id(std::string_view text) {
    if (text == "-1") return IdSpec{IdSpec::Kind::all, 0};
    auto id = detail::parse_hex_at_most(text, UINT32_MAX, "thread or process id");
    if (!id) return std::unexpected(id.error());
    if (*id == 0) return IdSpec{IdSpec::Kind::any, 0};
    return IdSpec{IdSpec::Kind::one, static_cast<std::uint32_t>(*id)};
}

}  // namespace

Result<ThreadSpec> parse_thread_spec(std::string_view text) {
    if (!text.starts_with('p')) {
        auto thread = parse_id(text);
        if (!thread) return std::unexpected(thread.error());
        return ThreadSpec{std::nullopt, *thread};
    }
    auto parts = detail::split_once(text.substr(1), '.');
    auto process = parse_id(parts ? parts->first : text.substr(1));
    if (!process) return std::unexpected(process.error());
    // "p<pid>" alone means every thread of that process.
    IdSpec thread{IdSpec::Kind::all, 0};
    if (parts) {
        auto parsed = parse_id(parts->second);
        if (!parsed) return std::unexpected(parsed.error());
        thread = *parsed;
    }
    return ThreadSpec{*process, thread};
}

Result<Command> parse_set_thread(std::string_view args) {
    if (args.empty()) return malformed("'H' without an operation");
    SetThread set;
    switch (args.front()) {
        case 'g':
            set.purpose = SetThread::Purpose::registers;
            break;
        case 'c':
            set.purpose = SetThread::Purpose::resume;
            break;
        default:
            return malformed("unsupported 'H' operation '{}'", args.front());
    }
    auto thread = parse_thread_spec(args.substr(1));
    if (!thread) return std::unexpected(thread.error());
    set.thread = *thread;
    return set;
}

Result<Command> parse_thread_alive(std::string_view args) {
    auto thread = parse_thread_spec(args);
    if (!thread) return std::unexpected(thread.error());
    return ThreadAlive{*thread};
}

Result<Command> parse_thread_extra_info(std::string_view args) {
    auto thread = parse_thread_spec(args);
    if (!thread) return std::unexpected(thread.error());
    return QueryThreadExtraInfo{*thread};
}

Result<Command> parse_thread_stop_info(std::string_view args) {
    auto thread = parse_thread_spec(args);
    if (!thread) return std::unexpected(thread.error());
    return QueryThreadStopInfo{*thread};
}

Result<ThreadSuffix> split_thread_suffix(std::string_view text) {
    constexpr std::string_view key = ";thread:";
    std::size_t at = text.rfind(key);
    if (at == std::string_view::npos) return ThreadSuffix{text, std::nullopt};
    std::string_view id = text.substr(at + key.size());
    if (!id.ends_with(';'))
        return malformed("thread suffix '{}' does not end with ';'", detail::excerpt(id));
    id.remove_suffix(1);
    auto thread = parse_thread_spec(id);
    if (!thread) return std::unexpected(thread.error());
    return ThreadSuffix{text.substr(0, at), *thread};
}

}  // namespace hvgdb::gdbstub::protocol
