// MachineTarget's memory and software-breakpoint paths on a real Machine whose vCPU 0 has
// paging on: linear addresses through page tables built in guest RAM, split at page
// boundaries, physical mode and a page-table root override.  The vCPUs are never started; the
// published snapshot is the initial state.  Needs /dev/kvm (SKIPPED, exit 77, without it).
#include <doctest/doctest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "app/machine_target.hpp"
#include "tests/kvm_skip.hpp"

using namespace hvgdb;
using gdbstub::BreakpointType;

namespace {

constexpr std::uint64_t P = 1, RW = 2;
constexpr std::uint64_t kernel = 0xffffffff80000000;  // PML4 511, PDPT 510, PD 0
// Guest-physical layout: the tables, then page A and page B, deliberately in reverse order.
constexpr std::uint64_t pml4 = 0x1000, pdpt = 0x2000, pd = 0x3000, pt = 0x4000;
constexpr std::uint64_t other_pml4 = 0x5000, other_pdpt = 0x6000, other_pd = 0x7000,
                        other_pt = 0x8000;
constexpr std::uint64_t page_a = 0x20000, page_b = 0x10000;

struct Fixture {
    std::unique_ptr<vcpu::Machine> machine;
    std::unique_ptr<app::MachineTarget> target;

    Fixture() {
        vcpu::MachineConfig config;
        config.ram_bytes = 1 << 20;
        auto m = vcpu::Machine::create(config);
        REQUIRE(m);
        machine = std::move(*m);
        // kernel -> page A, kernel + 4 KiB -> page B, nothing after.
        put(pml4 + 511 * 8, pdpt | P | RW);
        put(pdpt + 510 * 8, pd | P | RW);
        put(pd, pt | P | RW);
        put(pt, page_a | P | RW);
        put(pt + 8, page_b | P | RW);
        // Another address space: kernel -> page B.
        put(other_pml4 + 511 * 8, other_pdpt | P | RW);
        put(other_pdpt + 510 * 8, other_pd | P | RW);
        put(other_pd, other_pt | P | RW);
        put(other_pt, page_b | P | RW);
        auto ram = machine->ram();
        std::iota(ram.begin() + page_b, ram.begin() + page_b + 0x1000, std::uint8_t{0x80});
        std::iota(ram.begin() + page_a, ram.begin() + page_a + 0x1000, std::uint8_t{0});

        vcpu::VcpuSnapshot s;  // 64-bit long mode with 4-level paging at `pml4`
        s.sregs.cr0 = 0x80000011;
        s.sregs.cr4 = 0x20;
        s.sregs.efer = 0x500;
        s.sregs.cr3 = pml4;
        s.sregs.cs.l = true;
        machine->set_initial_state(0, s);
        auto t = app::MachineTarget::create(*machine);
        REQUIRE(t);
        target = std::move(*t);
    }

    void put(std::uint64_t gpa, std::uint64_t value) {
        std::memcpy(machine->ram().data() + gpa, &value, sizeof value);
    }
    std::uint8_t ram(std::uint64_t gpa) { return machine->ram()[gpa]; }
    std::uint8_t opcode() { return breakpoint_opcode(machine->sw_breakpoints().mechanism()); }
};

}  // namespace

TEST_CASE("memory at linear addresses goes through vCPU 0's page tables, page by page") {
    Fixture f;
    std::vector<std::uint8_t> out(16);
    auto n = f.target->read_memory(kernel + 0xff8, out);
    REQUIRE(n);
    CHECK(*n == 16);
    for (unsigned i = 0; i < 8; ++i) {
        CHECK(out[i] == f.ram(page_a + 0xff8 + i));
        CHECK(out[8 + i] == f.ram(page_b + i));
    }

    // A read that runs into an unmapped page stops short; one that starts there fails.
    n = f.target->read_memory(kernel + 0x1ff8, out);
    REQUIRE(n);
    CHECK(*n == 8);
    CHECK(out[0] == f.ram(page_b + 0xff8));
    auto unmapped = f.target->read_memory(kernel + 0x2000, out);
    REQUIRE_FALSE(unmapped);
    CHECK(unmapped.error().kind == ErrorKind::target);
    CHECK(unmapped.error().context.find("not present") != std::string::npos);
    CHECK_FALSE(f.target->read_memory(0x0000800000000000, out));  // non-canonical

    // Writes: across the boundary into both pages; one that cannot be done whole changes
    // nothing.
    const std::vector<std::uint8_t> in(16, 0xee);
    REQUIRE(f.target->write_memory(kernel + 0xffc, in));
    CHECK(f.ram(page_a + 0xffb) == 0xfb);
    CHECK(f.ram(page_a + 0xffc) == 0xee);
    CHECK(f.ram(page_b + 0xb) == 0xee);
    CHECK(f.ram(page_b + 0xc) == 0x8c);
    CHECK_FALSE(f.target->write_memory(kernel + 0x1ffc, in));
    CHECK(f.ram(page_b + 0xffc) == static_cast<std::uint8_t>(0x80 + 0xfc));
    CHECK_FALSE(f.target->write_memory(kernel + 0x2000, in));

    // A page-table entry that points outside guest RAM: an error, not a crash.
    f.put(pt + 2 * 8, 0x7ff00000 | P);
    CHECK_FALSE(f.target->read_memory(kernel + 0x2000, out));
    CHECK_FALSE(f.target->write_memory(kernel + 0x2000, in));
    f.put(pd + 8, 0x7ff00000 | P);  // the next page table itself is outside RAM
    CHECK_FALSE(f.target->read_memory(kernel + 0x200000, out));
}

