// Firmware ROM images (a BIOS, coreboot, a hobby ROM): read-only memory that ends at 4 GiB,
// its last 128 KiB (or all of a smaller image) shown again just below 1 MiB, and the CPU in
// its reset state at the reset vector (Intel SDM vol. 3A, 9.1.4 and table 9-1).  Chosen only
// by --format firmware: any file could be a ROM image.
#include <algorithm>

#include <fmt/format.h>

#include "loader/bytes.hpp"
#include "loader/errors.hpp"
#include "loader/formats.hpp"
#include "loader/x86_state.hpp"

namespace hvgdb::loader {
namespace {

constexpr std::uint64_t kRomPage = 4 * kKiB;  // the host maps memory in pages
constexpr std::uint64_t kFourGiB = 4 * kGiB;
constexpr std::uint64_t kLowAliasEnd = kMiB;        // the legacy BIOS area ends at 1 MiB
constexpr std::uint64_t kMaxLowAlias = 128 * kKiB;  // 0xe0000..0xfffff

// After RESET the first instruction is fetched at CS.base + IP = 0xffff0000 + 0xfff0.
constexpr std::uint16_t kResetSelector = 0xf000;
constexpr std::uint64_t kResetCsBase = 0xffff0000;
constexpr std::uint16_t kResetIp = 0xfff0;

}  // namespace

// EDX after RESET holds the processor signature, family, model and stepping as CPUID leaf 1
// reports them (SDM table 9-1: 000n06xxH); the machine tells which (LoadOptions).
CpuState reset_state(std::uint32_t signature) {
    CpuState cpu = real_mode_state(kResetSelector, kResetIp, 0, 0);
    cpu.cs.base = kResetCsBase;  // not selector << 4 until the first far jump reloads CS
    cpu.rdx = signature;
    return cpu;  // EAX = 0 (no BIST), the other registers, GDTR and IDTR as at reset
}

Result<LoadedImage> load_firmware(std::span<const std::uint8_t> image, GuestMemory& memory,
                                  const LoadOptions& options) {
    const std::uint64_t size = image.size();
    if (size % kRomPage != 0)
        return invalid(
            "a firmware image is a whole number of 4 KiB pages (ROMs are usually 64 KiB to "
            "16 MiB); this one has {} bytes",
            size);
    if (size > kMaxFirmwareBytes)
        return invalid("firmware image of {} is larger than the 16 MiB limit", describe_size(size));
    const std::uint64_t base = kFourGiB - size;
    const std::uint64_t ram = memory.size();
    if (ram > base)
        return invalid(
            "RAM ({}) reaches into the firmware at {:#x}..0xffffffff; give --memory {} or less",
            describe_size(ram), base, describe_size(base));

    const std::uint64_t alias_size = std::min(size, kMaxLowAlias);
    const std::uint64_t alias_gpa = kLowAliasEnd - alias_size;
    LoadedImage loaded;
    loaded.format = Format::firmware;
    loaded.cpu = reset_state(options.processor_signature);
    loaded.entry = kResetCsBase + kResetIp;
    loaded.loaded.push_back({base, size});
    loaded.loaded.push_back({alias_gpa, alias_size});
    loaded.rom =
        LoadedImage::Rom{image, {{base, 0, size}, {alias_gpa, size - alias_size, alias_size}}};
    const std::string alias =
        alias_size == size ? "also" : fmt::format("its last {} also", describe_size(alias_size));
    loaded.description = fmt::format(
        "firmware, {} read-only at {:#x}..0xffffffff ({} at {:#x}..0xfffff), reset vector "
        "f000:fff0",
        describe_size(size), base, alias, alias_gpa);
    return loaded;
}

}  // namespace hvgdb::loader
