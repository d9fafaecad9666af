// Multiboot kernels: header detection, a.out-kludge and ELF placement, the entry state, the
// boot information's exact fields, modules, and the errors.
#include <string>

#include <doctest/doctest.h>

#include "image_builder.hpp"
#include "loader/loader.hpp"
#include "loader/multiboot.hpp"
#include "test_memory.hpp"

namespace hvgdb::loader::test {
namespace {

constexpr std::uint64_t kRam = 16 << 20;

std::uint32_t u32(const VectorMemory& memory, std::uint64_t gpa) {
    return static_cast<std::uint32_t>(memory.u64(gpa) & 0xffffffff);
}

std::string c_string(const VectorMemory& memory, std::uint64_t gpa) {
    std::string text;
    while (memory.at(gpa) != 0) text += static_cast<char>(memory.at(gpa++));
    return text;
}

LoadOptions multiboot_format() {
    LoadOptions options;
    options.format = Format::multiboot;
    return options;
}

Bytes multiboot1_elf32(std::uint32_t flags = 0x3) {
    ElfSpec spec;
    spec.is64 = false;
    spec.entry = 0x100010;
    spec.segments.push_back({0x100000, 0x100000, pattern(0x100, 5), 0x2000});
    Bytes image = build_elf(spec);
    put_multiboot1_header(image, elf_phdr_offset(false, 1), flags);  // the segment's first bytes
    return image;
}

std::string load_error(const Bytes& image, std::uint64_t ram = kRam,
                       const LoadOptions& options = {}) {
    VectorMemory memory(ram);
    auto loaded = load(image, memory, options);
    if (loaded) return "(loaded)";
    CHECK(loaded.error().kind == ErrorKind::invalid);
    CHECK(memory.writes == 0);  // validated before anything is written
    return loaded.error().message();
}

}  // namespace

TEST_CASE("Multiboot 1 header: found 4-byte aligned, whole, within 8192 bytes, checksum right") {
    Bytes image(16384, 0);
    put_multiboot1_header(image, 8180, 0x3);  // ends exactly at 8192
    auto header = find_multiboot1_header(image);
    REQUIRE(header.has_value());
    CHECK(header->offset == 8180);
    CHECK(header->flags == 0x3);

    Bytes beyond(16384, 0);
    put_multiboot1_header(beyond, 8184, 0x3);  // straddles 8192
    CHECK_FALSE(find_multiboot1_header(beyond).has_value());
    Bytes far(16384, 0);
    put_multiboot1_header(far, 8192, 0x3);
    CHECK_FALSE(find_multiboot1_header(far).has_value());

    Bytes misaligned(64, 0);
    put_multiboot1_header(misaligned, 6, 0x3);
    CHECK_FALSE(find_multiboot1_header(misaligned).has_value());

    Bytes bad_checksum(64, 0);
    put_multiboot1_header(bad_checksum, 8, 0x3);
    put(bad_checksum, 16, 0x12345678, 4);
    CHECK_FALSE(find_multiboot1_header(bad_checksum).has_value());

    // A bad first candidate does not hide a good later one.
    put_multiboot1_header(bad_checksum, 32, 0x2);
    header = find_multiboot1_header(bad_checksum);
    REQUIRE(header.has_value());
    CHECK(header->offset == 32);

    CHECK_FALSE(find_multiboot1_header(Bytes(11, 0)).has_value());
}

TEST_CASE("Multiboot: detection and the format option") {
    CHECK(load_error(Bytes(64, 0x90)) ==
          "cannot tell the image format of 64 bytes: not ELF, no boot signature; use --format "
          "raw --load-addr ADDR");
    CHECK(load_error(Bytes(64, 0x90), kRam, multiboot_format()) ==
          "no Multiboot header in the image of 64 bytes: neither the magic 0x1BADB002 with a "
          "valid checksum, 4-byte aligned in the first 8192 bytes, nor the Multiboot2 magic "
          "0xE85250D6 with a valid checksum, 8-byte aligned in the first 32768 bytes");

    // A Multiboot kernel that is also ELF loads as Multiboot, unless --format elf.
    VectorMemory memory(kRam);
    auto loaded = load(multiboot1_elf32(), memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->format == Format::multiboot);
    LoadOptions elf;
    elf.format = Format::elf;
    loaded = load(multiboot1_elf32(), memory, elf);
    REQUIRE(loaded.has_value());
    CHECK(loaded->format == Format::elf);
    CHECK(loaded->cpu.rax == 0);

    // A bad checksum is no header: the ELF file loads as plain ELF.
    Bytes bad = multiboot1_elf32();
    bad[elf_phdr_offset(false, 1) + 8] ^= 1;
    loaded = load(bad, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->format == Format::elf);
}

TEST_CASE("Multiboot 1: unknown required flags are refused; bit 2 is ignored with a note") {
    CHECK(load_error(multiboot1_aout(0x100000, 0x200, 0x1000, 0x10000 | 0x8)) ==
          "Multiboot header at offset 0x0 (flags 0x00010008) requires flags bit 3, which hvgdb "
          "cannot honour (it honours bits 0 and 1 and ignores bit 2)");
    CHECK(load_error(multiboot1_aout(0x100000, 0x200, 0x1000, 0x18030)) ==
          "Multiboot header at offset 0x0 (flags 0x00018030) requires flags bits 4, 5, 15, which "
          "hvgdb cannot honour (it honours bits 0 and 1 and ignores bit 2)");

    VectorMemory memory(kRam);
    auto loaded = load(multiboot1_aout(0x100000, 0x200, 0x1000, 0x10007 | 0x20000), memory, {});
    REQUIRE(loaded.has_value());  // bits 16-31 other than 16 are optional
    CHECK(loaded->description ==
          "Multiboot 1 kernel (a.out kludge), video mode request ignored, 0 modules, entry "
          "0x100020");
}

TEST_CASE("Multiboot 1 a.out kludge: file bytes at load_addr, BSS zeroed, nothing beyond") {
    // Header at file offset 0x40 with header_addr 0x200040: file offset 0 lands at 0x200000.
    Bytes image = pattern(0x300, 9);
    put_multiboot1_header(image, 0x40, 0x10000, {0x200040, 0x200000, 0x200200, 0x201000, 0x200080});
    VectorMemory memory(kRam, 0xcc);
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());

