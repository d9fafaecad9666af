// The page walk over paging structures built in a byte vector: every mode and page size,
// page-boundary lengths, each way a walk fails, and garbage tables.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "vcpu/x86/paging.hpp"

using namespace hvgdb::vcpu::x86;

namespace {

constexpr std::uint64_t P = 1, RW = 2, US = 4, PS = 0x80, XD = 1ull << 63;
constexpr std::uint64_t KiB4 = 0x1000, MiB2 = 0x200000, MiB4 = 0x400000, GiB1 = 0x40000000;

// Guest-physical memory from 0 with page tables handed out a page at a time.
struct Memory {
    std::vector<std::uint8_t> bytes;
    std::uint64_t next_table = 0x1000;

    explicit Memory(std::size_t size = 0x40000) : bytes(size) {}

    std::uint64_t table() {
        std::uint64_t t = next_table;
        next_table += 0x1000;
        return t;
    }
    void put(std::uint64_t at, std::uint64_t value, unsigned size = 8) {
        REQUIRE(at + size <= bytes.size());
        std::memcpy(bytes.data() + at, &value, size);
    }
    PhysicalReader reader() const {
        return [this](std::uint64_t gpa, std::span<std::uint8_t> out) {
            if (gpa > bytes.size() || out.size() > bytes.size() - gpa) return false;
            std::memcpy(out.data(), bytes.data() + gpa, out.size());
            return true;
        };
    }
};

PagingControl bits32_control(std::uint64_t cr3, bool pse = true) {
    return {0x80000011, cr3, pse ? 0x10u : 0u, 0};
}
PagingControl pae_control(std::uint64_t cr3, bool nxe = false) {
    return {0x80000011, cr3, 0x20, nxe ? 0x800u : 0u};
}
PagingControl long_control(std::uint64_t cr3, bool la57 = false, bool nxe = true) {
    return {0x80000011, cr3, 0x20u | (la57 ? 0x1000u : 0u), 0x500u | (nxe ? 0x800u : 0u)};
}

// Index of `linear` in the table at `shift` with `bits` index bits.
std::uint64_t idx(std::uint64_t linear, unsigned shift, unsigned bits = 9) {
    return (linear >> shift) & ((1ull << bits) - 1);
}

// A 4-level (or 5-level) chain for `linear` down to a page table; returns the PT's address.
struct LongTables {
    Memory& m;
    std::uint64_t root;
    std::uint64_t pdpt = 0, pd = 0, pt = 0;

    LongTables(Memory& memory, std::uint64_t linear, bool la57 = false)
        : m(memory), root(memory.table()) {
        std::uint64_t pml4 = root;
        if (la57) {
            pml4 = m.table();
            m.put(root + idx(linear, 48) * 8, pml4 | P | RW | US);
        }
        pdpt = m.table();
        pd = m.table();
        pt = m.table();
        m.put(pml4 + idx(linear, 39) * 8, pdpt | P | RW | US);
        m.put(pdpt + idx(linear, 30) * 8, pd | P | RW | US);
        m.put(pd + idx(linear, 21) * 8, pt | P | RW | US);
    }
};

Translation ok(const PagingControl& c, std::uint64_t linear, const Memory& m,
               std::optional<std::uint64_t> root = std::nullopt) {
    auto t = translate(c, linear, m.reader(), root);
    if (!t) FAIL("unexpected fault: ", describe(linear, t.error()));
    return *t;
}

TranslationError fails(const PagingControl& c, std::uint64_t linear, const Memory& m,
                       std::optional<std::uint64_t> root = std::nullopt) {
    auto t = translate(c, linear, m.reader(), root);
    REQUIRE_FALSE(t.has_value());
    return t.error();
}

}  // namespace

TEST_CASE("the paging mode follows CR0.PG, CR4.PAE, EFER.LMA and CR4.LA57") {
    CHECK(paging_mode({0x11, 0, 0, 0}) == PagingMode::off);
    CHECK(paging_mode({0x80000010, 0, 0x20, 0}) == PagingMode::off);  // PG without PE
    CHECK(paging_mode(bits32_control(0)) == PagingMode::bits32);
    CHECK(paging_mode(pae_control(0)) == PagingMode::pae);
    CHECK(paging_mode(long_control(0)) == PagingMode::level4);
    CHECK(paging_mode(long_control(0, true)) == PagingMode::level5);
    SystemRegisters s;
    s.cr0 = 0x80000011;
    s.cr3 = 0x5000;
    s.cr4 = 0x20;
    s.efer = 0x500;
    PagingControl c = paging_control(s);
    CHECK(c.cr3 == 0x5000);
    CHECK(paging_mode(c) == PagingMode::level4);
    CHECK(to_string(PagingMode::pae) == "PAE paging");
}

