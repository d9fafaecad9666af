// Small helpers shared by the loader's parsers: little-endian reads, overflow-checked
// arithmetic and the number formats used in error messages.  Internal to loader/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace hvgdb::loader {

// Little-endian reads.  The caller has checked that [offset, offset + N) lies in `bytes`.
inline std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::size_t offset) {
    return static_cast<std::uint16_t>(bytes[offset] | (bytes[offset + 1] << 8));
}

inline std::uint32_t read_u32(std::span<const std::uint8_t> bytes, std::size_t offset) {
    return static_cast<std::uint32_t>(read_u16(bytes, offset)) |
           (static_cast<std::uint32_t>(read_u16(bytes, offset + 2)) << 16);
}

inline std::uint64_t read_u64(std::span<const std::uint8_t> bytes, std::size_t offset) {
    return static_cast<std::uint64_t>(read_u32(bytes, offset)) |
           (static_cast<std::uint64_t>(read_u32(bytes, offset + 4)) << 32);
}

inline void write_u64(std::span<std::uint8_t> bytes, std::size_t offset, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) bytes[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

inline void write_u32(std::span<std::uint8_t> bytes, std::size_t offset, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

inline void write_u16(std::span<std::uint8_t> bytes, std::size_t offset, std::uint16_t value) {
    bytes[offset] = static_cast<std::uint8_t>(value);
    bytes[offset + 1] = static_cast<std::uint8_t>(value >> 8);
}

// a + b, or nothing when the sum does not fit in 64 bits.
inline std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
    std::uint64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
    return sum;
}

// True when [start, start + size) lies inside [0, limit) without overflowing.
inline bool fits_below(std::uint64_t start, std::uint64_t size, std::uint64_t limit) {
    return start <= limit && size <= limit - start;
}

// True when the non-empty ranges [a, a + a_size) and [b, b + b_size) share a byte; the ranges
// must not wrap (callers check that first).
inline bool overlaps(std::uint64_t a, std::uint64_t a_size, std::uint64_t b, std::uint64_t b_size) {
    return a < b + b_size && b < a + a_size;
}

inline constexpr std::uint64_t align_down(std::uint64_t value, std::uint64_t align) {
    return value & ~(align - 1);  // align is a power of two
}

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;

// "128 MiB", "4 GiB", "16 KiB", or "1000 bytes" when not a whole multiple.
std::string describe_size(std::uint64_t bytes);

}  // namespace hvgdb::loader
