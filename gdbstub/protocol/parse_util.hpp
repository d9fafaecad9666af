// Small helpers shared by the family parsers: splitting at a separator, range-checked hex
// numbers and short quotes of client text for errors.  Internal to protocol/.  Pure: std +
// fmt + common/.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.hpp"
#include "gdbstub/protocol/hex.hpp"

namespace hvgdb::gdbstub::protocol::detail {

// "head<sep>tail" -> {head, tail}; nullopt when `sep` is absent.
inline std::optional<std::pair<std::string_view, std::string_view>> split_once(
    std::string_view text, char sep) {
    std::size_t at = text.find(sep);
    if (at == std::string_view::npos) return std::nullopt;
    return std::pair{text.substr(0, at), text.substr(at + 1)};
}

// Client text quoted in an error message, cut to a few dozen bytes: an error (which lldb
// gets back with QEnableErrorStrings) never grows with the packet that caused it.
inline std::string excerpt(std::string_view text) {
    constexpr std::size_t kMax = 40;
    if (text.size() <= kMax) return std::string(text);
    return fmt::format("{}...", text.substr(0, kMax));
}

template <typename... Args>
std::unexpected<Error> malformed(fmt::format_string<Args...> format, Args&&... args) {
    return make_error(ErrorKind::protocol, fmt::format(format, std::forward<Args>(args)...));
}

// Hex number no larger than `max`; `what` names the field in the error.
inline Result<std::uint64_t> parse_hex_at_most(std::string_view text, std::uint64_t max,
                                               std::string_view what) {
    auto value = parse_hex_u64(text);
    if (!value)
        return std::unexpected(
            Error{ErrorKind::protocol, 0, fmt::format("{}: {}", what, value.error().context)});
    if (*value > max) return malformed("{} {:#x} out of range", what, *value);
    return *value;
}

// "addr,length" as used by m, M, X and the qXfer offset field.
struct AddressLength {
    std::uint64_t address;
    std::uint64_t length;
};
inline Result<AddressLength> parse_address_length(std::string_view text) {
    auto parts = split_once(text, ',');
    if (!parts) return malformed("expected 'addr,length', got '{}'", excerpt(text));
    auto address = parse_hex_u64(parts->first);
    if (!address) return std::unexpected(address.error());
    auto length = parse_hex_u64(parts->second);
    if (!length) return std::unexpected(length.error());
    return AddressLength{*address, *length};
}

// "annex:offset,length", the arguments of every qXfer read (gdb manual, "General Query
// Packets", qXfer).  The annex is what comes before the last ':' and may be empty.
struct XferWindow {
    std::string_view annex;
    std::uint64_t offset;
    std::uint64_t length;
};
inline Result<XferWindow> parse_xfer_window(std::string_view text) {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return malformed("qXfer read without 'annex:offset,length'");
    auto window = parse_address_length(text.substr(colon + 1));
    if (!window) return std::unexpected(window.error());
    return XferWindow{text.substr(0, colon), window->address, window->length};
}

// A signal number: hex, one byte.
inline Result<std::uint8_t> parse_signal(std::string_view text) {
    auto value = parse_hex_at_most(text, 0xff, "signal");
    if (!value) return std::unexpected(value.error());
    return static_cast<std::uint8_t>(*value);
}

}  // namespace hvgdb::gdbstub::protocol::detail
