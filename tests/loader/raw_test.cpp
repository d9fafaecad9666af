// Raw images: bytes at --load-addr, started in real, protected or long mode.
#include <doctest/doctest.h>

#include "image_builder.hpp"
#include "loader/loader.hpp"
#include "page_walk.hpp"
#include "test_memory.hpp"

namespace hvgdb::loader::test {
namespace {

constexpr std::uint64_t kRam = 16 << 20;

LoadOptions raw_at(std::uint64_t addr, std::optional<CpuMode> mode = std::nullopt) {
    LoadOptions options;
    options.format = Format::raw;
    options.load_addr = addr;
    options.mode = mode;
    return options;
}

std::string load_error(const Bytes& image, const LoadOptions& options, std::uint64_t ram = kRam) {
    VectorMemory memory(ram);
    auto loaded = load(image, memory, options);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().kind == ErrorKind::invalid);
    CHECK(memory.writes == 0);
    return loaded.error().message();
}

}  // namespace

TEST_CASE("raw: real mode by default, CS = 0 below 64 KiB, a stack in conventional memory") {
    const Bytes image = pattern(0x1234, 9);
    VectorMemory memory(kRam);
    auto loaded = load(image, memory, raw_at(0x1000));
    REQUIRE(loaded.has_value());
    CHECK(memory.read(0x1000, image.size()) == image);
    CHECK(loaded->format == Format::raw);
    CHECK(loaded->entry == 0x1000);
    REQUIRE(loaded->loaded.size() == 1);
    CHECK(loaded->loaded[0].gpa == 0x1000);
    CHECK(loaded->loaded[0].size == 0x1234);

    const CpuState& cpu = loaded->cpu;
    CHECK(cpu.mode == CpuMode::real);
    CHECK(cpu.cs.selector == 0);
    CHECK(cpu.rip == 0x1000);
    CHECK(cpu.ss.selector == 0x9bc0);
    CHECK(cpu.ss.base == 0x9bc00);
    CHECK(cpu.rsp == 0x4000);
    CHECK(cpu.ds.selector == 0);
    CHECK(cpu.cr0 == 0x60000010);
    CHECK(cpu.rdx == 0);
    REQUIRE(loaded->setup.size() == 3);  // the stack, then the ACPI and MP tables
    CHECK(loaded->setup[0].what == "stack");
    CHECK(loaded->setup[0].gpa == 0x9bc00);
    CHECK(loaded->setup[0].size == 0x4000);
    CHECK(loaded->description == "raw, 4660 bytes at 0x1000, real mode 0000:1000, stack 9bc0:4000");
}

TEST_CASE("raw: real mode above 64 KiB uses CS = entry >> 4") {
    VectorMemory memory(kRam);
    auto loaded = load(pattern(16, 1), memory, raw_at(0x20000));
    REQUIRE(loaded.has_value());
    CHECK(loaded->cpu.cs.selector == 0x2000);
    CHECK(loaded->cpu.cs.base == 0x20000);
    CHECK(loaded->cpu.rip == 0);

    LoadOptions options = raw_at(0x12340);
    options.entry = 0x12345;
    auto odd = load(pattern(16, 1), memory, options);
    REQUIRE(odd.has_value());
    CHECK(odd->cpu.cs.selector == 0x1234);
    CHECK(odd->cpu.rip == 5);
    CHECK(odd->entry == 0x12345);
}

TEST_CASE("raw: the real-mode stack avoids the image") {
    VectorMemory memory(kRam);
    auto loaded = load(pattern(0x8000, 1), memory, raw_at(0x98000));
    REQUIRE(loaded.has_value());
    CHECK(loaded->setup[0].gpa == 0x94000);  // just below the image
    CHECK(loaded->cpu.ss.selector == 0x9400);
    CHECK(loaded->cpu.rsp == 0x4000);
}

TEST_CASE("raw: protected mode is set up like ELF32") {
    VectorMemory memory(kRam);
    auto loaded = load(pattern(0x100, 1), memory, raw_at(0x100000, CpuMode::protected32));
    REQUIRE(loaded.has_value());
    const CpuState& cpu = loaded->cpu;
    CHECK(cpu.mode == CpuMode::protected32);
    CHECK(cpu.rip == 0x100000);
    CHECK(cpu.cs.selector == 0x08);
    CHECK(cpu.cr0 == 0x31);
    CHECK(cpu.rsp == 0x9fc00);
    CHECK(memory.u64(cpu.gdt_base + 8) == 0x00cf9b000000ffff);
    CHECK(loaded->description == "raw, 256 bytes at 0x100000, protected mode, entry 0x100000");
}

TEST_CASE("raw: long mode with an entry inside the image") {
    VectorMemory memory(kRam);
    LoadOptions options = raw_at(0x100000, CpuMode::long64);
    options.entry = 0x100010;
    auto loaded = load(pattern(0x100, 1), memory, options);
    REQUIRE(loaded.has_value());
    const CpuState& cpu = loaded->cpu;
    CHECK(cpu.mode == CpuMode::long64);
    CHECK(cpu.rip == 0x100010);
    CHECK(cpu.cs.selector == 0x18);
    CHECK(cpu.efer == 0x500);
    CHECK(walk(memory, cpu.cr3, 0x100010) == 0x100010);
    CHECK(memory.read(0x100000, 0x100) == pattern(0x100, 1));
}

TEST_CASE("raw: automatic format with a load address is raw, even with a boot signature") {
    VectorMemory memory(kRam);
    LoadOptions options;
    options.load_addr = 0x8000;
    auto loaded = load(boot_sector(), memory, options);
    REQUIRE(loaded.has_value());
    CHECK(loaded->format == Format::raw);
    CHECK(loaded->cpu.rip == 0x8000);
    CHECK(memory.at(0x7c00) == 0);
}

TEST_CASE("raw: errors") {
    const Bytes image = pattern(0x100, 1);
    LoadOptions no_addr;
    no_addr.format = Format::raw;
    CHECK(load_error(image, no_addr) ==
          "a raw image of 256 bytes needs a load address (--load-addr ADDR)");
    CHECK(load_error(image, raw_at(kRam - 0x80)) ==
          "raw image of 256 bytes at 0xffff80 ends beyond RAM (16 MiB)");
    CHECK(load_error(image, raw_at(0xffffffffffffff80)) ==
          "raw image of 256 bytes at 0xffffffffffffff80 ends beyond RAM (16 MiB)");
    CHECK(load_error(image, raw_at(0x100000)) ==
          "real-mode entry 0x100000 is at or above 1 MiB; use --mode protected or --mode long");

    LoadOptions far = raw_at(0x100000, CpuMode::protected32);
    far.entry = 0x100000000;
    CHECK(load_error(image, far) == "protected-mode entry 0x100000000 is above 4 GiB");
    far.mode = CpuMode::long64;
    CHECK(load_error(image, far) ==
          "long-mode entry 0x100000000 lies outside the identity-mapped 0..0x100000000; give a "
          "physical entry address");

    // The image covers all of conventional memory: no room for a real-mode stack.
    CHECK(load_error(pattern(0xa0000, 1), raw_at(0)) ==
          "no free 16 KiB for the real-mode stack outside the image in conventional memory "
          "0x500..0x9fc00 (RAM 16 MiB)");
    // RAM is just the image: nowhere for the long-mode stack.
    CHECK(load_error(pattern(0x1000, 1), raw_at(0, CpuMode::long64), 0x1000) ==
          "RAM (4 KiB) too small: no free 64 KiB for the stack outside the image in "
          "0x500..0x9fc00 or 1 MiB..4 GiB");
}

}  // namespace hvgdb::loader::test
