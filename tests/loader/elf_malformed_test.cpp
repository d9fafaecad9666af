// Malformed ELF images: every one fails with ErrorKind::invalid and a sentence naming the
// problem, and leaves guest memory untouched.
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "image_builder.hpp"
#include "loader/loader.hpp"
#include "test_memory.hpp"

namespace hvgdb::loader::test {
namespace {

constexpr std::uint64_t kRam = 16 << 20;

ElfSpec valid_spec(bool is64) {
    ElfSpec spec;
    spec.is64 = is64;
    spec.segments.push_back({0x100000, 0x100000, pattern(0x100, 1), 0});
    spec.segments.push_back({0x200000, 0x200000, pattern(0x10, 2), 0x100});
    return spec;
}

// The error message of loading `image`, which must fail as invalid without writing memory.
std::string load_error(const Bytes& image, std::uint64_t ram = kRam, LoadOptions options = {}) {
    VectorMemory memory(ram);
    auto loaded = load(image, memory, options);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().kind == ErrorKind::invalid);
    CHECK(memory.writes == 0);
    return loaded.error().message();
}

}  // namespace

TEST_CASE("ELF malformed: truncated identification and header") {
    Bytes image = build_elf(valid_spec(true));
    CHECK(load_error(Bytes(image.begin(), image.begin() + 10)) ==
          "ELF image truncated: 10 bytes, the identification alone needs 16");
    CHECK(load_error(Bytes(image.begin(), image.begin() + 40)) ==
          "ELF64 header truncated: the image has 40 bytes, the header needs 64");
    Bytes image32 = build_elf(valid_spec(false));
    CHECK(load_error(Bytes(image32.begin(), image32.begin() + 51)) ==
          "ELF32 header truncated: the image has 51 bytes, the header needs 52");
    // The program header table cut off.
    CHECK(load_error(Bytes(image.begin(), image.begin() + 100)) ==
          "ELF program headers (2 entries of 56 bytes at offset 0x40) extend beyond the image of "
          "100 bytes");
}

TEST_CASE("ELF malformed: identification fields") {
    Bytes image = build_elf(valid_spec(true));
    SUBCASE("class") {
        image[4] = 3;
        CHECK(load_error(image) == "ELF class 3 is neither ELFCLASS32 (1) nor ELFCLASS64 (2)");
    }
    SUBCASE("big-endian") {
        image[5] = 2;
        CHECK(load_error(image) ==
              "ELF image is big-endian (EI_DATA 2); x86 images are little-endian");
    }
    SUBCASE("unknown data encoding") {
        image[5] = 0;
        CHECK(load_error(image) == "ELF data encoding 0 is not little-endian (EI_DATA 1)");
    }
    SUBCASE("identification version") {
        image[6] = 0;
        CHECK(load_error(image) == "ELF identification version 0 is not EV_CURRENT (1)");
    }
    SUBCASE("forced ELF without magic") {
        image[1] = 'X';
        LoadOptions options;
        options.format = Format::elf;
        CHECK(load_error(image, kRam, options) ==
              "not an ELF image: it does not start with the magic 7f 45 4c 46");
    }
}

// One ELF64 header field set to a bad value: field offset, size, value, the error.
struct HeaderFieldCase {
    std::size_t offset;
    int size;
    std::uint64_t value;
    const char* error;
};

// clang-format off
constexpr HeaderFieldCase kHeaderFieldCases[] = {
    {16, 2, 1, "ELF type 1 (ET_REL, a relocatable object file) is not an executable; need "
               "ET_EXEC (2) or ET_DYN (3)"},
    {16, 2, 4, "ELF type 4 (ET_CORE, a core dump) is not an executable; need ET_EXEC (2) or "
               "ET_DYN (3)"},
    {16, 2, 0xfe00, "ELF type 65024 is not an executable; need ET_EXEC (2) or ET_DYN (3)"},
    {18, 2, 3, "ELF64 image is for machine 3 (EM_386), expected 62 (EM_X86_64)"},
    {18, 2, 183, "ELF64 image is for machine 183 (EM_AARCH64), expected 62 (EM_X86_64)"},
    {20, 4, 2, "ELF e_version 2 is not EV_CURRENT (1)"},
    {52, 2, 20, "ELF64 e_ehsize 20 is smaller than the 64-byte header"},
    {54, 2, 32, "ELF64 e_phentsize 32 is smaller than a 56-byte program header"},
    {54, 2, 0, "ELF64 e_phentsize 0 is smaller than a 56-byte program header"},
    // e_phentsize 0xffff, e_phnum 0xfffe: the table runs past the file.
    {54, 2, 0xffff, "ELF program headers (2 entries of 65535 bytes at offset 0x40) extend beyond "
                    "the image of 448 bytes"},
    {56, 2, 0xfffe, "ELF program headers (65534 entries of 56 bytes at offset 0x40) extend beyond "
                    "the image of 448 bytes"},
    {56, 2, 0, "ELF image has no program headers (e_phnum 0)"},
    {56, 2, 0xffff, "ELF image uses extended program header numbering (e_phnum 0xffff), which is "
                    "not supported"},
    {32, 8, 0x10000, "ELF program headers (2 entries of 56 bytes at offset 0x10000) extend beyond "
                     "the image of 448 bytes"},
    // phoff + the table's size overflows.
    {32, 8, 0xffffffffffffffc0, "ELF program headers (2 entries of 56 bytes at offset "
                                "0xffffffffffffffc0) extend beyond the image of 448 bytes"},
};
// clang-format on

