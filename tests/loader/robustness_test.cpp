// Never crash, never read out of bounds: every truncation and many corruptions of valid images
// either load or fail as ErrorKind::invalid.  Run under ASan/UBSan to catch stray reads.
#include <random>

#include <doctest/doctest.h>

#include "image_builder.hpp"
#include "loader/loader.hpp"
#include "test_memory.hpp"

namespace hvgdb::loader::test {
namespace {

constexpr std::uint64_t kRam = 4 << 20;

std::vector<Bytes> seed_images() {
    std::vector<Bytes> images;
    for (bool is64 : {true, false}) {
        ElfSpec spec;
        spec.is64 = is64;
        spec.segments.push_back({0x100000, 0x100000, pattern(0x40, 1), 0});
        spec.segments.push_back({0x200000, 0x200000, pattern(0x10, 2), 0x80});
        spec.segments.push_back({0, 0, pattern(8, 3), 0, 4});  // PT_NOTE
        images.push_back(build_elf(spec));
    }
    images.push_back(boot_sector());
    images.push_back(multiboot1_aout(0x100000, 0x100, 0x800, 0x10007));
    ElfSpec multiboot_elf;
    multiboot_elf.is64 = false;
    multiboot_elf.segments.push_back({0x100000, 0x100000, pattern(0x40, 4), 0x100});
    Bytes image = build_elf(multiboot_elf);
    put_multiboot1_header(image, elf_phdr_offset(false, 1), 0x3);
    images.push_back(image);
    images.push_back(multiboot2_flat(0x100000, 0x100, 0x800, {{1, 0, {1, 4, 6}}, {6, 0, {}}}));
    return images;
}

// One RAM reused by every attempt: the outcome must not depend on what is already in it.
void check_loads_or_is_invalid(VectorMemory& memory, const Bytes& image,
                               const LoadOptions& options = {}) {
    auto loaded = load(image, memory, options);
    if (!loaded) CHECK(loaded.error().kind == ErrorKind::invalid);
}

}  // namespace

TEST_CASE("robustness: every truncation") {
    VectorMemory memory(kRam);
    for (const Bytes& image : seed_images())
        for (std::size_t n = 0; n <= image.size(); ++n) {
            check_loads_or_is_invalid(memory, Bytes(image.begin(), image.begin() + n));
            LoadOptions elf;
            elf.format = Format::elf;
            check_loads_or_is_invalid(memory, Bytes(image.begin(), image.begin() + n), elf);
            LoadOptions multiboot;
            multiboot.format = Format::multiboot;
            multiboot.cmdline = "kernel a=1";
            multiboot.modules.push_back({"module", pattern(0x1800, 6)});
            check_loads_or_is_invalid(memory, Bytes(image.begin(), image.begin() + n), multiboot);
        }
}

TEST_CASE("robustness: every header byte set to interesting values") {
    VectorMemory memory(kRam);
    for (const Bytes& image : seed_images()) {
        const std::size_t header_bytes = std::min<std::size_t>(image.size(), 64 + 3 * 56);
        for (std::size_t i = 0; i < header_bytes; ++i)
            for (std::uint8_t value : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
                Bytes mutated = image;
                mutated[i] = value;
                check_loads_or_is_invalid(memory, mutated);
            }
    }
}

TEST_CASE("robustness: random multi-byte corruption") {
    VectorMemory memory(kRam);
    std::mt19937 rng(12345);
    for (const Bytes& image : seed_images())
        for (int round = 0; round < 3000; ++round) {
            Bytes mutated = image;
            const int edits = 1 + static_cast<int>(rng() % 8);
            for (int e = 0; e < edits; ++e)
                mutated[rng() % std::min<std::size_t>(mutated.size(), 300)] =
                    static_cast<std::uint8_t>(rng());
            check_loads_or_is_invalid(memory, mutated);
        }
}

}  // namespace hvgdb::loader::test