    CHECK(memory.read(0x200000, 0x200) == Bytes(image.begin(), image.begin() + 0x200));
    CHECK(memory.read(0x200200, 0xe00) == Bytes(0xe00, 0));
    CHECK(memory.at(0x1fffff) == 0xcc);
    CHECK(memory.at(0x201000) == 0xcc);
    CHECK(loaded->entry == 0x200080);
    CHECK(loaded->cpu.rip == 0x200080);
    REQUIRE(loaded->loaded.size() == 1);
    CHECK(loaded->loaded[0].gpa == 0x200000);
    CHECK(loaded->loaded[0].size == 0x1000);
    CHECK(loaded->description == "Multiboot 1 kernel (a.out kludge), 0 modules, entry 0x200080");

    // load_end_addr 0: the rest of the file; bss_end_addr 0: no BSS.
    put_multiboot1_header(image, 0x40, 0x10000, {0x200040, 0x200000, 0, 0, 0x200080});
    VectorMemory whole(kRam, 0xcc);
    loaded = load(image, whole, {});
    REQUIRE(loaded.has_value());
    CHECK(whole.read(0x200000, 0x300) == image);
    CHECK(whole.at(0x200300) == 0xcc);
    CHECK(loaded->loaded[0].size == 0x300);
}

TEST_CASE("Multiboot 1 a.out kludge: bad address fields") {
    const auto with = [](Multiboot1Addresses a, std::size_t offset = 0x40) {
        Bytes image = pattern(0x300, 9);
        put_multiboot1_header(image, offset, 0x10000, a);
        return image;
    };
    CHECK(load_error(with({0x200000, 0x200040, 0, 0, 0x200040})) ==
          "Multiboot header_addr 0x200000 is below load_addr 0x200040");
    CHECK(load_error(with({0x200080, 0x200000, 0, 0, 0x200080})) ==
          "Multiboot load_addr 0x200000 lies 0x80 bytes before header_addr 0x200080, but the "
          "header is at file offset 0x40: the load would start before the file");
    CHECK(load_error(with({0x200040, 0x200000, 0x200400, 0, 0x200080})) ==
          "Multiboot load_addr 0x200000..load_end_addr 0x200400 needs 0x400 bytes from file "
          "offset 0x0, but the image has only 768 bytes");
    CHECK(load_error(with({0x200040, 0x200000, 0x1000, 0, 0x200080})) ==
          "Multiboot load_end_addr 0x1000 is below load_addr 0x200000");
    CHECK(load_error(with({0x200040, 0x200000, 0x200200, 0x200100, 0x200080})) ==
          "Multiboot bss_end_addr 0x200100 is below the end of the loaded bytes 0x200200");
    CHECK(load_error(with({0x1000040, 0x1000000, 0, 0, 0x1000000})) ==
          "Multiboot kernel at 0x1000000..0x1000300 ends beyond RAM (16 MiB) or 4 GiB");
    Bytes truncated(0x20, 0);
    put_multiboot1_header(truncated, 0, 0x10000);
    truncated.resize(0x1c);
    CHECK(load_error(truncated) ==
          "Multiboot header at offset 0x0 sets flags bit 16 but the image ends before its "
          "address fields (28 bytes, need 32)");
    // Absurd sizes: a BSS to the top of the 32-bit space, load_end_addr far past the file.
    CHECK(load_error(with({0x200040, 0x200000, 0x200300, 0xffffffff, 0x200080})) ==
          "Multiboot kernel at 0x200000..0xffffffff ends beyond RAM (16 MiB) or 4 GiB");
    CHECK(load_error(with({0x200040, 0x200000, 0xffffffff, 0, 0x200080})) ==
          "Multiboot load_addr 0x200000..load_end_addr 0xffffffff needs 0xffdfffff bytes from "
          "file offset 0x0, but the image has only 768 bytes");
    CHECK(load_error(with({0x200040, 0x200000, 0x200000, 0, 0x200080})) ==
          "Multiboot address fields load nothing (load_addr 0x200000, 0 file bytes)");
}

