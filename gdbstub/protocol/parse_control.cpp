// Ending the session: 'D', 'D;pid' and 'vKill;pid' (gdb manual, "Packets").  'k' and '?' take
// no arguments and are handled by the table in parse_command.cpp.
#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

using detail::malformed;

namespace {

Result<std::uint32_t> parse_pid(std::string_view text) {
    auto pid = detail::parse_hex_at_most(text, UINT32_MAX, "pid");
    if (!pid) return std::unexpected(pid.error());
    return static_cast<std::uint32_t>(*pid);
}

}  // namespace

Result<Command> parse_detach(std::string_view args) {
    if (args.empty()) return Detach{};
    if (!args.starts_with(';')) return malformed("expected 'D' or 'D;pid'");
    auto pid = parse_pid(args.substr(1));
    if (!pid) return std::unexpected(pid.error());
    return Detach{*pid};
}

Result<Command> parse_vkill(std::string_view args) {
    auto pid = parse_pid(args);
    if (!pid) return std::unexpected(pid.error());
    return VKill{*pid};
}

}  // namespace hvgdb::gdbstub::protocol
