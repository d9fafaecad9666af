// Firmware images: ROM windows below 4 GiB and below 1 MiB, the reset state, and the checks
// on size, RAM and options.
#include <doctest/doctest.h>

#include "image_builder.hpp"
#include "loader/loader.hpp"
#include "test_memory.hpp"

namespace hvgdb::loader::test {
namespace {

constexpr std::uint64_t kRam = 16 << 20;
constexpr std::uint64_t kFourGiB = 1ull << 32;

LoadOptions firmware() {
    LoadOptions options;
    options.format = Format::firmware;
    return options;
}

std::string load_error(const Bytes& image, const LoadOptions& options, std::uint64_t ram = kRam) {
    SparseMemory memory(ram);
    auto loaded = load(image, memory, options);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().kind == ErrorKind::invalid);
    return loaded.error().message();
}

}  // namespace

TEST_CASE("firmware: 64 KiB below 4 GiB and all of it below 1 MiB, nothing in RAM") {
    const Bytes image = pattern(64 << 10, 3);
    VectorMemory memory(kRam);
    auto loaded = load(image, memory, firmware());
    REQUIRE(loaded.has_value());
    CHECK(memory.writes == 0);
    CHECK(loaded->format == Format::firmware);
    REQUIRE(loaded->rom.has_value());
    CHECK(loaded->rom->bytes.data() == image.data());
    CHECK(loaded->rom->bytes.size() == image.size());
    REQUIRE(loaded->rom->windows.size() == 2);
    CHECK(loaded->rom->windows[0].gpa == 0xffff0000);
    CHECK(loaded->rom->windows[0].offset == 0);
    CHECK(loaded->rom->windows[0].size == 64 << 10);
    CHECK(loaded->rom->windows[1].gpa == 0xf0000);
    CHECK(loaded->rom->windows[1].offset == 0);
    CHECK(loaded->rom->windows[1].size == 64 << 10);
    REQUIRE(loaded->loaded.size() == 2);
    CHECK(loaded->loaded[0].gpa == 0xffff0000);
    CHECK(loaded->loaded[1].gpa == 0xf0000);
    CHECK(loaded->setup.empty());
    CHECK(loaded->description ==
          "firmware, 64 KiB read-only at 0xffff0000..0xffffffff (also at 0xf0000..0xfffff), "
          "reset vector f000:fff0");
}

TEST_CASE("firmware: the CPU starts in its reset state at the reset vector") {
    VectorMemory memory(kRam);
    auto loaded = load(pattern(64 << 10, 1), memory, firmware());
    REQUIRE(loaded.has_value());
    const CpuState& cpu = loaded->cpu;
    CHECK(cpu.mode == CpuMode::real);
    CHECK(cpu.cs.selector == 0xf000);
    CHECK(cpu.cs.base == 0xffff0000);
    CHECK(cpu.cs.limit == 0xffff);
    CHECK(cpu.cs.type == 0xb);
    CHECK(cpu.rip == 0xfff0);
    CHECK(loaded->entry == 0xfffffff0);
    CHECK(cpu.cs.base + cpu.rip == 0xfffffff0);
    CHECK(cpu.rdx == 0x600);  // processor signature: family 6 unless the machine tells
    CHECK(cpu.rax == 0);
    CHECK(cpu.rsp == 0);
    CHECK(cpu.rflags == 0x2);
    CHECK(cpu.cr0 == 0x60000010);
    CHECK(cpu.cr3 == 0);
    CHECK(cpu.cr4 == 0);
    CHECK(cpu.efer == 0);
    for (const Segment* s : {&cpu.ds, &cpu.es, &cpu.fs, &cpu.gs, &cpu.ss}) {
        CHECK(s->selector == 0);
        CHECK(s->base == 0);
        CHECK(s->limit == 0xffff);
        CHECK(s->type == 0x3);
    }
    CHECK(cpu.gdt_base == 0);
    CHECK(cpu.gdt_limit == 0xffff);
    CHECK(cpu.idt_base == 0);
    CHECK(cpu.idt_limit == 0xffff);
}

TEST_CASE("firmware: EDX holds the processor signature the machine gives") {
    VectorMemory memory(kRam);
    LoadOptions options = firmware();
    options.processor_signature = 0x806f8;
    auto loaded = load(pattern(64 << 10, 1), memory, options);
    REQUIRE(loaded.has_value());
    CHECK(loaded->cpu.rdx == 0x806f8);
}