TEST_CASE("Multiboot: an entry from a header field must lie inside the kernel") {
    // Multiboot 1 entry_addr: below, just past the BSS, and the last BSS byte (allowed).
    const auto aout = [](std::uint32_t entry) {
        Bytes image = pattern(0x300, 9);
        put_multiboot1_header(image, 0, 0x10000, {0x200000, 0x200000, 0x200300, 0x201000, entry});
        return image;
    };
    CHECK(load_error(aout(0x1ffff0)) ==
          "Multiboot entry_addr 0x1ffff0 is outside the kernel (0x200000..0x201000); give the "
          "entry address with --entry ADDR");
    CHECK(load_error(aout(0x201000)) ==
          "Multiboot entry_addr 0x201000 is outside the kernel (0x200000..0x201000); give the "
          "entry address with --entry ADDR");
    CHECK(load_error(aout(0)) ==
          "Multiboot entry_addr 0x0 is outside the kernel (0x200000..0x201000); give the entry "
          "address with --entry ADDR");
    CHECK(load_error(aout(0x200fff)) == "(loaded)");
    // --entry is the user's choice, and is not checked against the kernel.
    LoadOptions given;
    given.entry = 0x1000;
    CHECK(load_error(aout(0), kRam, given) == "(loaded)");

    // Multiboot2 entry address tag, with an address tag and with an ELF kernel.
    Bytes flat = pattern(0x300, 1);
    put_multiboot2_header(flat, 0,
                          {{2, 0, {0x100000, 0x100000, 0x100300, 0x100400}}, {3, 0, {0x100400}}});
    CHECK(load_error(flat) ==
          "Multiboot entry address tag 0x100400 is outside the kernel (0x100000..0x100400); give "
          "the entry address with --entry ADDR");
    ElfSpec spec;
    spec.is64 = false;
    spec.entry = 0x100010;
    spec.segments.push_back({0x100000, 0x100000, Bytes(0x100, 0x90), 0x1000});
    spec.segments.push_back({0x300000, 0x300000, Bytes(0x10, 0x90), 0});
    Bytes elf = build_elf(spec);
    put_multiboot2_header(elf, 120, {{3, 0, {0x200000}}});  // 8-byte aligned, in segment 0
    CHECK(load_error(elf) ==
          "Multiboot entry address tag 0x200000 is outside the kernel (0x100000..0x101000, "
          "0x300000..0x300010); give the entry address with --entry ADDR");
}

