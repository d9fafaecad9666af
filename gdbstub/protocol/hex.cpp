// Hex helpers of the remote protocol.  See hex.hpp.
#include "gdbstub/protocol/hex.hpp"

#include <fmt/format.h>

#include "gdbstub/protocol/parse_util.hpp"

namespace hvgdb::gdbstub::protocol {

namespace {
constexpr char kDigits[] = "0123456789abcdef";
}  // namespace

std::optional<std::uint8_t> hex_digit_value(char c) {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
    return std::nullopt;
}

void append_hex(std::string& out, std::span<const std::uint8_t> bytes) {
    // Sized once and written through a pointer: a memory reply is tens of KiB of this.
    const std::size_t at = out.size();
    out.resize(at + bytes.size() * 2);
    char* p = out.data() + at;
    for (std::uint8_t b : bytes) {
        *p++ = kDigits[b >> 4];
        *p++ = kDigits[b & 0xf];
    }
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    append_hex(out, bytes);
    return out;
}

void append_hex_number(std::string& out, std::uint64_t value, std::size_t min_digits) {
    // Without a format string to parse: every stop reply and checksum has some of these.
    char digits[16];
    std::size_t n = 0;
    do {
        digits[n++] = kDigits[value & 0xf];
        value >>= 4;
    } while (value != 0);
    if (min_digits > n) out.append(min_digits - n, '0');
    while (n > 0) out.push_back(digits[--n]);
}

Result<std::vector<std::uint8_t>> decode_hex(std::string_view text) {
    if (text.size() % 2 != 0) {
        return make_error(ErrorKind::protocol,
                          fmt::format("odd-length hex data ({} digits)", text.size()));
    }
    std::vector<std::uint8_t> bytes;
    bytes.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        auto hi = hex_digit_value(text[i]);
        auto lo = hex_digit_value(text[i + 1]);
        if (!hi || !lo) return make_error(ErrorKind::protocol, "bad hex digit in data");
        bytes.push_back(static_cast<std::uint8_t>(*hi << 4 | *lo));
    }
    return bytes;
}

Result<std::uint64_t> parse_hex_u64(std::string_view text) {
    if (text.empty()) return make_error(ErrorKind::protocol, "missing hex number");
    std::uint64_t value = 0;
    for (char c : text) {
        auto digit = hex_digit_value(c);
        if (!digit)
            return make_error(ErrorKind::protocol,
                              fmt::format("bad hex number '{}'", detail::excerpt(text)));
        if (value >> 60 != 0) {
            return make_error(ErrorKind::protocol, fmt::format("hex number '{}' overflows 64 bits",
                                                               detail::excerpt(text)));
        }
        value = value << 4 | *digit;
    }
    return value;
}

}  // namespace hvgdb::gdbstub::protocol
