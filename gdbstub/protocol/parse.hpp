// Packet payload -> typed Command.  parse_command picks a family parser from one table of
// packet names; each family parser gets the text after the name.  A malformed packet of a
// known family is ErrorKind::protocol; an unknown packet is Unsupported (empty reply).
// Pure: std + fmt + common/.
#pragma once

#include <optional>
#include <string_view>

#include "common/error.hpp"
#include "gdbstub/protocol/commands.hpp"

namespace hvgdb::gdbstub::protocol {

Result<Command> parse_command(std::string_view payload);

// Family parsers, given the arguments after the packet name (exposed for tests).
Result<Command> parse_query_supported(std::string_view args);      // after "qSupported:"
Result<Command> parse_read_features(std::string_view args);        // after "qXfer:features:read:"
Result<Command> parse_read_threads(std::string_view args);         // after "qXfer:threads:read:"
Result<Command> parse_read_memory_map(std::string_view args);      // after "qXfer:memory-map:read:"
Result<Command> parse_memory_region_info(std::string_view args);   // after "qMemoryRegionInfo:"
Result<Command> parse_query_attached(std::string_view args);       // after "qAttached:"
Result<Command> parse_monitor(std::string_view args);              // after "qRcmd,"
Result<Command> parse_read_registers(std::string_view args);       // after 'g'
Result<Command> parse_read_register(std::string_view args);        // after 'p'
Result<Command> parse_write_register(std::string_view args);       // after 'P'
Result<Command> parse_write_registers(std::string_view args);      // after 'G'
Result<Command> parse_read_memory(std::string_view args);          // after 'm'
Result<Command> parse_write_memory_hex(std::string_view args);     // after 'M'
Result<Command> parse_write_memory_binary(std::string_view args);  // after 'X'
Result<Command> parse_continue(std::string_view args);             // after 'c'
Result<Command> parse_step(std::string_view args);                 // after 's'
Result<Command> parse_continue_signal(std::string_view args);      // after 'C'
Result<Command> parse_step_signal(std::string_view args);          // after 'S'
Result<Command> parse_vcont(std::string_view args);                // after "vCont"
Result<Command> parse_insert_breakpoint(std::string_view args);    // after 'Z'
Result<Command> parse_remove_breakpoint(std::string_view args);    // after 'z'
Result<Command> parse_set_thread(std::string_view args);           // after 'H'
Result<Command> parse_thread_alive(std::string_view args);         // after 'T'
Result<Command> parse_thread_extra_info(std::string_view args);    // after "qThreadExtraInfo,"
Result<Command> parse_thread_stop_info(std::string_view args);     // after "qThreadStopInfo"
Result<Command> parse_detach(std::string_view args);               // after 'D'
Result<Command> parse_vkill(std::string_view args);                // after "vKill"
Result<Command> parse_non_stop(std::string_view args);             // after "QNonStop:"

// thread-id syntax: "1", "-1", "0", "p1.2", "p1", "p-1.-1".
Result<ThreadSpec> parse_thread_spec(std::string_view text);

// lldb's thread suffix on g, G, p and P (QThreadSuffixSupported, lldb's
// docs/resources/lldbgdbremote.md): "<args>;thread:<thread-id>;" -> the args and the thread.
// Text without ";thread:" is all args, with no thread.
struct ThreadSuffix {
    std::string_view args;
    std::optional<ThreadSpec> thread;
};
Result<ThreadSuffix> split_thread_suffix(std::string_view text);

}  // namespace hvgdb::gdbstub::protocol