TEST_CASE("paging off: physical is linear") {
    Memory m;
    for (std::uint64_t a : {0ull, 0x7c00ull, 0xfffff000ull, 0x123456789ull, ~0ull}) {
        Translation t = ok({0x11, 0, 0, 0}, a, m);
        CHECK(t.physical == a);
        CHECK(t.page_size == 0);
        CHECK(t.mode == PagingMode::off);
        CHECK(t.bytes_left >= 1);
    }
    CHECK(ok({0x11, 0, 0, 0}, ~0ull, m).bytes_left == 1);
    CHECK(ok({0x11, 0, 0, 0}, 0xfffffffffffff000, m).bytes_left == 0x1000);
    CHECK(identity_translation(0x1234).physical == 0x1234);
}

TEST_CASE("32-bit paging: 4 KiB pages") {
    Memory m;
    std::uint64_t pd = m.table(), pt = m.table();
    const std::uint64_t linear = 0x00401234;
    m.put(pd + idx(linear, 22, 10) * 4, pt | P | RW | US, 4);
    m.put(pt + idx(linear, 12, 10) * 4, 0x35000 | P, 4);
    Translation t = ok(bits32_control(pd | 0x18), linear, m);  // PWT/PCD bits of CR3 ignored
    CHECK(t.physical == 0x35234);
    CHECK(t.page_size == KiB4);
    CHECK(t.bytes_left == 0x1000 - 0x234);
    CHECK(t.mode == PagingMode::bits32);
    CHECK_FALSE(t.writable);  // the PTE lacks R/W
    CHECK_FALSE(t.user);
    CHECK(t.executable);  // 32-bit paging has no XD
    CHECK(ok(bits32_control(pd), linear | 0xfff, m).bytes_left == 1);
    CHECK(ok(bits32_control(pd), linear & ~0xfffull, m).bytes_left == 0x1000);

    // Linear addresses are 32 bits wide.
    CHECK(fails(bits32_control(pd), 0x100401234, m).fault == TranslationFault::non_canonical);
}

TEST_CASE("32-bit paging: 4 MiB pages with CR4.PSE, PSE-36 bits up to MAXPHYADDR") {
    Memory m(0x10000);
    std::uint64_t pd = m.table();
    const std::uint64_t linear = 0x00812345;
    const std::uint64_t pde_at = pd + idx(linear, 22, 10) * 4;
    m.put(pde_at, 0x00c00000 | PS | P | RW, 4);
    Translation t = ok(bits32_control(pd), linear, m);
    CHECK(t.physical == 0xc12345);
    CHECK(t.page_size == MiB4);
    CHECK(t.bytes_left == MiB4 - 0x12345);
    CHECK(t.writable);

    // Without CR4.PSE the PS bit is ignored: the entry points to a page table at 0xc00000,
    // which is outside this memory.
    TranslationError e = fails(bits32_control(pd, false), linear, m);
    CHECK(e.fault == TranslationFault::table_outside_memory);
    CHECK(e.depth == 1);
    CHECK(e.entry_address == 0xc00000 + idx(linear, 12, 10) * 4);

    // PDE bits 20:13 are physical bits 39:32, as many as MAXPHYADDR has; bit 21 is reserved.
    m.put(pde_at, 0x00c00000 | (0x12u << 13) | PS | P, 4);
    CHECK(ok(bits32_control(pd), linear, m).physical == 0x1200c12345);
    PagingControl c36 = bits32_control(pd);
    c36.physical_address_bits = 36;  // bits 16:13 are address, 21:17 reserved
    CHECK(fails(c36, linear, m).fault == TranslationFault::reserved_bits);
    m.put(pde_at, 0x00c00000 | (0x2u << 13) | PS | P, 4);
    CHECK(ok(c36, linear, m).physical == 0x200c12345);
    m.put(pde_at, 0x00c00000 | (1u << 21) | PS | P, 4);
    TranslationError r = fails(bits32_control(pd), linear, m);
    CHECK(r.fault == TranslationFault::reserved_bits);
    CHECK(r.depth == 0);
    CHECK(r.entry == (0x00c00000 | (1u << 21) | PS | P));
}

