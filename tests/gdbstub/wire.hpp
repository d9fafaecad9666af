// Test helpers for wire bytes, written independently of the writer: a packet or notification
// frame with its checksum, for payloads that need no escaping.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace hvgdb::gdbstub::testing {

inline std::string frame(std::string_view payload, char start = '$') {
    unsigned sum = 0;
    for (unsigned char c : payload) sum += c;
    return fmt::format("{}{}#{:02x}", start, payload, sum & 0xff);
}

// A notification (gdb manual, "Notification Packets"): '%' instead of '$'.
inline std::string notification(std::string_view payload) {
    return frame(payload, '%');
}

}  // namespace hvgdb::gdbstub::testing