TEST_CASE("ELF malformed: header fields") {
    for (const auto& c : kHeaderFieldCases) {
        CAPTURE(c.offset);
        CAPTURE(c.value);
        Bytes image = build_elf(valid_spec(true));
        put(image, c.offset, c.value, c.size);
        CHECK(load_error(image) == c.error);
    }
}

TEST_CASE("ELF32 malformed: machine") {
    Bytes image = build_elf(valid_spec(false));
    put(image, 18, 62, 2);
    CHECK(load_error(image) == "ELF32 image is for machine 62 (EM_X86_64), expected 3 (EM_386)");
    put(image, 18, 40, 2);
    CHECK(load_error(image) == "ELF32 image is for machine 40 (EM_ARM), expected 3 (EM_386)");
    put(image, 18, 0x1234, 2);
    CHECK(load_error(image) == "ELF32 image is for machine 4660, expected 3 (EM_386)");
}

TEST_CASE("ELF malformed: section headers beyond the file mean a file cut short") {
    for (bool is64 : {true, false}) {
        CAPTURE(is64);
        Bytes image = build_elf(valid_spec(is64));
        const std::size_t shoff = is64 ? 40 : 32, shentsize = is64 ? 58 : 46,
                          shnum = is64 ? 60 : 48;
        const std::uint64_t entry = is64 ? 64 : 40;
        const std::string size = std::to_string(image.size());
        // A table that ends exactly at the end of the file is whole.
        put(image, shoff, image.size() - 2 * entry, is64 ? 8 : 4);
        put(image, shentsize, entry, 2);
        put(image, shnum, 2, 2);
        VectorMemory memory(kRam);
        CHECK(load(image, memory, {}).has_value());
        // One byte short.
        Bytes cut(image.begin(), image.end() - 1);
        CHECK(load_error(cut) ==
              fmt::format("ELF section headers (2 entries of {} bytes at offset {:#x}) extend "
                          "beyond the image of {} bytes: the file is cut short",
                          entry, image.size() - 2 * entry, cut.size()));
        // e_shnum 0 with a table (extended numbering): section 0 must be there.
        put(image, shnum, 0, 2);
        put(image, shoff, image.size() - entry / 2, is64 ? 8 : 4);
        CHECK(load_error(image) ==
              fmt::format("ELF section headers (1 entry of {} bytes at offset {:#x}) extend "
                          "beyond the image of {} bytes: the file is cut short",
                          entry, image.size() - entry / 2, size));
        // An offset near 2^64 (ELF64) or 2^32 does not wrap around.
        put(image, shoff, is64 ? 0xffffffffffffffc0 : 0xffffffc0, is64 ? 8 : 4);
        CHECK(load_error(image).ends_with("extend beyond the image of " + size +
                                          " bytes: the file is cut short"));
    }
}