TEST_CASE("Multiboot 1 ELF: segments loaded as for ELF, the header needs no address fields") {
    VectorMemory memory(kRam, 0xcc);
    auto loaded = load(multiboot1_elf32(), memory, {});
    REQUIRE(loaded.has_value());
    const Bytes image = multiboot1_elf32();
    const std::size_t data = elf_phdr_offset(false, 1);
    CHECK(memory.read(0x100000, 0x100) ==
          Bytes(image.begin() + data, image.begin() + data + 0x100));
    CHECK(memory.read(0x100100, 0x1f00) == Bytes(0x1f00, 0));
    CHECK(loaded->entry == 0x100010);
    CHECK(loaded->description == "Multiboot 1 kernel (ELF32), 0 modules, entry 0x100010");

    // Without flags bit 16 a non-ELF image cannot be placed.
    Bytes flat = pattern(0x100, 1);
    put_multiboot1_header(flat, 0, 0x3);
    CHECK(load_error(flat) ==
          "Multiboot header at offset 0x0 has no address fields (flags bit 16 clear), so the "
          "kernel must be an ELF file, and this image does not start with the ELF magic");

    // ELF errors come through as they are.
    Bytes broken = multiboot1_elf32();
    put(broken, 18, 40, 2);  // e_machine EM_ARM
    CHECK(load_error(broken) == "ELF32 image is for machine 40 (EM_ARM), expected 3 (EM_386)");
}

TEST_CASE("Multiboot 1: entry state (spec 3.2)") {
    VectorMemory memory(kRam);
    auto loaded = load(multiboot1_aout(), memory, {});
    REQUIRE(loaded.has_value());
    const CpuState& cpu = loaded->cpu;
    CHECK(cpu.mode == CpuMode::protected32);
    CHECK(cpu.rax == 0x2badb002);
    CHECK(cpu.rip == 0x100020);
    CHECK(cpu.rflags == 0x2);  // IF = VM = 0
    CHECK((cpu.cr0 & 1) == 1);
    CHECK((cpu.cr0 & 0x80000000) == 0);
    CHECK(cpu.efer == 0);
    CHECK(cpu.cs.selector == 0x08);
    CHECK(cpu.cs.type == 0xb);
    CHECK(cpu.cs.db);
    CHECK(cpu.cs.base == 0);
    CHECK(cpu.cs.limit == 0xffffffff);
    for (const Segment* s : {&cpu.ds, &cpu.es, &cpu.fs, &cpu.gs, &cpu.ss}) {
        CHECK(s->selector == 0x10);
        CHECK(s->type == 0x3);
        CHECK(s->base == 0);
        CHECK(s->limit == 0xffffffff);
        CHECK(s->db);
    }
    CHECK(cpu.rsp % 16 == 0);

    // EBX points at the information, which lies clear of the kernel, stack and GDT.
    const LoadedImage::SetupRegion* info = nullptr;
    for (const auto& r : loaded->setup)
        if (r.what == "multiboot info") info = &r;
    REQUIRE(info != nullptr);
    CHECK(cpu.rbx == info->gpa);
    CHECK(cpu.rbx % 8 == 0);
    for (const auto& r : loaded->setup)
        if (&r != info) CHECK((r.gpa + r.size <= info->gpa || info->gpa + info->size <= r.gpa));
    CHECK(info->gpa + info->size <= 0x100000);
}