TEST_CASE("a software breakpoint is patched at the translated address and removed there") {
    Fixture f;
    const std::uint64_t at = kernel + 0x10;
    const std::uint8_t original = f.ram(page_a + 0x10);
    REQUIRE(f.target->insert_breakpoint(BreakpointType::software, at, 1));
    CHECK(f.ram(page_a + 0x10) == f.opcode());
    CHECK(f.machine->sw_breakpoints().contains_linear(at));
    std::uint8_t seen = 0;
    REQUIRE(f.target->read_memory(at, {&seen, 1}));
    CHECK(seen == original);  // hidden from reads

    // The guest unmaps the page (or maps it elsewhere): removal finds the patched byte anyway.
    f.put(pt, 0);
    CHECK_FALSE(f.target->read_memory(at, {&seen, 1}));
    REQUIRE(f.target->remove_breakpoint(BreakpointType::software, at, 1));
    CHECK(f.ram(page_a + 0x10) == original);
    CHECK_FALSE(f.machine->sw_breakpoints().contains_linear(at));
    CHECK_FALSE(f.target->remove_breakpoint(BreakpointType::software, at, 1));

    // Nothing to patch at an unmapped address.
    auto r = f.target->insert_breakpoint(BreakpointType::software, at, 1);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::target);
    CHECK_FALSE(f.machine->sw_breakpoints().contains_linear(at));
}

TEST_CASE("physical mode takes addresses as guest-physical; a root override switches tables") {
    Fixture f;
    std::vector<std::uint8_t> out(4);
    f.target->set_physical_memory(true);
    CHECK(f.target->physical_memory());
    REQUIRE(f.target->read_memory(page_b + 4, out));
    CHECK(out[0] == 0x84);
    REQUIRE(f.target->insert_breakpoint(BreakpointType::software, page_a + 1, 1));
    CHECK(f.ram(page_a + 1) == f.opcode());
    REQUIRE(f.target->remove_breakpoint(BreakpointType::software, page_a + 1, 1));
    CHECK(f.ram(page_a + 1) == 1);
    CHECK_FALSE(f.target->read_memory(kernel, out));  // beyond RAM as a physical address
    // translate() always walks the page tables.
    auto t = f.target->translate(kernel + 0x1234);
    REQUIRE(t);
    CHECK(t->physical == page_b + 0x234);
    CHECK(t->page_size == 0x1000);
    CHECK(t->bytes_left == 0x1000 - 0x234);
    f.target->set_physical_memory(false);

    f.target->set_page_table_root(other_pml4);
    CHECK(f.target->page_table_root() == other_pml4);
    REQUIRE(f.target->read_memory(kernel + 4, out));
    CHECK(out[0] == 0x84);                              // page B through the other tables
    CHECK_FALSE(f.target->translate(kernel + 0x1000));  // only one page there
    f.target->set_page_table_root(std::nullopt);
    REQUIRE(f.target->read_memory(kernel + 4, out));
    CHECK(out[0] == 4);  // page A again
    auto bad = f.target->translate(0xffff800000000000);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().context.find("PML4") != std::string::npos);
}

TEST_CASE("with paging off linear addresses are physical") {
    Fixture f;
    vcpu::VcpuSnapshot s = f.machine->snapshot(0);
    s.sregs.cr0 = 0x11;
    s.sregs.efer = 0;
    f.machine->write_snapshot(0, s);
    std::vector<std::uint8_t> out(0x2000);
    auto n = f.target->read_memory(page_a - 0x1000, out);
    REQUIRE(n);
    CHECK(*n == out.size());
    CHECK(out[0x1001] == 1);  // page A's second byte
    n = f.target->read_memory(f.machine->ram().size() - 4, out);
    REQUIRE(n);
    CHECK(*n == 4);  // stops at the end of RAM
}

