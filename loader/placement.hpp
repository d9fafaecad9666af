// Finds room in guest RAM for what the loader sets up itself (GDT, page tables, stack), away
// from the image and from real-mode low memory.  Internal to loader/; depends on loader.hpp.
//
// Strategy: the highest free, aligned slot in conventional memory [0x500, 0x9fc00) first, then
// the highest one in extended memory [1 MiB, min(RAM, 4 GiB)).  Conventional memory comes
// first because a kernel that gets no memory map usually treats everything above its own image
// as free and leaves the low 1 MiB alone; below 0x500 lie the IVT and BIOS data area, and
// 0x9fc00..1 MiB is the EBDA and the legacy video/ROM hole.  Everything stays below 4 GiB so
// 32-bit code can reach it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "loader/loader.hpp"

namespace hvgdb::loader {

inline constexpr std::uint64_t kConventionalStart = 0x500;
inline constexpr std::uint64_t kConventionalEnd = 0x9fc00;
inline constexpr std::uint64_t kExtendedStart = 0x100000;

class Placement {
  public:
    // `occupied` ranges must not wrap around the address space.
    Placement(std::uint64_t ram_size, std::span<const LoadedImage::Range> occupied);

    // The base of a free slot of `size` bytes aligned to `align` (a power of two), now marked
    // used; nothing when no window has room.  conventional_only: for real-mode structures.
    std::optional<std::uint64_t> allocate(std::uint64_t size, std::uint64_t align,
                                          bool conventional_only = false);

  private:
    std::optional<std::uint64_t> highest_slot(LoadedImage::Range window, std::uint64_t size,
                                              std::uint64_t align) const;

    std::vector<LoadedImage::Range> windows_;  // conventional first
    std::vector<LoadedImage::Range> used_;
};

}  // namespace hvgdb::loader