TEST_CASE("PAE paging: 4 KiB and 2 MiB pages, a 32-byte aligned PDPT, XD with NXE") {
    Memory m;
    std::uint64_t pdpt_page = m.table(), pd = m.table(), pt = m.table();
    const std::uint64_t pdpt = pdpt_page + 0x20;  // CR3 bits 31:5
    const std::uint64_t linear = 0xc0201abc;      // PDPTE 3, PDE 1, PTE 1
    m.put(pdpt + idx(linear, 30, 2) * 8, pd | P);
    m.put(pd + idx(linear, 21) * 8, pt | P | RW | US);
    m.put(pt + idx(linear, 12) * 8, 0x123000 | P | RW | US);
    Translation t = ok(pae_control(pdpt), linear, m);
    CHECK(t.physical == 0x123abc);
    CHECK(t.page_size == KiB4);
    CHECK(t.bytes_left == 0x1000 - 0xabc);
    CHECK(t.mode == PagingMode::pae);
    CHECK(t.writable);  // PDPTEs have no R/W bit: they restrict nothing
    CHECK(t.user);
    CHECK(t.executable);

    // A 2 MiB page.
    const std::uint64_t big = 0xc0400000 + 0x54321;  // PDE 2
    m.put(pd + idx(big, 21) * 8, 0x1fe00000 | PS | P | RW);
    t = ok(pae_control(pdpt), big, m);
    CHECK(t.physical == 0x1fe54321);
    CHECK(t.page_size == MiB2);
    CHECK(t.bytes_left == MiB2 - 0x54321);
    CHECK_FALSE(t.user);
    // Bits 20:13 of a 2 MiB PDE are reserved.
    m.put(pd + idx(big, 21) * 8, 0x1fe00000 | (1u << 13) | PS | P);
    CHECK(fails(pae_control(pdpt), big, m).fault == TranslationFault::reserved_bits);

    // XD is reserved without EFER.NXE and clears `executable` with it.
    m.put(pt + idx(linear, 12) * 8, 0x123000 | P | XD);
    CHECK(fails(pae_control(pdpt), linear, m).fault == TranslationFault::reserved_bits);
    t = ok(pae_control(pdpt, true), linear, m);
    CHECK(t.physical == 0x123abc);
    CHECK_FALSE(t.executable);

    // PDPTE bits 2:1 and 8:5 are reserved.
    m.put(pdpt + idx(linear, 30, 2) * 8, pd | P | RW);
    TranslationError e = fails(pae_control(pdpt, true), linear, m);
    CHECK(e.fault == TranslationFault::reserved_bits);
    CHECK(e.depth == 0);
    CHECK(e.table == "page-directory-pointer table");
}

