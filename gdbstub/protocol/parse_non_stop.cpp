// Non-stop mode: 'QNonStop:0' and 'QNonStop:1' (gdb manual, "General Query Packets").
// 'vStopped' and 'vCtrlC' take no arguments and are handled by the table in
// parse_command.cpp.
#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

Result<Command> parse_non_stop(std::string_view args) {
    if (args == "1") return SetNonStop{true};
    if (args == "0") return SetNonStop{false};
    return detail::malformed("expected 'QNonStop:0' or 'QNonStop:1', got 'QNonStop:{}'",
                             detail::excerpt(args));
}

}  // namespace hvgdb::gdbstub::protocol