TEST_CASE("Multiboot 1: boot information fields, modules and memory map") {
    LoadOptions options;
    options.cmdline = "kernel.elf console=ttyS0";
    options.modules.push_back({"initrd.img root=/dev/ram", pattern(0x1234, 7)});
    options.modules.push_back({"font.psf", pattern(0x10, 8)});
    VectorMemory memory(kRam, 0xcc);
    auto loaded = load(multiboot1_aout(), memory, options);  // kernel 0x100000..0x101200
    REQUIRE(loaded.has_value());
    CHECK(loaded->description == "Multiboot 1 kernel (a.out kludge), 2 modules, entry 0x100020");
    const std::uint64_t info = loaded->cpu.rbx;

    CHECK(u32(memory, info + 0) == 0x24d);  // mem, cmdline, mods, mmap, boot_loader_name
    CHECK(u32(memory, info + 4) == 639);
    CHECK(u32(memory, info + 8) == 15 * 1024);
    CHECK(u32(memory, info + 12) == 0);  // no boot_device
    CHECK(c_string(memory, u32(memory, info + 16)) == "kernel.elf console=ttyS0");
    CHECK(c_string(memory, u32(memory, info + 64)) == "hvgdb");

    REQUIRE(u32(memory, info + 20) == 2);
    const std::uint64_t mods = u32(memory, info + 24);
    CHECK(u32(memory, mods + 0) == 0x102000);  // page-aligned after the kernel's BSS
    CHECK(u32(memory, mods + 4) == 0x102000 + 0x1234);
    CHECK(c_string(memory, u32(memory, mods + 8)) == "initrd.img root=/dev/ram");
    CHECK(u32(memory, mods + 12) == 0);
    CHECK(u32(memory, mods + 16) == 0x104000);
    CHECK(u32(memory, mods + 20) == 0x104010);
    CHECK(c_string(memory, u32(memory, mods + 24)) == "font.psf");
    CHECK(memory.read(0x102000, 0x1234) == pattern(0x1234, 7));
    CHECK(memory.read(0x104000, 0x10) == pattern(0x10, 8));
    REQUIRE(loaded->loaded.size() == 3);
    CHECK(loaded->loaded[1].gpa == 0x102000);
    CHECK(loaded->loaded[2].size == 0x10);

    REQUIRE(u32(memory, info + 44) == 3 * 24);
    const std::uint64_t mmap = u32(memory, info + 48);
    const struct {
        std::uint64_t base, length;
        std::uint32_t type;
    } expected[] = {{0, 0x9fc00, 1}, {0x9fc00, 0x60400, 2}, {0x100000, kRam - 0x100000, 1}};
    for (std::size_t i = 0; i < 3; ++i) {
        const std::uint64_t e = mmap + i * 24;
        CHECK(u32(memory, e) == 20);
        CHECK(memory.u64(e + 4) == expected[i].base);
        CHECK(memory.u64(e + 12) == expected[i].length);
        CHECK(u32(memory, e + 20) == expected[i].type);
    }
}

TEST_CASE("Multiboot 1: small RAM cuts the memory map short") {
    VectorMemory memory(0x90000);
    auto loaded = load(multiboot1_aout(0x10000, 0x200, 0), memory, {});
    REQUIRE(loaded.has_value());
    const std::uint64_t info = loaded->cpu.rbx;
    CHECK(u32(memory, info + 4) == 0x240);
    CHECK(u32(memory, info + 8) == 0);
    REQUIRE(u32(memory, info + 44) == 24);
    const std::uint64_t mmap = u32(memory, info + 48);
    CHECK(memory.u64(mmap + 4) == 0);
    CHECK(memory.u64(mmap + 12) == 0x90000);
    CHECK(u32(memory, mmap + 20) == 1);
}

