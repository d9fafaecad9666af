// Fuzz target: parse_command, the table of packet names in front of every family parser.
// Input: a packet payload as the decoder hands it over.  Checked: an unknown packet is a
// value (Unsupported, answered with the empty reply), a malformed one ErrorKind::protocol.
#include "check_parsed.hpp"
#include "gdbstub/protocol/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Viewing bytes as chars: same size and representation.
    std::string_view payload(reinterpret_cast<const char*>(data), size);
    hvgdb::fuzz::check_parsed(hvgdb::gdbstub::protocol::parse_command(payload));
    return 0;
}
