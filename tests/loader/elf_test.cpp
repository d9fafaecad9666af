// ELF64 and ELF32 happy paths: memory contents, BSS, entry translation, CPU state and tables.
#include <doctest/doctest.h>

#include "image_builder.hpp"
#include "loader/loader.hpp"
#include "page_walk.hpp"
#include "test_memory.hpp"

namespace hvgdb::loader::test {
namespace {

constexpr std::uint64_t kRam = 16 << 20;

bool setup_region(const LoadedImage& image, std::string_view what, std::uint64_t gpa,
                  std::uint64_t size) {
    for (const auto& r : image.setup)
        if (r.what == what) return r.gpa == gpa && r.size == size;
    return false;
}

ElfSpec two_segment_elf64() {
    ElfSpec spec;
    spec.entry = 0x100000;
    spec.segments.push_back({0x100000, 0x100000, pattern(0x300, 1), 0});
    spec.segments.push_back({0x200000, 0x200000, pattern(0x10, 2), 0x1000});  // BSS after 16
    return spec;
}

}  // namespace

TEST_CASE("ELF64: segments copied to physical addresses, BSS zeroed") {
    const Bytes image = build_elf(two_segment_elf64());
    VectorMemory memory(kRam, 0xcc);  // BSS must come out zero, not left as it was
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());

    CHECK(memory.read(0x100000, 0x300) == pattern(0x300, 1));
    CHECK(memory.read(0x200000, 0x10) == pattern(0x10, 2));
    CHECK(memory.read(0x200010, 0xff0) == Bytes(0xff0, 0));
    CHECK(memory.at(0x201000) == 0xcc);  // nothing past p_memsz
    CHECK(memory.at(0x1000ff + 0x201) == 0xcc);

    CHECK(loaded->format == Format::elf);
    CHECK(loaded->entry == 0x100000);
    CHECK(loaded->description == "ELF64 x86-64, 2 PT_LOAD segments, entry 0x100000");
    REQUIRE(loaded->loaded.size() == 2);
    CHECK(loaded->loaded[0].gpa == 0x100000);
    CHECK(loaded->loaded[0].size == 0x300);
    CHECK(loaded->loaded[1].gpa == 0x200000);
    CHECK(loaded->loaded[1].size == 0x1000);
}

TEST_CASE("ELF64: long mode CPU state") {
    VectorMemory memory(kRam);
    auto loaded = load(build_elf(two_segment_elf64()), memory, {});
    REQUIRE(loaded.has_value());
    const CpuState& cpu = loaded->cpu;

    CHECK(cpu.mode == CpuMode::long64);
    CHECK(cpu.rip == 0x100000);
    CHECK(cpu.rflags == 0x2);
    CHECK(cpu.cr0 == 0x80000031);  // PG | NE | ET | PE
    CHECK(cpu.cr4 == 0x620);       // OSXMMEXCPT | OSFXSR | PAE
    CHECK(cpu.efer == 0x500);      // LMA | LME
    CHECK(cpu.idt_base == 0);
    CHECK(cpu.idt_limit == 0);
    CHECK(cpu.gdt_limit == 31);

    CHECK(cpu.cs.selector == 0x18);
    CHECK(cpu.cs.base == 0);
    CHECK(cpu.cs.limit == 0xffffffff);
    CHECK(cpu.cs.type == 0xb);
    CHECK(cpu.cs.l);
    CHECK_FALSE(cpu.cs.db);
    CHECK(cpu.cs.g);
    CHECK(cpu.cs.present);
    CHECK(cpu.cs.s);
    for (const Segment* s : {&cpu.ds, &cpu.es, &cpu.fs, &cpu.gs, &cpu.ss}) {
        CHECK(s->selector == 0x10);
        CHECK(s->type == 0x3);
        CHECK(s->base == 0);
        CHECK(s->limit == 0xffffffff);
        CHECK(s->db);
        CHECK_FALSE(s->l);
    }

    // Placement: the highest free slots of conventional memory, below 0x9fc00.
    CHECK(setup_region(*loaded, "stack", 0x8fc00, 0x10000));
    CHECK(setup_region(*loaded, "gdt", 0x8fbe0, 32));
    CHECK(setup_region(*loaded, "page tables", 0x89000, 6 * 4096));
    CHECK(cpu.rsp == 0x9fc00);
    CHECK(cpu.rsp % 16 == 0);
    CHECK(cpu.gdt_base == 0x8fbe0);
    CHECK(cpu.cr3 == 0x89000);
}