TEST_CASE("Multiboot 1: a module that would straddle the 0x9fc00..1 MiB hole goes to 1 MiB") {
    LoadOptions options;
    options.modules.push_back({"big", pattern(0x95000, 3)});
    options.modules.push_back({"empty", {}});
    VectorMemory memory(kRam);
    auto loaded = load(multiboot1_aout(0x10000, 0x200, 0), memory, options);
    REQUIRE(loaded.has_value());
    const std::uint64_t mods = u32(memory, loaded->cpu.rbx + 24);
    CHECK(u32(memory, mods) == 0x100000);
    CHECK(u32(memory, mods + 4) == 0x195000);
    CHECK(u32(memory, mods + 16) == 0x195000);  // an empty module: mod_start = mod_end
    CHECK(u32(memory, mods + 20) == 0x195000);
}

TEST_CASE("Multiboot 1: entry override") {
    LoadOptions options;
    options.entry = 0x100100;
    VectorMemory memory(kRam);
    auto loaded = load(multiboot1_aout(), memory, options);
    REQUIRE(loaded.has_value());
    CHECK(loaded->cpu.rip == 0x100100);
    CHECK(loaded->description ==
          "Multiboot 1 kernel (a.out kludge), 0 modules, entry 0x100100 (given)");
}

TEST_CASE("Multiboot: room errors and options for other formats") {
    LoadOptions big;
    big.modules.push_back({"huge.bin arg", Bytes(kRam, 0)});
    CHECK(load_error(multiboot1_aout(), kRam, big) ==
          "Multiboot module 1 ('huge.bin arg', 16777216 bytes) does not fit at 0x102000 after "
          "the kernel and earlier modules: usable memory ends at 0x1000000 (RAM 16 MiB)");

    // The kernel covers every window the information could go in.
    const std::uint64_t ram = 2 << 20;
    CHECK(load_error(multiboot1_aout(0x500, 0x200, ram - 0x700), ram) ==
          "no room for the Multiboot boot information (199 bytes) outside the kernel and "
          "modules in 0x500..0x9fc00 or 1 MiB..0x200000 (RAM 2 MiB)");

    LoadOptions cmdline;
    cmdline.cmdline = "quiet";
    CHECK(load_error(build_elf({}), kRam, cmdline) ==
          "--cmdline and --module apply to Multiboot kernels only, and this is an ELF image");
    LoadOptions module;
    module.modules.push_back({"m", {1}});
    CHECK(load_error(boot_sector(), kRam, module) ==
          "--cmdline and --module apply to Multiboot kernels only, and this is a boot sector");
    module.format = Format::elf;
    CHECK(load_error(multiboot1_elf32(), kRam, module) ==
          "--cmdline and --module apply to Multiboot kernels only, and this is an ELF image");

    LoadOptions mode;
    mode.mode = CpuMode::real;
    CHECK(load_error(multiboot1_aout(), kRam, mode) ==
          "--mode applies only to raw images, and this is a Multiboot kernel (Multiboot kernels "
          "start in protected mode)");
}

TEST_CASE("Multiboot2 header: found 8-byte aligned within 32768 bytes, checksum right") {
    Bytes image(40000, 0);
    put_multiboot2_header(image, 32744, {});  // fixed part ends at 32760
    auto header = find_multiboot2_header(image);
    REQUIRE(header.has_value());
    CHECK(header->offset == 32744);
    CHECK(header->length == 24);

    Bytes far(40000, 0);
    put_multiboot2_header(far, 32768, {});
    CHECK_FALSE(find_multiboot2_header(far).has_value());
    Bytes misaligned(128, 0);
    put_multiboot2_header(misaligned, 12, {});
    CHECK_FALSE(find_multiboot2_header(misaligned).has_value());
    Bytes bad_checksum(128, 0);
    put_multiboot2_header(bad_checksum, 16, {});
    bad_checksum[16 + 12] ^= 0x80;
    CHECK_FALSE(find_multiboot2_header(bad_checksum).has_value());
}

