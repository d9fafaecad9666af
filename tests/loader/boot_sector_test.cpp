// Boot sectors and disk images: real mode at 0000:7c00, DL = 0x80, and the size rules.
#include <doctest/doctest.h>

#include "image_builder.hpp"
#include "loader/loader.hpp"
#include "test_memory.hpp"

namespace hvgdb::loader::test {
namespace {

constexpr std::uint64_t kRam = 16 << 20;

void check_real_mode_segment(const Segment& s, std::uint16_t selector, std::uint8_t type) {
    CHECK(s.selector == selector);
    CHECK(s.base == std::uint64_t{selector} << 4);
    CHECK(s.limit == 0xffff);
    CHECK(s.type == type);
    CHECK(s.s);
    CHECK(s.present);
    CHECK_FALSE(s.db);
    CHECK_FALSE(s.l);
    CHECK_FALSE(s.g);
}

}  // namespace

TEST_CASE("boot sector: 512 bytes at 0x7c00, real mode 0000:7c00") {
    const Bytes image = boot_sector();
    VectorMemory memory(kRam);
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(memory.read(0x7c00, 512) == image);
    CHECK(memory.at(0x7e00) == 0);

    CHECK(loaded->format == Format::boot_sector);
    CHECK(loaded->description == "boot sector, 512 bytes at 0x7c00, real mode 0000:7c00");
    CHECK(loaded->entry == 0x7c00);
    REQUIRE(loaded->loaded.size() == 1);
    CHECK(loaded->loaded[0].gpa == 0x7c00);
    CHECK(loaded->loaded[0].size == 512);
    REQUIRE(loaded->setup.size() == 2);  // only the CPU tables: no stack, GDT or page tables
    CHECK(loaded->setup[0].what == "ACPI tables");
    CHECK(loaded->setup[1].what == "MP tables");

    const CpuState& cpu = loaded->cpu;
    CHECK(cpu.mode == CpuMode::real);
    CHECK(cpu.rip == 0x7c00);
    CHECK(cpu.rsp == 0x7c00);
    CHECK(cpu.rdx == 0x80);
    CHECK(cpu.rflags == 0x2);
    CHECK(cpu.cr0 == 0x60000010);
    CHECK(cpu.cr3 == 0);
    CHECK(cpu.cr4 == 0);
    CHECK(cpu.efer == 0);
    check_real_mode_segment(cpu.cs, 0, 0xb);
    for (const Segment* s : {&cpu.ds, &cpu.es, &cpu.fs, &cpu.gs, &cpu.ss})
        check_real_mode_segment(*s, 0, 0x3);
}

TEST_CASE("boot sector: a disk image that fits below 0x9fc00 is loaded whole") {
    const Bytes image = boot_sector(8192);
    VectorMemory memory(kRam);
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(memory.read(0x7c00, 8192) == image);
    CHECK(loaded->loaded[0].size == 8192);
    CHECK(loaded->description ==
          "boot sector + disk image, 8192 bytes at 0x7c00..0x9c00, real mode 0000:7c00");
}

TEST_CASE("boot sector: a disk image too large for low memory loads its first sector only") {
    const Bytes image = boot_sector(0x98001);  // one byte past 0x9fc00
    VectorMemory memory(kRam);
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(memory.read(0x7c00, 512) == Bytes(image.begin(), image.begin() + 512));
    CHECK(memory.at(0x7e00) == 0);
    CHECK(loaded->loaded[0].size == 512);
    CHECK(loaded->description ==
          "boot sector, 512 bytes at 0x7c00 (first sector only: the 622593-byte disk image does "
          "not fit below 0x9fc00), real mode 0000:7c00");

    const Bytes fits = boot_sector(0x98000);  // ends exactly at 0x9fc00
    VectorMemory memory2(kRam);
    auto whole = load(fits, memory2, {});
    REQUIRE(whole.has_value());
    CHECK(whole->loaded[0].size == 0x98000);
}

TEST_CASE("boot sector: with small RAM the disk image must fit in RAM") {
    const Bytes image = boot_sector(4096);
    VectorMemory memory(0x8000);
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->loaded[0].size == 512);
}

TEST_CASE("boot sector: entry override") {
    VectorMemory memory(kRam);
    LoadOptions options;
    options.entry = 0x7c3e;
    auto loaded = load(boot_sector(), memory, options);
    REQUIRE(loaded.has_value());
    CHECK(loaded->cpu.cs.selector == 0);
    CHECK(loaded->cpu.rip == 0x7c3e);
    CHECK(loaded->entry == 0x7c3e);
}

TEST_CASE("boot sector: errors") {
    VectorMemory memory(kRam);
    LoadOptions forced;
    forced.format = Format::boot_sector;

    auto short_image = load(pattern(300, 1), memory, forced);
    REQUIRE_FALSE(short_image.has_value());
    CHECK(short_image.error().kind == ErrorKind::invalid);
    CHECK(short_image.error().message() ==
          "a boot sector needs 512 bytes ending in 55 AA; the image has 300 bytes");

    Bytes unsigned_sector(512, 0);
    auto no_signature = load(unsigned_sector, memory, forced);
    REQUIRE_FALSE(no_signature.has_value());
    CHECK(no_signature.error().message() ==
          "not a boot sector: bytes 510-511 are 00 00, not 55 AA");

    auto undetected = load(pattern(300, 1), memory, {});
    REQUIRE_FALSE(undetected.has_value());
    CHECK(undetected.error().message() ==
          "cannot tell the image format of 300 bytes: not ELF, no boot signature; use --format "
          "raw --load-addr ADDR");

    VectorMemory tiny(0x4000);
    auto too_small = load(boot_sector(), tiny, {});
    REQUIRE_FALSE(too_small.has_value());
    CHECK(too_small.error().message() ==
          "RAM (16 KiB) too small for a boot sector at 0x7c00..0x7e00");
    CHECK(tiny.writes == 0);

    LoadOptions with_mode = forced;
    with_mode.mode = CpuMode::long64;
    auto mode = load(boot_sector(), memory, with_mode);
    REQUIRE_FALSE(mode.has_value());
    CHECK(mode.error().message() ==
          "--mode applies only to raw images, and this is a boot sector (it starts in real mode)");

    LoadOptions far_entry;
    far_entry.entry = 0x100000;
    auto far = load(boot_sector(), memory, far_entry);
    REQUIRE_FALSE(far.has_value());
    CHECK(far.error().message() ==
          "real-mode entry 0x100000 is at or above 1 MiB; use --mode protected or --mode long");
}

TEST_CASE("empty image") {
    VectorMemory memory(kRam);
    for (Format format : {Format::automatic, Format::elf, Format::boot_sector, Format::raw}) {
        LoadOptions options;
        options.format = format;
        options.load_addr =
            format == Format::raw ? std::optional<std::uint64_t>(0x1000) : std::nullopt;
        auto loaded = load({}, memory, options);
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().kind == ErrorKind::invalid);
        CHECK(loaded.error().message() == "the image is empty (0 bytes)");
    }
}

}  // namespace hvgdb::loader::test