TEST_CASE("ELF64: GDT bytes and the identity map as the CPU walks them") {
    VectorMemory memory(kRam);
    auto loaded = load(build_elf(two_segment_elf64()), memory, {});
    REQUIRE(loaded.has_value());
    const CpuState& cpu = loaded->cpu;

    CHECK(memory.u64(cpu.gdt_base + 0x00) == 0);
    CHECK(memory.u64(cpu.gdt_base + 0x08) == 0x00cf9b000000ffff);  // code32
    CHECK(memory.u64(cpu.gdt_base + 0x10) == 0x00cf93000000ffff);  // data
    CHECK(memory.u64(cpu.gdt_base + 0x18) == 0x00af9b000000ffff);  // code64

    const std::uint64_t pml4 = cpu.cr3, pdpt = pml4 + 0x1000, pd0 = pdpt + 0x1000;
    CHECK(memory.u64(pml4) == (pdpt | 3));
    CHECK(memory.u64(pml4 + 8) == 0);
    for (std::uint64_t i = 0; i < 4; ++i)
        CHECK(memory.u64(pdpt + i * 8) == ((pd0 + i * 0x1000) | 3));
    CHECK(memory.u64(pdpt + 4 * 8) == 0);
    CHECK(memory.u64(pd0) == 0x83);
    CHECK(memory.u64(pd0 + 8) == 0x200083);
    CHECK(memory.u64(pd0 + 3 * 0x1000 + 511 * 8) == 0xffe00083);

    for (std::uint64_t va : {0x0ull, 0x7c00ull, 0x100000ull, 0xfee00123ull, 0xffffffffull})
        CHECK(walk(memory, cpu.cr3, va) == va);
    CHECK_FALSE(walk(memory, cpu.cr3, 0x100000000ull).has_value());  // 4 GiB map for 16 MiB
}

TEST_CASE("ELF64: higher-half entry is translated to its physical address") {
    ElfSpec spec;
    spec.entry = 0xffffffff80100010;
    spec.segments.push_back({0xffffffff80100000, 0x100000, pattern(0x40, 3), 0});
    VectorMemory memory(kRam);
    auto loaded = load(build_elf(spec), memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->entry == 0x100010);
    CHECK(loaded->cpu.rip == 0x100010);
    CHECK(memory.read(0x100000, 0x40) == pattern(0x40, 3));
    CHECK(loaded->description ==
          "ELF64 x86-64, 1 PT_LOAD segment, entry 0xffffffff80100010 -> physical 0x100010");
}

TEST_CASE("ELF64: a physical e_entry (Linux style) is used as it is") {
    ElfSpec spec;
    spec.entry = 0x100020;
    spec.segments.push_back({0xffffffff81000000, 0x100000, pattern(0x40, 3), 0});
    VectorMemory memory(kRam);
    auto loaded = load(build_elf(spec), memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->cpu.rip == 0x100020);
}

TEST_CASE("ELF64: LoadOptions.entry overrides e_entry") {
    VectorMemory memory(kRam);
    LoadOptions options;
    options.entry = 0x100100;
    auto loaded = load(build_elf(two_segment_elf64()), memory, options);
    REQUIRE(loaded.has_value());
    CHECK(loaded->cpu.rip == 0x100100);
    CHECK(loaded->entry == 0x100100);
    CHECK(loaded->description ==
          "ELF64 x86-64, 2 PT_LOAD segments, entry 0x100100 (given; ELF entry 0x100000)");
}

TEST_CASE("ELF: entry outside every PT_LOAD needs --entry") {
    ElfSpec spec = two_segment_elf64();
    spec.entry = 0x500000;
    VectorMemory memory(kRam);
    auto loaded = load(build_elf(spec), memory, {});
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().kind == ErrorKind::invalid);
    CHECK(loaded.error().message() ==
          "ELF entry 0x500000 is not inside any PT_LOAD segment (virtual or physical range); "
          "give the entry address with --entry ADDR");
    LoadOptions options;
    options.entry = 0x100000;
    CHECK(load(build_elf(spec), memory, options).has_value());
}

TEST_CASE("ELF: ET_DYN loads unrelocated; other program headers and empty PT_LOADs are skipped") {
    ElfSpec spec = two_segment_elf64();
    spec.type = 3;
    spec.segments.push_back({0, 0, {}, 0, 4});             // PT_NOTE, nothing in it
    spec.segments.push_back({0x300000, 0x300000, {}, 0});  // PT_LOAD with p_memsz 0
    Bytes image = build_elf(spec);
    patch_phdr(image, true, 2, kPOffset, 0xffffffffffffff00);  // ignored: not PT_LOAD
    VectorMemory memory(kRam);
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->loaded.size() == 2);
    CHECK(loaded->description ==
          "ELF64 x86-64 ET_DYN (not relocated), 2 PT_LOAD segments, entry 0x100000");
}