TEST_CASE("Multiboot2: address and entry tags, entry state") {
    VectorMemory memory(kRam, 0xcc);
    const Bytes image = multiboot2_flat();
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->format == Format::multiboot);
    CHECK(loaded->description == "Multiboot2 kernel (address tag), 0 modules, entry 0x100040");
    CHECK(memory.read(0x100000, 0x300) == image);
    CHECK(memory.read(0x100300, 0x1000) == Bytes(0x1000, 0));
    CHECK(memory.at(0x101300) == 0xcc);
    const CpuState& cpu = loaded->cpu;
    CHECK(cpu.mode == CpuMode::protected32);
    CHECK(cpu.rax == 0x36d76289);
    CHECK(cpu.rip == 0x100040);
    CHECK(cpu.rflags == 0x2);
    CHECK(cpu.cs.selector == 0x08);
    CHECK(cpu.ds.selector == 0x10);
    CHECK(cpu.rbx % 8 == 0);

    // load_addr -1: the file loads from its first byte (header_addr - header offset).
    Bytes from_start = pattern(0x100, 2);
    put_multiboot2_header(from_start, 0x20,
                          {{2, 0, {0x200020, 0xffffffff, 0, 0}}, {3, 0, {0x200000}}});
    VectorMemory other(kRam);
    loaded = load(from_start, other, {});
    REQUIRE(loaded.has_value());
    CHECK(other.read(0x200000, 0x100) == from_start);
}

TEST_CASE("Multiboot2: boot information tags") {
    LoadOptions options;
    options.cmdline = "k x";
    options.modules.push_back({"mod a", pattern(0x10, 4)});
    VectorMemory memory(kRam, 0xcc);
    auto loaded = load(multiboot2_flat(), memory, options);
    REQUIRE(loaded.has_value());
    const std::uint64_t info = loaded->cpu.rbx;
    CHECK(u32(memory, info) == 208);  // total_size
    CHECK(u32(memory, info + 4) == 0);

    CHECK(u32(memory, info + 8) == 1);  // command line
    CHECK(u32(memory, info + 12) == 12);
    CHECK(c_string(memory, info + 16) == "k x");
    CHECK(u32(memory, info + 24) == 2);  // boot loader name
    CHECK(u32(memory, info + 28) == 14);
    CHECK(c_string(memory, info + 32) == "hvgdb");
    CHECK(u32(memory, info + 40) == 3);  // module
    CHECK(u32(memory, info + 44) == 22);
    CHECK(u32(memory, info + 48) == 0x102000);
    CHECK(u32(memory, info + 52) == 0x102010);
    CHECK(c_string(memory, info + 56) == "mod a");
    CHECK(memory.read(0x102000, 0x10) == pattern(0x10, 4));
    CHECK(u32(memory, info + 64) == 4);  // basic memory information
    CHECK(u32(memory, info + 68) == 16);
    CHECK(u32(memory, info + 72) == 639);
    CHECK(u32(memory, info + 76) == 15 * 1024);
    CHECK(u32(memory, info + 80) == 6);  // memory map
    CHECK(u32(memory, info + 84) == 88);
    CHECK(u32(memory, info + 88) == 24);
    CHECK(u32(memory, info + 92) == 0);
    const std::uint64_t expected[][3] = {
        {0, 0x9fc00, 1}, {0x9fc00, 0x60400, 2}, {0x100000, kRam - 0x100000, 1}};
    for (std::size_t i = 0; i < 3; ++i) {
        const std::uint64_t e = info + 96 + i * 24;
        CHECK(memory.u64(e) == expected[i][0]);
        CHECK(memory.u64(e + 8) == expected[i][1]);
        CHECK(u32(memory, e + 16) == expected[i][2]);
        CHECK(u32(memory, e + 20) == 0);
    }
    CHECK(u32(memory, info + 168) == 14);  // ACPI old RSDP: a copy of the one at 0xe0000
    CHECK(u32(memory, info + 172) == 28);
    CHECK(memory.read(info + 176, 20) == memory.read(0xe0000, 20));
    CHECK(u32(memory, info + 200) == 0);  // end tag
    CHECK(u32(memory, info + 204) == 8);
}

