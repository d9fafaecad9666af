// Breakpoint and watchpoint packets: 'Z type,addr,kind' and 'z type,addr,kind' (gdb manual,
// "Packets").  Conditions and commands (";X...", ";cmds:") are only sent to stubs that
// announce ConditionalBreakpoints / BreakpointCommands, which we do not, so they are
// malformed here.
#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

using detail::malformed;

namespace {

Result<Command> parse_breakpoint(bool insert, std::string_view args) {
    auto type_rest = detail::split_once(args, ',');
    if (!type_rest) return malformed("expected 'type,addr,kind'");
    auto type = detail::parse_hex_at_most(type_rest->first, 4, "breakpoint type");
    if (!type) return std::unexpected(type.error());
    auto address_kind = detail::split_once(type_rest->second, ',');
    if (!address_kind) return malformed("expected 'type,addr,kind'");
    auto address = parse_hex_u64(address_kind->first);
    if (!address) return std::unexpected(address.error());
    auto kind = parse_hex_u64(address_kind->second);
    if (!kind) return std::unexpected(kind.error());
    return Breakpoint{insert, static_cast<BreakpointKind>(*type), *address, *kind};
}

}  // namespace

Result<Command> parse_insert_breakpoint(std::string_view args) {
    return parse_breakpoint(true, args);
}
Result<Command> parse_remove_breakpoint(std::string_view args) {
    return parse_breakpoint(false, args);
}

}  // namespace hvgdb::gdbstub::protocol
