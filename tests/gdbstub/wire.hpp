// Test helpers for wire bytes, written independently of the writer: a packet or notification
// frame with its checksum, for payloads that need no escaping, run-length encoded as the stub
// sends it (gdb manual, "Overview").  A client packet framed here decodes to the same payload
// (the stub's decoder expands runs too).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace hvgdb::gdbstub::testing {

// Each run of 4 to 98 equal characters as the character, '*' and 29 + the number of copies
// after the first; a run of 7 or 8, whose count would be '#' or '$', as 6 and the rest.
inline std::string run_length_encoded(std::string_view payload) {
    std::string out;
    std::size_t at = 0;
    while (at < payload.size()) {
        std::size_t length = payload.find_first_not_of(payload[at], at) - at;
        length = std::min(length, payload.size() - at);
        length = std::min<std::size_t>(length, 98);
        if (length == 7 || length == 8) length = 6;
        out += payload[at];
        if (length < 4) {
            at += 1;
            continue;
        }
        out += '*';
        out += static_cast<char>(29 + length - 1);
        at += length;
    }
    return out;
}

inline std::string frame(std::string_view payload, char start = '$') {
    const std::string data = run_length_encoded(payload);
    unsigned sum = 0;
    for (unsigned char c : data) sum += c;
    return fmt::format("{}{}#{:02x}", start, data, sum & 0xff);
}

// The payload a client reads from one frame: escapes undone and runs expanded in one pass,
// a run repeating the character decoded last (as lldb reads replies).
inline std::string payload_of(std::string_view frame) {
    std::string payload;
    const std::size_t end = frame.rfind('#');
    for (std::size_t i = 1; i < end && end != std::string_view::npos; ++i) {
        if (frame[i] == '*' && i + 1 < end && !payload.empty())
            payload.append(static_cast<std::size_t>(frame[++i] - 29), payload.back());
        else if (frame[i] == '}' && i + 1 < end)
            payload.push_back(static_cast<char>(frame[++i] ^ 0x20));
        else
            payload.push_back(frame[i]);
    }
    return payload;
}

// A notification (gdb manual, "Notification Packets"): '%' instead of '$'.
inline std::string notification(std::string_view payload) {
    return frame(payload, '%');
}

}  // namespace hvgdb::gdbstub::testing
