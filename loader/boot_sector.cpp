// Boot sectors: 512 bytes ending in 55 AA, run in real mode at 0000:7c00 with DL = 0x80 as a
// BIOS leaves them.  A larger disk image whose first sector is a boot sector is loaded whole
// when it fits in conventional memory, so multi-stage loaders find their later sectors.
#include <algorithm>

#include <fmt/format.h>

#include "loader/bytes.hpp"
#include "loader/errors.hpp"
#include "loader/formats.hpp"
#include "loader/placement.hpp"
#include "loader/x86_state.hpp"

namespace hvgdb::loader {
namespace {

constexpr std::uint64_t kBootDrive = 0x80;  // first hard disk

}  // namespace

bool has_boot_signature(std::span<const std::uint8_t> image) {
    return image.size() >= kSectorSize && image[510] == 0x55 && image[511] == 0xaa;
}

Result<LoadedImage> load_boot_sector(std::span<const std::uint8_t> image, GuestMemory& memory,
                                     const LoadOptions& options) {
    if (image.size() < kSectorSize)
        return invalid("a boot sector needs 512 bytes ending in 55 AA; the image has {} bytes",
                       image.size());
    if (!has_boot_signature(image))
        return invalid("not a boot sector: bytes 510-511 are {:02x} {:02x}, not 55 AA", image[510],
                       image[511]);
    const std::uint64_t ram = memory.size();
    if (!fits_below(kBootSectorAddress, kSectorSize, ram))
        return invalid("RAM ({}) too small for a boot sector at 0x7c00..0x7e00",
                       describe_size(ram));

    const std::uint64_t limit = std::min(ram, kConventionalEnd);
    const bool whole = fits_below(kBootSectorAddress, image.size(), limit);
    const auto bytes = whole ? image : image.first(kSectorSize);

    auto start = real_mode_entry(options.entry.value_or(kBootSectorAddress));
    if (!start) return std::unexpected(start.error());

    LoadedImage loaded;
    loaded.format = Format::boot_sector;
    loaded.cpu = real_mode_state(start->cs, start->ip, 0, kBootSectorAddress);
    loaded.cpu.rdx = kBootDrive;
    loaded.entry = loaded.cpu.cs.base + loaded.cpu.rip;
    loaded.loaded.push_back({kBootSectorAddress, bytes.size()});

    const std::string at = fmt::format("real mode {:04x}:{:04x}", start->cs, start->ip);
    if (image.size() == kSectorSize)
        loaded.description = fmt::format("boot sector, 512 bytes at 0x7c00, {}", at);
    else if (whole)
        loaded.description = fmt::format("boot sector + disk image, {} bytes at 0x7c00..{:#x}, {}",
                                         image.size(), kBootSectorAddress + image.size(), at);
    else
        loaded.description = fmt::format(
            "boot sector, 512 bytes at 0x7c00 (first sector only: the {}-byte disk image does "
            "not fit below {:#x}), {}",
            image.size(), limit, at);

    if (auto ok = memory.write(kBootSectorAddress, bytes); !ok) return std::unexpected(ok.error());
    return loaded;
}

}  // namespace hvgdb::loader
