// Fuzz target: an image with the options hvgdb's command line may add: a forced format
// (firmware and raw included), load address, entry, CPU mode, CPU count, RAM size, Multiboot
// command line and module.  Input: a 24-byte header, then the image:
//   0      format: auto, elf, boot sector, raw, multiboot, firmware (modulo 6)
//   1      bit 0 load address, 1 entry, 2 mode given; bits 3-4 the mode (real, protected,
//          long); bit 5 a command line; bit 6 the image's tail is a module
//   2      CPUs (0 and anything over 255 are errors)
//   3      RAM: 1 MiB, 2 MiB, 16 MiB, 128 MiB, 3 GiB, 4 GiB, 4 GiB + 4 KiB, 64 GiB (modulo 8)
//   4-11   load address, 12-19 entry (little-endian)
//   20-21  the module's size (little-endian), taken off the end of the image
//   22-23  unused
// Checked: see load_checks.hpp.
#include <array>

#include "load_checks.hpp"

namespace {

using namespace hvgdb::loader;

constexpr std::array kFormats{Format::automatic, Format::elf,       Format::boot_sector,
                              Format::raw,       Format::multiboot, Format::firmware};
constexpr std::array kModes{CpuMode::real, CpuMode::protected32, CpuMode::long64, CpuMode::real};
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::array<std::uint64_t, 8> kRamSizes{
    kMiB,        2 * kMiB,    16 * kMiB,          128 * kMiB,
    3072 * kMiB, 4096 * kMiB, 4096 * kMiB + 4096, 65536 * kMiB};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hvgdb::fuzz::Input input(data, size);
    LoadOptions options;
    options.format = kFormats[input.byte() % kFormats.size()];
    const std::uint8_t flags = input.byte();
    options.cpus = input.byte();
    const std::uint64_t ram = kRamSizes[input.byte() % kRamSizes.size()];
    const std::uint64_t load_addr = input.number(8);
    const std::uint64_t entry = input.number(8);
    const std::size_t module_size = input.number(2);
    input.number(2);
    if (flags & 1) options.load_addr = load_addr;
    if (flags & 2) options.entry = entry;
    if (flags & 4) options.mode = kModes[(flags >> 3) & 3];
    if (flags & 0x20) options.cmdline = "kernel console=ttyS0";
    if (flags & 0x40) {
        auto module = input.take_back(module_size);
        options.modules.push_back({"initrd.img root=/dev/ram0", {module.begin(), module.end()}});
    }
    hvgdb::fuzz::check_load(input.rest(), ram, options);
    return 0;
}
