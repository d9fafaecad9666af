// Test helpers for wire bytes, written independently of the writer: a frame with its
// checksum, for payloads that need no escaping.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace hvgdb::gdbstub::testing {

inline std::string frame(std::string_view payload) {
    unsigned sum = 0;
    for (unsigned char c : payload) sum += c;
    return fmt::format("${}#{:02x}", payload, sum & 0xff);
}

}  // namespace hvgdb::gdbstub::testing
