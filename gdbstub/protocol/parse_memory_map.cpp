// The memory map packets: gdb's qXfer:memory-map:read (gdb manual, "General Query Packets"
// and "Memory Map Format") and lldb's qMemoryRegionInfo (lldb's
// docs/resources/lldbgdbremote.md); and gdb's qXfer:threads:read ("Thread List Format"),
// the other object read with an empty annex.
#include "gdbstub/protocol/parse.hpp"
#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

namespace {

// A read of a qXfer object that has no annex; the session answers any other annex with E00.
template <class Read>
Result<Command> parse_unnamed_object_read(std::string_view args) {
    auto window = detail::parse_xfer_window(args);
    if (!window) return std::unexpected(window.error());
    return Read{std::string(window->annex), window->offset, window->length};
}

}  // namespace

Result<Command> parse_read_memory_map(std::string_view args) {
    return parse_unnamed_object_read<ReadMemoryMap>(args);
}

Result<Command> parse_read_threads(std::string_view args) {
    return parse_unnamed_object_read<ReadThreads>(args);
}

Result<Command> parse_memory_region_info(std::string_view args) {
    auto address = detail::parse_hex_at_most(args, UINT64_MAX, "qMemoryRegionInfo address");
    if (!address) return std::unexpected(address.error());
    return QueryMemoryRegion{*address};
}

}  // namespace hvgdb::gdbstub::protocol