TEST_CASE("4-level paging: 4 KiB, 2 MiB and 1 GiB pages, canonical addresses") {
    Memory m;
    const std::uint64_t linear = 0xffff800012345678;
    LongTables tables(m, linear);
    m.put(tables.pt + idx(linear, 12) * 8, 0x7000 | P | RW | US);
    Translation t = ok(long_control(tables.root), linear, m);
    CHECK(t.physical == 0x7678);
    CHECK(t.page_size == KiB4);
    CHECK(t.bytes_left == 0x1000 - 0x678);
    CHECK(t.mode == PagingMode::level4);
    CHECK(t.writable);
    CHECK(t.user);
    CHECK(t.executable);

    // CR3 bits 11:0 (PCID or PWT/PCD) are not part of the address.
    CHECK(ok(long_control(tables.root | 0xfff), linear, m).physical == 0x7678);

    // 2 MiB: a PDE with PS in the same PD.
    const std::uint64_t two = linear + MiB2;
    m.put(tables.pd + idx(two, 21) * 8, 0x40000000 | PS | P | RW | XD);
    t = ok(long_control(tables.root), two, m);
    CHECK(t.physical == 0x40000000 + (two & (MiB2 - 1)));
    CHECK(t.page_size == MiB2);
    CHECK(t.bytes_left == MiB2 - (two & (MiB2 - 1)));
    CHECK_FALSE(t.executable);
    CHECK_FALSE(t.user);

    // 1 GiB: a PDPTE with PS.
    const std::uint64_t one = linear + GiB1;
    m.put(tables.pdpt + idx(one, 30) * 8, 0x1c0000000 | PS | P | RW);
    t = ok(long_control(tables.root), one, m);
    CHECK(t.physical == 0x1c0000000 + (one & (GiB1 - 1)));
    CHECK(t.page_size == GiB1);
    CHECK(t.bytes_left == GiB1 - (one & (GiB1 - 1)));
    // Bits 29:13 of a 1 GiB PDPTE are reserved; PS is reserved in a PML4E.
    m.put(tables.pdpt + idx(one, 30) * 8, 0x1c0000000 | (1u << 20) | PS | P);
    CHECK(fails(long_control(tables.root), one, m).fault == TranslationFault::reserved_bits);
    m.put(tables.root + idx(linear, 39) * 8, tables.pdpt | PS | P);
    TranslationError e = fails(long_control(tables.root), linear, m);
    CHECK(e.fault == TranslationFault::reserved_bits);
    CHECK(e.table == "PML4");

    // Bits 63:47 must all equal bit 47.
    for (std::uint64_t a : {0x0000800000000000ull, 0xffff7fffffffffffull, 0x8000000000000000ull}) {
        TranslationError nc = fails(long_control(tables.root), a, m);
        CHECK(nc.fault == TranslationFault::non_canonical);
    }
}

TEST_CASE("4-level paging: MAXPHYADDR and NXE decide which high bits are reserved") {
    Memory m;
    const std::uint64_t linear = 0x401000;
    LongTables tables(m, linear);
    m.put(tables.pt + idx(linear, 12) * 8, (1ull << 40) | 0x9000 | P);
    PagingControl c = long_control(tables.root);
    CHECK(ok(c, linear, m).physical == (1ull << 40) + 0x9000);
    c.physical_address_bits = 39;
    CHECK(fails(c, linear, m).fault == TranslationFault::reserved_bits);
    // Bits 62:52 are ignored (or protection keys), never reserved.
    m.put(tables.pt + idx(linear, 12) * 8, (0x7ffull << 52) | 0x9000 | P);
    CHECK(ok(c, linear, m).physical == 0x9000);
    m.put(tables.pt + idx(linear, 12) * 8, XD | 0x9000 | P);
    CHECK_FALSE(ok(c, linear, m).executable);
    CHECK(fails(long_control(tables.root, false, false), linear, m).fault ==
          TranslationFault::reserved_bits);
}

TEST_CASE("5-level paging: a PML5 above the PML4 and 57-bit canonical addresses") {
    Memory m;
    const std::uint64_t linear = 0x00ff123456789abc;  // canonical with LA57, not without
    LongTables tables(m, linear, true);
    m.put(tables.pt + idx(linear, 12) * 8, 0x3000 | P | RW);
    Translation t = ok(long_control(tables.root, true), linear, m);
    CHECK(t.physical == 0x3abc);
    CHECK(t.mode == PagingMode::level5);
    CHECK(fails(long_control(tables.root), linear, m).fault == TranslationFault::non_canonical);
    CHECK(fails(long_control(tables.root, true), 0x0100000000000000, m).fault ==
          TranslationFault::non_canonical);
    TranslationError e = fails(long_control(tables.root, true), 0xff00000000000000, m);
    CHECK(e.fault == TranslationFault::not_present);
    CHECK(e.table == "PML5");
}

