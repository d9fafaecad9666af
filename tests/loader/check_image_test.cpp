// check_image: the same answer as load() without guest memory, so main refuses a bad image
// before a machine exists.
#include <doctest/doctest.h>

#include "image_builder.hpp"
#include "loader/loader.hpp"
#include "test_memory.hpp"

namespace hvgdb::loader::test {
namespace {

constexpr std::uint64_t kRam = 16 << 20;

ElfSpec two_segments() {
    ElfSpec spec;
    spec.segments.push_back({0x100000, 0x100000, pattern(0x100, 1), 0});
    spec.segments.push_back({0x200000, 0x200000, pattern(0x10, 2), 0x100});
    return spec;
}

}  // namespace

TEST_CASE("check_image: a good image gives what load() gives") {
    LoadOptions options;
    options.cpus = 2;
    for (const Bytes& image :
         {build_elf(two_segments()), boot_sector(), multiboot1_aout(), multiboot2_flat()}) {
        VectorMemory memory(kRam);
        auto loaded = load(image, memory, options);
        auto checked = check_image(image, kRam, options);
        REQUIRE(loaded.has_value());
        REQUIRE(checked.has_value());
        CHECK(checked->description == loaded->description);
        CHECK(checked->entry == loaded->entry);
        CHECK(checked->cpu.rip == loaded->cpu.rip);
        CHECK(checked->cpu.rbx == loaded->cpu.rbx);
        CHECK(checked->setup.size() == loaded->setup.size());
    }
}

TEST_CASE("check_image: a bad image gives load()'s error") {
    ElfSpec spec = two_segments();
    spec.segments[1].paddr = 0x1000ff;  // overlaps segment 0
    const Bytes image = build_elf(spec);
    auto checked = check_image(image, kRam, {});
    REQUIRE_FALSE(checked.has_value());
    CHECK(checked.error().kind == ErrorKind::invalid);
    CHECK(checked.error().message() ==
          "ELF segments 0 and 1 overlap: 0x100000..0x100100 and 0x1000ff..0x1001ff");

    LoadOptions raw;
    raw.format = Format::raw;
    raw.load_addr = kRam - 0x10;
    auto beyond = check_image(pattern(0x20, 1), kRam, raw);
    REQUIRE_FALSE(beyond.has_value());
    CHECK(beyond.error().message() == "raw image of 32 bytes at 0xfffff0 ends beyond RAM (16 MiB)");
}

TEST_CASE("check_image: the largest RAM costs no host memory") {
    // 64 GiB, hvgdb's --memory limit: an ELF64 segment at its very end.
    const std::uint64_t ram = std::uint64_t{64} << 30;
    ElfSpec spec;
    spec.entry = ram - 0x1000;
    spec.segments.push_back({ram - 0x1000, ram - 0x1000, pattern(0x100, 1), 0x1000});
    auto checked = check_image(build_elf(spec), ram, {});
    REQUIRE(checked.has_value());
    CHECK(checked->entry == ram - 0x1000);
}

}  // namespace hvgdb::loader::test
