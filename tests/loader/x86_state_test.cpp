// Descriptor encoding, the GDT, page tables and real-mode entry rules.
#include <doctest/doctest.h>

#include "loader/x86_state.hpp"

namespace hvgdb::loader::test {

TEST_CASE("descriptor encoding matches the SDM's flat descriptors") {
    CHECK(encode_descriptor(flat_segment(FlatKind::code32)) == 0x00cf9b000000ffff);
    CHECK(encode_descriptor(flat_segment(FlatKind::code64)) == 0x00af9b000000ffff);
    CHECK(encode_descriptor(flat_segment(FlatKind::data)) == 0x00cf93000000ffff);

    Segment s;
    s.base = 0x12345678;
    s.limit = 0x000abcde;
    s.type = 0x2;
    s.dpl = 3;
    CHECK(encode_descriptor(s) == 0x120af2345678bcde);
}

TEST_CASE("GDT layout: null, code32, data, code64 at their selectors") {
    const auto gdt = build_gdt();
    REQUIRE(gdt.size() == 32);
    for (int i = 0; i < 8; ++i) CHECK(gdt[i] == 0);
    CHECK(gdt[kCode32Selector + 5] == 0x9b);
    CHECK(gdt[kDataSelector + 5] == 0x93);
    CHECK(gdt[kCode64Selector + 5] == 0x9b);
    CHECK(gdt[kCode64Selector + 6] == 0xaf);
}

TEST_CASE("identity map size: max(RAM, 4 GiB) rounded up to 1 GiB") {
    CHECK(identity_map_size(16 << 20) == 4ull << 30);
    CHECK(identity_map_size(4ull << 30) == 4ull << 30);
    CHECK(identity_map_size((4ull << 30) + 1) == 5ull << 30);
}

TEST_CASE("page tables: one PML4 entry per 512 GiB") {
    const std::uint64_t map = 513ull << 30;
    const auto tables = build_identity_page_tables(0x10000, map);
    CHECK(tables.size() == (1 + 2 + 513) * 4096);
    auto u64 = [&](std::size_t offset) {
        std::uint64_t v = 0;
        for (int i = 7; i >= 0; --i) v = (v << 8) | tables[offset + i];
        return v;
    };
    CHECK(u64(0) == (0x11000 | 3));
    CHECK(u64(8) == (0x12000 | 3));
    CHECK(u64(16) == 0);
    CHECK(u64(0x2000) == ((0x13000 + 512 * 0x1000) | 3));  // second PDPT -> PD number 512
    const std::size_t last_pde = tables.size() - 8;
    CHECK(u64(last_pde) == (((513ull << 30) - (2 << 20)) | 0x83));
}

TEST_CASE("real-mode entry: CS = 0 below 64 KiB, else paragraph-aligned CS") {
    CHECK(real_mode_entry(0x7c00)->cs == 0);
    CHECK(real_mode_entry(0x7c00)->ip == 0x7c00);
    CHECK(real_mode_entry(0xffff)->ip == 0xffff);
    CHECK(real_mode_entry(0x10000)->cs == 0x1000);
    CHECK(real_mode_entry(0x10000)->ip == 0);
    CHECK(real_mode_entry(0xfffff)->cs == 0xffff);
    CHECK(real_mode_entry(0xfffff)->ip == 0xf);
    CHECK_FALSE(real_mode_entry(0x100000).has_value());
}

TEST_CASE("real-mode state: segments from selectors, reset CR0") {
    const CpuState cpu = real_mode_state(0x1234, 0x10, 0x9000, 0xfffe);
    CHECK(cpu.cs.base == 0x12340);
    CHECK(cpu.cs.type == 0xb);
    CHECK(cpu.ss.base == 0x90000);
    CHECK(cpu.ss.type == 0x3);
    CHECK(cpu.rsp == 0xfffe);
    CHECK(cpu.cr0 == 0x60000010);
    CHECK(cpu.gdt_limit == 0xffff);
    CHECK(cpu.idt_limit == 0xffff);
}

}  // namespace hvgdb::loader::test