TEST_CASE("a not-present entry fails at its own level, in every mode") {
    struct Case {
        std::string_view name;
        PagingControl control;
        std::uint64_t linear;
        std::vector<std::uint64_t> entries;  // where each level's entry is, top first
    };
    Memory m(0x100000);
    std::vector<Case> cases;
    {
        std::uint64_t pd = m.table(), pt = m.table();
        std::uint64_t linear = 0x12345678;
        std::uint64_t a = pd + idx(linear, 22, 10) * 4, b = pt + idx(linear, 12, 10) * 4;
        m.put(a, pt | P, 4);
        m.put(b, 0x9000 | P, 4);
        cases.push_back({"32-bit", bits32_control(pd), linear, {a, b}});
    }
    {
        std::uint64_t pdpt = m.table(), pd = m.table(), pt = m.table();
        std::uint64_t linear = 0x92345678;
        std::uint64_t a = pdpt + idx(linear, 30, 2) * 8, b = pd + idx(linear, 21) * 8,
                      c = pt + idx(linear, 12) * 8;
        m.put(a, pd | P);
        m.put(b, pt | P);
        m.put(c, 0x9000 | P);
        cases.push_back({"PAE", pae_control(pdpt), linear, {a, b, c}});
    }
    for (bool la57 : {false, true}) {
        std::uint64_t linear = 0xfffff00012345678;
        LongTables t(m, linear, la57);
        std::uint64_t pml4 = t.root;
        std::vector<std::uint64_t> entries;
        if (la57) {
            entries.push_back(t.root + idx(linear, 48) * 8);
            pml4 = t.pdpt - 0x1000;  // allocated just before the PDPT
        }
        for (auto [table, shift] : {std::pair{pml4, 39u}, {t.pdpt, 30u}, {t.pd, 21u}})
            entries.push_back(table + idx(linear, shift) * 8);
        entries.push_back(t.pt + idx(linear, 12) * 8);
        m.put(entries.back(), 0x9000 | P);
        cases.push_back(
            {la57 ? "5-level" : "4-level", long_control(t.root, la57), linear, entries});
    }
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(ok(c.control, c.linear, m).physical == 0x9000 + (c.linear & 0xfff));
        for (unsigned depth = 0; depth < c.entries.size(); ++depth) {
            CAPTURE(depth);
            std::uint64_t saved = 0;
            std::memcpy(&saved, m.bytes.data() + c.entries[depth], 8);
            m.put(c.entries[depth], saved & ~P);
            TranslationError e = fails(c.control, c.linear, m);
            CHECK(e.fault == TranslationFault::not_present);
            CHECK(e.depth == depth);
            CHECK(e.entry_address == c.entries[depth]);
            CHECK_FALSE(e.table.empty());
            m.put(c.entries[depth], saved);
        }
    }
}

TEST_CASE("a page-table root override replaces the address in CR3") {
    Memory m;
    const std::uint64_t linear = 0xffffffff80001000;
    LongTables user(m, linear), kernel(m, linear);
    m.put(user.pt + idx(linear, 12) * 8, 0xa000 | P);
    m.put(kernel.pt + idx(linear, 12) * 8, 0xb000 | P);
    PagingControl c = long_control(user.root);
    CHECK(ok(c, linear, m).physical == 0xa000);
    CHECK(ok(c, linear, m, kernel.root).physical == 0xb000);
    CHECK(ok(c, linear, m, kernel.root | 0x7ff).physical == 0xb000);  // aligned as CR3 is
    // An override is a root in the current mode: paging off stays off.
    CHECK(ok({0x11, 0, 0, 0}, 0x5000, m, kernel.root).physical == 0x5000);
    TranslationError e = fails(c, linear, m, 0x7fff0000);
    CHECK(e.fault == TranslationFault::table_outside_memory);
    CHECK(e.depth == 0);
}

TEST_CASE("paging structures outside guest memory are an error, not a read past the end") {
    Memory m(0x4004);  // the last table page is cut short
    const std::uint64_t linear = 0x200000;
    LongTables t(m, linear);  // root 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000
    TranslationError e = fails(long_control(t.root), linear, m);
    CHECK(e.fault == TranslationFault::table_outside_memory);
    CHECK(e.depth == 3);
    CHECK(e.entry_address == 0x4000);
    CHECK(e.table == "page table");

    m.put(t.pd + idx(linear, 21) * 8, 0xfffff000 | P);
    e = fails(long_control(t.root), linear, m);
    CHECK(e.fault == TranslationFault::table_outside_memory);
    CHECK(e.entry_address == 0xfffff000);
    CHECK(fails(long_control(0x10000000), linear, m).depth == 0);

    // The page itself may be anywhere: the caller's memory access decides about it.
    m.put(t.pd + idx(linear, 21) * 8, 0x7fe00000 | PS | P);
    CHECK(ok(long_control(t.root), linear, m).physical == 0x7fe00000);
}