TEST_CASE("ELF: program headers larger than the structure are accepted") {
    ElfSpec spec = two_segment_elf64();
    Bytes image = build_elf(spec);
    // Re-lay the two headers at a stride of 64 bytes at the end of the file.
    const std::size_t table = image.size();
    image.resize(table + 2 * 64, 0);
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 56; ++j)
            image[table + i * 64 + j] = image[elf_phdr_offset(true, i) + j];
    put(image, 32, table, 8);  // e_phoff
    put(image, 54, 64, 2);     // e_phentsize
    VectorMemory memory(kRam);
    auto loaded = load(image, memory, {});
    REQUIRE(loaded.has_value());
    CHECK(memory.read(0x100000, 0x300) == pattern(0x300, 1));
}

TEST_CASE("ELF32: flat protected mode") {
    ElfSpec spec;
    spec.is64 = false;
    spec.entry = 0x100000;
    spec.segments.push_back({0x100000, 0x100000, pattern(0x200, 5), 0x800});
    VectorMemory memory(kRam, 0xcc);
    auto loaded = load(build_elf(spec), memory, {});
    REQUIRE(loaded.has_value());
    CHECK(memory.read(0x100000, 0x200) == pattern(0x200, 5));
    CHECK(memory.read(0x100200, 0x600) == Bytes(0x600, 0));
    CHECK(loaded->description == "ELF32 i386, 1 PT_LOAD segment, entry 0x100000");

    const CpuState& cpu = loaded->cpu;
    CHECK(cpu.mode == CpuMode::protected32);
    CHECK(cpu.rip == 0x100000);
    CHECK(cpu.cr0 == 0x31);  // NE | ET | PE, paging off
    CHECK(cpu.cr3 == 0);
    CHECK(cpu.cr4 == 0x600);
    CHECK(cpu.efer == 0);
    CHECK(cpu.rflags == 0x2);
    CHECK(cpu.cs.selector == 0x08);
    CHECK(cpu.cs.db);
    CHECK_FALSE(cpu.cs.l);
    CHECK(cpu.cs.g);
    CHECK(cpu.cs.limit == 0xffffffff);
    CHECK(cpu.ss.selector == 0x10);
    CHECK(cpu.ss.db);
    CHECK(cpu.rsp == 0x9fc00);
    CHECK(setup_region(*loaded, "stack", 0x8fc00, 0x10000));
    CHECK(setup_region(*loaded, "gdt", 0x8fbe0, 32));
    CHECK(loaded->setup.size() == 4);  // stack, GDT, ACPI and MP tables: no page tables
    CHECK(memory.u64(cpu.gdt_base + 0x08) == 0x00cf9b000000ffff);
    CHECK(memory.u64(cpu.gdt_base + 0x10) == 0x00cf93000000ffff);
}

TEST_CASE("ELF: tables go to extended memory when the image fills conventional memory") {
    ElfSpec spec;
    spec.entry = 0x1000;
    spec.segments.push_back({0x0, 0x0, pattern(0x100, 7), 0xa0000});
    VectorMemory memory(kRam);
    auto loaded = load(build_elf(spec), memory, {});
    REQUIRE(loaded.has_value());
    CHECK(loaded->cpu.rsp == kRam);  // top of RAM
    for (const auto& r : loaded->setup) {
        if (r.what == "ACPI tables" || r.what == "MP tables") continue;  // below 1 MiB by design
        CHECK(r.gpa >= 0x100000);
        CHECK(r.gpa + r.size <= kRam);
    }
}

TEST_CASE("ELF64: RAM above 4 GiB is identity-mapped too") {
    constexpr std::uint64_t kBig = (8ull << 30) + (1 << 20);  // 8 GiB + 1 MiB -> 9 GiB mapped
    SparseMemory memory(kBig);
    auto loaded = load(build_elf(two_segment_elf64()), memory, {});
    REQUIRE(loaded.has_value());
    const std::uint64_t cr3 = loaded->cpu.cr3;
    CHECK(setup_region(*loaded, "page tables", cr3, (1 + 1 + 9) * 4096));
    CHECK(walk(memory, cr3, 0x2'0000'0000) == 0x2'0000'0000);
    CHECK(walk(memory, cr3, kBig + 0x1234) == kBig + 0x1234);
    CHECK(walk(memory, cr3, (9ull << 30) - 1) == (9ull << 30) - 1);
    CHECK_FALSE(walk(memory, cr3, 9ull << 30).has_value());
}

}  // namespace hvgdb::loader::test
