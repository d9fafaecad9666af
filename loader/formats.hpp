// The per-format loaders that load() dispatches to.  Internal to loader/.
#pragma once

#include <cstdint>
#include <span>

#include "loader/elf.hpp"
#include "loader/loader.hpp"

namespace hvgdb::loader {

inline constexpr std::uint64_t kBootSectorAddress = 0x7c00;
inline constexpr std::uint64_t kSectorSize = 512;
// The largest firmware ROM: it ends at 4 GiB, and 16 MiB is the flash size of current boards.
inline constexpr std::uint64_t kMaxFirmwareBytes = std::uint64_t{16} << 20;

// True when the image is at least one sector and bytes 510-511 are 55 AA.
bool has_boot_signature(std::span<const std::uint8_t> image);

// A boot sector (or a disk image whose first sector is one) at 0000:7c00 in real mode.
Result<LoadedImage> load_boot_sector(std::span<const std::uint8_t> image, GuestMemory& memory,
                                     const LoadOptions& options);

// A firmware ROM image mapped to end at 4 GiB (its last 128 KiB also below 1 MiB), started
// in the processor's reset state at the reset vector.
Result<LoadedImage> load_firmware(std::span<const std::uint8_t> image, GuestMemory& memory,
                                  const LoadOptions& options);

// Bytes at options.load_addr, started in options.mode (real by default).
Result<LoadedImage> load_raw(std::span<const std::uint8_t> image, GuestMemory& memory,
                             const LoadOptions& options);

}  // namespace hvgdb::loader