TEST_CASE("errors describe themselves in one line") {
    TranslationError e{TranslationFault::not_present, 1, "page directory", 0x3008, 0x2};
    std::string s = describe(0x401000, e);
    CHECK(s.find("0x401000") != std::string::npos);
    CHECK(s.find("page directory") != std::string::npos);
    CHECK(s.find("0x3008") != std::string::npos);
    CHECK(s.find("not present") != std::string::npos);
    e.fault = TranslationFault::reserved_bits;
    CHECK(describe(0x401000, e).find("reserved") != std::string::npos);
    e.fault = TranslationFault::table_outside_memory;
    CHECK(describe(0x401000, e).find("outside guest memory") != std::string::npos);
    e.fault = TranslationFault::non_canonical;
    CHECK(describe(0x401000, e).find("not a linear address") != std::string::npos);
}

TEST_CASE("garbage paging structures never crash the walk and give consistent answers") {
    std::mt19937_64 rng(20240611);
    Memory m(0x20000);
    const std::uint64_t size = m.bytes.size();
    unsigned translated = 0, faulted = 0;
    for (int round = 0; round < 50; ++round) {
        // Entries that mostly point inside memory, with random flag and high bits.
        for (std::uint64_t at = 0; at + 8 <= size; at += 8) {
            std::uint64_t v = rng();
            if (rng() % 4 != 0) v = (v & ~0x000ffffffffff000ull) | ((v >> 12) % size & ~0xfffull);
            m.put(at, v);
        }
        for (int i = 0; i < 2000; ++i) {
            PagingControl c{rng() | (rng() % 4 ? 0x80000001 : 0), rng(), rng(), rng()};
            c.physical_address_bits = static_cast<unsigned>(rng() % 64);
            std::uint64_t linear = rng();
            if (rng() % 2) linear &= 0xffffffff;
            std::optional<std::uint64_t> root;
            if (rng() % 3 == 0) root = rng() % (size + 0x2000);
            auto t = translate(c, linear, m.reader(), root);
            if (!t) {
                ++faulted;
                CHECK_FALSE(describe(linear, t.error()).empty());
                continue;
            }
            ++translated;
            if (t->page_size == 0) {
                CHECK(t->physical == linear);
                continue;
            }
            CHECK((t->page_size == KiB4 || t->page_size == MiB2 || t->page_size == MiB4 ||
                   t->page_size == GiB1));
            CHECK(t->bytes_left >= 1);
            CHECK(t->bytes_left <= t->page_size);
            CHECK((t->physical + t->bytes_left) % t->page_size == 0);
            CHECK((t->physical & (t->page_size - 1)) == (linear & (t->page_size - 1)));
            auto again = translate(c, linear, m.reader(), root);
            REQUIRE(again.has_value());
            CHECK(again->physical == t->physical);
        }
    }
    CHECK(translated > 1000);
    CHECK(faulted > 1000);
}

TEST_CASE("walk: every entry read, with its flags and where it leads, then the translation") {
    Memory m;
    const std::uint64_t linear = 0xffffffff80201234;
    LongTables t(m, linear);
    const std::uint64_t pte = t.pt + idx(linear, 12) * 8;
    m.put(pte, 0x7000 | P | RW | 0x20 | 0x40 | 0x100 | XD);  // A, D, G, XD
    auto w = walk(long_control(t.root), linear, m.reader());
    CHECK(w.mode == PagingMode::level4);
    REQUIRE(w.result);
    CHECK(w.result->physical == 0x7234);
    CHECK_FALSE(w.result->executable);
    REQUIRE(w.levels.size() == 4);
    CHECK(w.levels[0].table == "PML4");
    CHECK(w.levels[0].index == 511);
    CHECK(w.levels[0].entry_address == t.root + 511 * 8);
    CHECK(w.levels[0].entry == (t.pdpt | P | RW | US));
    CHECK(w.levels[0].flags == "[ P RW US ]");
    CHECK(w.levels[0].next == t.pdpt);
    CHECK(w.levels[0].page_size == 0);
    CHECK(w.levels[1].table == "page-directory-pointer table");
    CHECK(w.levels[1].index == 510);
    CHECK(w.levels[2].table == "page directory");
    CHECK(w.levels[2].next == t.pt);
    CHECK(w.levels[3].table == "page table");
    CHECK(w.levels[3].index == 1);
    CHECK(w.levels[3].entry_address == pte);
    CHECK(w.levels[3].flags == "[ P RW A D G XD ]");
    CHECK(w.levels[3].page_size == KiB4);
    CHECK(w.levels[3].next == 0x7000);
    // The same answer as translate().
    CHECK(w.result->physical == ok(long_control(t.root), linear, m).physical);
}