TEST_CASE("ELF malformed: segments") {
    Bytes image = build_elf(valid_spec(true));
    SUBCASE("p_filesz > p_memsz") {
        patch_phdr(image, true, 1, kPMemsz, 0x8);
        CHECK(load_error(image) == "ELF segment 1: p_filesz 0x10 is larger than p_memsz 0x8");
    }
    SUBCASE("file bytes beyond the file") {
        patch_phdr(image, true, 0, kPFilesz, 0x1000);
        patch_phdr(image, true, 0, kPMemsz, 0x1000);
        CHECK(load_error(image) ==
              "ELF segment 0: file bytes at offset 0xb0 size 0x1000 extend beyond the image of "
              "448 bytes");
    }
    SUBCASE("p_offset + p_filesz overflows") {
        patch_phdr(image, true, 0, kPOffset, 0xfffffffffffffff0);
        CHECK(
            load_error(image).starts_with("ELF segment 0: file bytes at offset "
                                          "0xfffffffffffffff0 size 0x100 extend beyond"));
    }
    SUBCASE("p_paddr + p_memsz wraps") {
        patch_phdr(image, true, 1, kPPaddr, 0xfffffffffffff000);
        patch_phdr(image, true, 1, kPMemsz, 0x2000);
        CHECK(load_error(image) ==
              "ELF segment 1 at 0xfffffffffffff000 size 0x2000 wraps around the address space");
    }
    SUBCASE("segment data cut off at the end of the file") {
        const Bytes cut(image.begin(), image.end() - 1);
        CHECK(load_error(cut) ==
              "ELF segment 1: file bytes at offset 0x1b0 size 0x10 extend beyond the image of "
              "447 bytes");
    }
    SUBCASE("p_memsz 2^64 - 1 on a segment at 0") {
        patch_phdr(image, true, 0, kPPaddr, 0);
        patch_phdr(image, true, 0, kPMemsz, 0xffffffffffffffff);
        CHECK(load_error(image) ==
              "ELF segment 0 at 0x0 size 0xffffffffffffffff ends beyond RAM "
              "(16 MiB)");
    }
    SUBCASE("huge p_memsz") {
        patch_phdr(image, true, 1, kPMemsz, 0xffffffffffffffff);
        CHECK(load_error(image) ==
              "ELF segment 1 at 0x200000 size 0xffffffffffffffff wraps around the address space");
    }
    SUBCASE("beyond RAM") {
        patch_phdr(image, true, 1, kPPaddr, 0x100000 + 0x100);
        patch_phdr(image, true, 1, kPMemsz, 0x20000000);
        CHECK(load_error(image) ==
              "ELF segment 1 at 0x100100 size 0x20000000 ends beyond RAM (16 MiB)");
    }
    SUBCASE("ends exactly at the end of RAM is fine") {
        patch_phdr(image, true, 1, kPPaddr, kRam - 0x100);
        VectorMemory memory(kRam);
        CHECK(load(image, memory, {}).has_value());
    }
    SUBCASE("overlapping") {
        patch_phdr(image, true, 1, kPPaddr, 0x1000ff);
        CHECK(load_error(image) ==
              "ELF segments 0 and 1 overlap: 0x100000..0x100100 and 0x1000ff..0x1001ff");
    }
    SUBCASE("no PT_LOAD") {
        patch_phdr(image, true, 0, kPType, 4);
        patch_phdr(image, true, 1, kPType, 6);
        CHECK(load_error(image) ==
              "ELF image has no loadable segments (no PT_LOAD with p_memsz > 0)");
    }
}

TEST_CASE("ELF32 malformed: segment beyond 4 GiB when RAM is larger") {
    Bytes image = build_elf(valid_spec(false));
    patch_phdr(image, false, 1, kPPaddr, 0xffffff00);
    patch_phdr(image, false, 1, kPMemsz, 0x200);
    SparseMemory memory(8ull << 30);
    auto loaded = load(image, memory, {});
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().message() == "ELF segment 1 at 0xffffff00 size 0x200 ends beyond 4 GiB");
}

TEST_CASE("ELF: RAM too small for the loader's tables") {
    ElfSpec spec;
    spec.entry = 0x1000;
    spec.segments.push_back({0, 0, pattern(0x100, 1), 0x200000});  // all of a 2 MiB RAM
    CHECK(load_error(build_elf(spec), 2 << 20) ==
          "RAM (2 MiB) too small: no free 64 KiB for the stack outside the image in "
          "0x500..0x9fc00 or 1 MiB..4 GiB");
    // Stack and GDT fit in the 84 KiB left at 0x6b000..0x80000; the page tables do not.
    spec.segments[0].memsz = 0x6b000;
    spec.segments.push_back({0x80000, 0x80000, pattern(1, 1), 0x200000 - 0x80000});
    CHECK(load_error(build_elf(spec), 2 << 20) ==
          "RAM (2 MiB) too small: no free 24 KiB for the page tables outside the image in "
          "0x500..0x9fc00 or 1 MiB..4 GiB");
}

TEST_CASE("ELF: options that belong to raw images are refused") {
    const Bytes image = build_elf(valid_spec(true));
    LoadOptions options;
    options.load_addr = 0x100000;
    CHECK(load_error(image, kRam, options) ==
          "--load-addr applies only to raw images, and this is an ELF image (use --format raw "
          "to load its bytes as they are)");
    options = {};
    options.mode = CpuMode::real;
    CHECK(load_error(image, kRam, options) ==
          "--mode applies only to raw images, and this is an ELF image (ELF64 starts in long "
          "mode, ELF32 in protected)");
}

}  // namespace hvgdb::loader::test