TEST_CASE("monitor walk: each entry of vCPU 0's tables, and of another root") {
    Fixture f;
    auto walk = f.target->monitor("walk 0xffffffff80001010");
    REQUIRE(walk);
    CHECK(*walk ==
          "vCPU 0: 4-level paging, tables at CR3 0x1000\n"
          "  PML4 entry 511 at 0x1ff8: 0x0000000000002003 [ P RW ] -> "
          "page-directory-pointer table at 0x2000\n"
          "  page-directory-pointer table entry 510 at 0x2ff0: 0x0000000000003003 [ P RW ] -> "
          "page directory at 0x3000\n"
          "  page directory entry 0 at 0x3000: 0x0000000000004003 [ P RW ] -> page table at "
          "0x4000\n"
          "  page table entry 1 at 0x4008: 0x0000000000010003 [ P RW ] -> 4 KiB page at 0x10000\n"
          "0xffffffff80001010 -> physical 0x10010 (4 KiB page, writable, supervisor, "
          "executable)\n");
    // The page after: not present in the page table.
    walk = f.target->monitor("walk 0xffffffff80002000");
    REQUIRE(walk);
    CHECK(
        walk->ends_with("  page table entry 2 at 0x4010: 0x0000000000000000 [ ]\n"
                        "0xffffffff80002000 is not mapped: page table entry at 0x4010 is not "
                        "present (0x0)\n"));
    // translate says the walk's last line.
    auto t = f.target->monitor("translate 0xffffffff80001010");
    REQUIRE(t);
    CHECK(*t ==
          "0xffffffff80001010 -> physical 0x10010 (4 KiB page, writable, supervisor, "
          "executable)\n");
    // Another root.
    REQUIRE(f.target->monitor("root 0x5000"));
    walk = f.target->monitor("walk 0xffffffff80000000");
    REQUIRE(walk);
    CHECK(
        walk->starts_with("vCPU 0: 4-level paging, tables at 0x5000 ('monitor root')\n"
                          "  PML4 entry 511 at 0x5ff8: "));
    CHECK(walk->ends_with("-> physical 0x10000 (4 KiB page, writable, supervisor, executable)\n"));
    // xp is guest-physical whatever the addressing: the page-table entry itself.
    auto xp = f.target->monitor("xp 0x4008 8");
    REQUIRE(xp);
    CHECK(*xp == "00004008: 03 00 01 00 00 00 00 00                           |........|\n");
}

int main(int argc, char** argv) {
    return hvgdb::test::run_tests_if_kvm(argc, argv);
}

TEST_CASE("watchpoints by page protection translate their bytes when inserted") {
    Fixture f;
    // Across the end of page A into page B: two pieces, both in guest memory.
    CHECK(f.target->insert_breakpoint(BreakpointType::read_watch, kernel + 0xffc, 8));
    CHECK(f.target->insert_breakpoint(BreakpointType::access_watch, kernel + 0x10, 100));
    CHECK(f.target->insert_breakpoint(BreakpointType::write_watch, kernel + 0x20, 3));
    // Nothing mapped after page B: the page walk's error.
    auto unmapped = f.target->insert_breakpoint(BreakpointType::read_watch, kernel + 0x1ffe, 4);
    REQUIRE_FALSE(unmapped);
    CHECK(unmapped.error().kind == ErrorKind::target);
    CHECK(unmapped.error().message().find("not mapped") != std::string::npos);
    // Lengths gdb may send that cannot be watched.
    CHECK_FALSE(f.target->insert_breakpoint(BreakpointType::read_watch, kernel, 0));
    CHECK_FALSE(f.target->insert_breakpoint(BreakpointType::write_watch, kernel, 1ull << 40));
    // Removed by what gdb asked for, whatever the page tables say by then.
    f.put(pt, 0);
    CHECK(f.target->remove_breakpoint(BreakpointType::read_watch, kernel + 0xffc, 8));
    CHECK_FALSE(f.target->remove_breakpoint(BreakpointType::read_watch, kernel + 0xffc, 8));
    CHECK(f.target->remove_breakpoint(BreakpointType::access_watch, kernel + 0x10, 100));
    CHECK(f.target->remove_breakpoint(BreakpointType::write_watch, kernel + 0x20, 3));
    // Physical mode watches guest-physical addresses as they are.
    f.target->set_physical_memory(true);
    CHECK(f.target->insert_breakpoint(BreakpointType::read_watch, page_a, 4));
    CHECK_FALSE(f.target->insert_breakpoint(BreakpointType::read_watch, 64ull << 20, 4));
}
