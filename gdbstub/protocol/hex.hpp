// Hex text <-> bytes and numbers as the remote protocol writes them (gdb manual, "Overview"
// of the Remote Protocol: numbers are hex, most significant digit first; memory and
// register contents are two hex digits per byte in target byte order).  Pure: std + common/.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace hvgdb::gdbstub::protocol {

// Value of one hex digit (either case), nullopt for anything else.
std::optional<std::uint8_t> hex_digit_value(char c);

// Two lowercase hex digits per byte, in order.
void append_hex(std::string& out, std::span<const std::uint8_t> bytes);
std::string to_hex(std::span<const std::uint8_t> bytes);

// Lowercase hex of a number with no leading zeros ("0" for zero), as in "watch:7ffe0;" or
// "PacketSize="; padded with zeros to `min_digits` (the two of a checksum or "T05").
void append_hex_number(std::string& out, std::uint64_t value, std::size_t min_digits = 1);

// Even-length hex text -> bytes.  ErrorKind::protocol on odd length or a non-hex digit.
Result<std::vector<std::uint8_t>> decode_hex(std::string_view text);

// Non-empty hex text -> number.  ErrorKind::protocol on a non-hex digit or a value that does
// not fit in 64 bits (leading zeros are allowed).
Result<std::uint64_t> parse_hex_u64(std::string_view text);

}  // namespace hvgdb::gdbstub::protocol