TEST_CASE("firmware: a large image shows its last 128 KiB below 1 MiB, a small one all of it") {
    SparseMemory memory(kRam);
    const Bytes big(2 << 20, 0xff);
    auto loaded = load(big, memory, firmware());
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->rom->windows.size() == 2);
    CHECK(loaded->rom->windows[0].gpa == 0xffe00000);
    CHECK(loaded->rom->windows[0].size == 2 << 20);
    CHECK(loaded->rom->windows[1].gpa == 0xe0000);
    CHECK(loaded->rom->windows[1].offset == (2 << 20) - (128 << 10));
    CHECK(loaded->rom->windows[1].size == 128 << 10);
    CHECK(loaded->description ==
          "firmware, 2 MiB read-only at 0xffe00000..0xffffffff (its last 128 KiB also at "
          "0xe0000..0xfffff), reset vector f000:fff0");

    auto small = load(Bytes(4096, 0x90), memory, firmware());
    REQUIRE(small.has_value());
    CHECK(small->rom->windows[0].gpa == 0xfffff000);
    CHECK(small->rom->windows[1].gpa == 0xff000);
    CHECK(small->rom->windows[1].size == 4096);

    auto largest = load(Bytes(16 << 20, 0), memory, firmware());
    REQUIRE(largest.has_value());
    CHECK(largest->rom->windows[0].gpa == 0xff000000);
}

TEST_CASE("firmware: sizes that are not whole pages, or too large, are refused") {
    CHECK(load_error(Bytes(512, 0), firmware()) ==
          "a firmware image is a whole number of 4 KiB pages (ROMs are usually 64 KiB to "
          "16 MiB); this one has 512 bytes");
    CHECK(load_error(Bytes((64 << 10) + 1, 0), firmware()).find("65537 bytes") !=
          std::string::npos);
    CHECK(load_error(Bytes((16 << 20) + 4096, 0), firmware()) ==
          "firmware image of 16388 KiB is larger than the 16 MiB limit");
    CHECK(load_error(Bytes{}, firmware()) == "the image is empty (0 bytes)");
}

TEST_CASE("firmware: RAM that reaches into the ROM below 4 GiB is refused") {
    const Bytes image(64 << 10, 0);
    CHECK(load_error(image, firmware(), kFourGiB) ==
          "RAM (4 GiB) reaches into the firmware at 0xffff0000..0xffffffff; give --memory "
          "4194240 KiB or less");
    CHECK(load_error(Bytes(16 << 20, 0), firmware(), kFourGiB - (8 << 20))
              .find("give --memory 4080 MiB or less") != std::string::npos);
    // RAM right up to the ROM is fine.
    SparseMemory memory(kFourGiB - (64 << 10));
    CHECK(load(image, memory, firmware()).has_value());
}

TEST_CASE("firmware: options of other formats are refused") {
    const Bytes image(64 << 10, 0);
    LoadOptions entry = firmware();
    entry.entry = 0xf0000;
    CHECK(load_error(image, entry).starts_with("--entry does not apply to a firmware image"));
    LoadOptions load_addr = firmware();
    load_addr.load_addr = 0xf0000;
    CHECK(load_error(image, load_addr)
              .starts_with("--load-addr applies only to raw images, and "
                           "this is a firmware image"));
    LoadOptions mode = firmware();
    mode.mode = CpuMode::real;
    CHECK(load_error(image, mode) ==
          "--mode applies only to raw images, and this is a firmware image (firmware starts in "
          "real mode at the reset vector)");
    LoadOptions cmdline = firmware();
    cmdline.cmdline = "quiet";
    CHECK(load_error(image, cmdline).find("Multiboot kernels only") != std::string::npos);
}

TEST_CASE("firmware is never detected: a ROM-sized image needs --format firmware") {
    VectorMemory memory(kRam);
    // 64 KiB of code without a boot signature: the automatic format refuses it.
    Bytes rom(64 << 10, 0x90);
    auto refused = load(rom, memory, LoadOptions{});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().kind == ErrorKind::invalid);
    // With a boot signature at 510 it is a disk image, loaded as a boot sector.
    rom[510] = 0x55;
    rom[511] = 0xaa;
    auto disk = load(rom, memory, LoadOptions{});
    REQUIRE(disk.has_value());
    CHECK(disk->format == Format::boot_sector);
    CHECK_FALSE(disk->rom.has_value());
}

}  // namespace hvgdb::loader::test
