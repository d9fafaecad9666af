// The memory map packets: gdb's qXfer:memory-map:read (gdb manual, "General Query Packets"
// and "Memory Map Format") and lldb's qMemoryRegionInfo (lldb's
// docs/resources/lldbgdbremote.md).
#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

Result<Command> parse_read_memory_map(std::string_view args) {
    // The annex is empty for this object; the session answers any other with E00.
    auto window = detail::parse_xfer_window(args);
    if (!window) return std::unexpected(window.error());
    return ReadMemoryMap{std::string(window->annex), window->offset, window->length};
}

Result<Command> parse_memory_region_info(std::string_view args) {
    auto address = detail::parse_hex_at_most(args, UINT64_MAX, "qMemoryRegionInfo address");
    if (!address) return std::unexpected(address.error());
    return QueryMemoryRegion{*address};
}

}  // namespace hvgdb::gdbstub::protocol