TEST_CASE("Multiboot2 ELF, and Multiboot 1 preferred when both headers are present") {
    ElfSpec spec;
    spec.is64 = false;
    spec.entry = 0x100010;
    spec.segments.push_back({0x100000, 0x100000, Bytes(0x100, 0x90), 0x1000});
    Bytes image = build_elf(spec);
    put_multiboot2_header(image, 88, {{1, 0, {1, 6}}, {6, 0, {}}});  // inside the segment
    VectorMemory memory(kRam);
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->description == "Multiboot2 kernel (ELF32), 0 modules, entry 0x100010");
    CHECK(loaded->cpu.rax == 0x36d76289);

    put_multiboot1_header(image, 160, 0x3);
    loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->cpu.rax == 0x2badb002);
}

TEST_CASE("Multiboot2: tag errors") {
    CHECK(load_error(multiboot2_flat(0x100000, 0x300, 0x1000, {{42, 0, {7}}})) ==
          "Multiboot2 header tag at offset 0x38 has type 42, which hvgdb does not know, and it "
          "is not marked optional");
    CHECK(load_error(multiboot2_flat(0x100000, 0x300, 0x1000,
                                     {{42, 1, {7}}, {5, 0, {0, 0, 32}}})) == "(loaded)");
    CHECK(load_error(multiboot2_flat(0x100000, 0x300, 0x1000, {{1, 0, {1, 8}}})) ==
          "Multiboot2 header at offset 0x0 requires boot information tag type 8, which hvgdb "
          "does not provide (it provides 1, 2, 3, 4, 6 and 14)");
    CHECK(load_error(multiboot2_flat(0x100000, 0x300, 0x1000, {{1, 1, {8}}})) == "(loaded)");
    CHECK(load_error(multiboot2_flat(0x100000, 0x300, 0x1000, {{2, 0, {}}})) ==
          "Multiboot2 header tag at offset 0x38 (type 2) has size 8, below 24");

    Bytes arch = pattern(0x100, 1);
    put_multiboot2_header(arch, 0, {}, 4);
    CHECK(load_error(arch) ==
          "Multiboot2 header at offset 0x0 is for architecture 4, not i386 (0)");

    Bytes no_entry = pattern(0x100, 1);
    put_multiboot2_header(no_entry, 0, {{2, 0, {0x100000, 0x100000, 0, 0}}});
    CHECK(load_error(no_entry) ==
          "Multiboot2 header at offset 0x0 has an address tag but no entry address tag");

    Bytes no_elf = pattern(0x100, 1);
    put_multiboot2_header(no_elf, 0, {});
    CHECK(load_error(no_elf) ==
          "Multiboot2 header at offset 0x0 has no address tag, so the kernel must be an ELF "
          "file, and this image does not start with the ELF magic");

    // A tag of size 0 would never advance; one past header_length is cut off.
    Bytes zero = pattern(0x100, 1);
    put_multiboot2_header(zero, 0, {{42, 1, {}}});
    put(zero, 20, 0, 4);
    CHECK(load_error(zero) ==
          "Multiboot2 header tag at offset 0x10 (type 42) has size 0, which is below 8 or "
          "extends beyond the header's 32 bytes");

    // header_length too short for the end tag: recompute the checksum for length 16.
    Bytes short_header = pattern(0x100, 1);
    put_multiboot2_header(short_header, 0, {});
    put(short_header, 8, 16, 4);
    put(short_header, 12, static_cast<std::uint32_t>(0u - 0xe85250d6u - 16u), 4);
    CHECK(load_error(short_header) ==
          "Multiboot2 header at offset 0x0 has header_length 16, which does not fit a header "
          "with an end tag inside the image of 256 bytes");
}

}  // namespace hvgdb::loader::test