TEST_CASE("walk: large pages say PS, 4 KiB entries name bit 7 PAT, D and G only on pages") {
    Memory m;
    const std::uint64_t linear = 0x40200000;
    LongTables t(m, linear);
    // A directory entry with D and G set that points to a table: they are ignored there.
    m.put(t.pd + idx(linear, 21) * 8, t.pt | P | RW | 0x40 | 0x100);
    m.put(t.pt, 0x9000 | P | 0x80);  // bit 7 of a page-table entry: PAT
    auto w = walk(long_control(t.root), linear, m.reader());
    REQUIRE(w.levels.size() == 4);
    CHECK(w.levels[2].flags == "[ P RW ]");
    CHECK(w.levels[3].flags == "[ P PAT ]");
    // A 2 MiB page: PS, and PAT is bit 12.
    m.put(t.pd + idx(linear, 21) * 8, 0x400000 | P | PS | 0x1000 | 0x100);
    w = walk(long_control(t.root), linear, m.reader());
    REQUIRE(w.levels.size() == 3);
    CHECK(w.levels[2].flags == "[ P PS G PAT ]");
    CHECK(w.levels[2].page_size == MiB2);
    CHECK(w.levels[2].next == 0x400000);
    // PAE page-directory-pointer entries have no R/W or U/S bits to name.
    Memory pae;
    const std::uint64_t pdpt = 0x1000, pd = 0x2000;
    pae.put(pdpt, pd | P | 0x8);  // PWT
    pae.put(pd, 0x600000 | P | RW | PS);
    auto p = walk(pae_control(pdpt), 0x1000, pae.reader());
    REQUIRE(p.levels.size() == 2);
    CHECK(p.levels[0].flags == "[ P PWT ]");
    CHECK(p.levels[0].entry_bytes == 8);
    CHECK(p.levels[1].flags == "[ P RW PS ]");
}

TEST_CASE("walk: where a walk stops, and paging off") {
    Memory m;
    const std::uint64_t linear = 0x1000;
    LongTables t(m, linear);
    // Not present at the page table: four levels, the last one's entry 0.
    auto w = walk(long_control(t.root), linear, m.reader());
    REQUIRE_FALSE(w.result);
    CHECK(w.result.error().fault == TranslationFault::not_present);
    REQUIRE(w.levels.size() == 4);
    CHECK(w.levels[3].entry == 0);
    CHECK(w.levels[3].flags == "[ ]");
    CHECK(w.levels[3].next == 0);
    // A directory entry pointing outside memory: the walk reads up to the table it cannot.
    m.put(t.pd + idx(linear, 21) * 8, 0x40000000 | P | RW);
    w = walk(long_control(t.root), linear, m.reader());
    REQUIRE_FALSE(w.result);
    CHECK(w.result.error().fault == TranslationFault::table_outside_memory);
    REQUIRE(w.levels.size() == 4);
    CHECK(w.levels[2].next == 0x40000000);
    CHECK(w.levels[3].entry_address == 0x40000000 + idx(linear, 12) * 8);
    // 32-bit paging: 4-byte entries.
    Memory b;
    b.put(0x1000, 0x2000 | P | RW | US, 4);
    b.put(0x2000 + 5 * 4, 0x3000 | P, 4);
    auto w32 = walk(bits32_control(0x1000), 0x5123, b.reader());
    REQUIRE(w32.result);
    CHECK(w32.result->physical == 0x3123);
    REQUIRE(w32.levels.size() == 2);
    CHECK(w32.levels[0].entry_bytes == 4);
    CHECK(w32.levels[1].index == 5);
    // Non-canonical: nothing read.
    w = walk(long_control(t.root), 0x0000800000000000, m.reader());
    CHECK(w.levels.empty());
    CHECK(w.result.error().fault == TranslationFault::non_canonical);
    // Paging off: no levels, the identity.
    w = walk({0x11, 0, 0, 0}, 0x1234, m.reader());
    CHECK(w.mode == PagingMode::off);
    CHECK(w.levels.empty());
    REQUIRE(w.result);
    CHECK(w.result->physical == 0x1234);
}
