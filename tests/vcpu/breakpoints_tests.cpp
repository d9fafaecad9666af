#include <doctest/doctest.h>

#include <vector>

#include "vcpu/breakpoints.hpp"

using namespace hvgdb::vcpu;

TEST_CASE("software breakpoints patch the mechanism's opcode and hide it from reads") {
    std::vector<std::uint8_t> ram(0x100, 0x90);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::hlt);
    REQUIRE(bps.insert(0x10, 0x10));
    CHECK(ram[0x10] == 0xf4);
    CHECK(bps.contains_linear(0x10));
    CHECK_FALSE(bps.contains_linear(0x11));

    std::vector<std::uint8_t> out(4);
    auto n = bps.read(0x0e, out);
    REQUIRE(n);
    CHECK(*n == 4);
    CHECK(out == std::vector<std::uint8_t>{0x90, 0x90, 0x90, 0x90});

    // A second insert at the same address is the same breakpoint; the original byte stays.
    REQUIRE(bps.insert(0x10, 0x10));
    REQUIRE(bps.remove(0x10, 0x10));
    CHECK(ram[0x10] == 0x90);
    CHECK_FALSE(bps.remove(0x10, 0x10));
}

TEST_CASE("a write over a breakpoint updates the original and keeps the breakpoint") {
    std::vector<std::uint8_t> ram(0x40, 0);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::int3);
    REQUIRE(bps.insert(0x20, 0x20));
    CHECK(ram[0x20] == 0xcc);
    const std::uint8_t data[] = {1, 2, 3};
    REQUIRE(bps.write(0x1f, data));
    CHECK(ram[0x1f] == 1);
    CHECK(ram[0x20] == 0xcc);
    CHECK(ram[0x21] == 3);
    std::uint8_t back[3];
    REQUIRE(bps.read(0x1f, back));
    CHECK(back[1] == 2);
    bps.remove_all();
    CHECK(ram[0x20] == 2);
}

TEST_CASE("memory access outside RAM is an error, reads stop short at the end") {
    std::vector<std::uint8_t> ram(0x10, 7);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::hlt);
    std::uint8_t out[8];
    auto n = bps.read(0xc, out);
    REQUIRE(n);
    CHECK(*n == 4);
    CHECK_FALSE(bps.read(0x10, out));
    CHECK_FALSE(bps.read(~0ull, out));
    const std::uint8_t in[8] = {};
    CHECK_FALSE(bps.write(0xc, in));
    CHECK_FALSE(bps.write(~0ull - 2, in));
    CHECK(ram[0xc] == 7);  // a failed write changes nothing
    CHECK_FALSE(bps.insert(0x10, 0x10));
}

TEST_CASE("traps: the debugger's breakpoint, an alias of its byte, one removed, the guest's") {
    using Trap = SwBreakpoints::Trap;
    std::vector<std::uint8_t> ram(0x10, 0x90);
    ram[3] = 0xf4;  // the guest's own hlt
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::hlt);
    CHECK(bps.classify(3, 3) == Trap::guest);  // never a breakpoint
    CHECK(bps.classify(5, 5) == Trap::guest);  // never a breakpoint, no opcode
    REQUIRE(bps.insert(4, 4));
    CHECK(bps.classify(4, 4) == Trap::breakpoint);
    // The same byte through another linear address (a second mapping of the page).
    CHECK(bps.classify(0x80000004, 4) == Trap::alias);
    // Untranslatable: only the linear address counts.
    CHECK(bps.classify(4, std::nullopt) == Trap::breakpoint);
    CHECK(bps.classify(0x80000004, std::nullopt) == Trap::guest);
    REQUIRE(bps.remove(4, 4));
    CHECK(bps.classify(4, 4) == Trap::removed);
    CHECK(bps.classify(0x80000004, 4) == Trap::removed);  // the byte was a breakpoint's
    REQUIRE(bps.insert(4, 4));
    CHECK(bps.classify(4, 4) == Trap::breakpoint);  // inserted again
    bps.remove_all();
    CHECK(bps.classify(4, 4) == Trap::removed);
    CHECK(bps.classify(0x10, 0x10) == Trap::guest);  // outside memory
}

TEST_CASE("with_original runs with the original byte and patches it again") {
    std::vector<std::uint8_t> ram(0x10, 0x90);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::int3);
    REQUIRE(bps.insert(6, 6));
    std::uint8_t seen = 0;
    bps.with_original(6, [&] { seen = ram[6]; });
    CHECK(seen == 0x90);
    CHECK(ram[6] == 0xcc);
    // Removed while it ran: not patched again.
    bps.with_original(6, [&] { REQUIRE(bps.remove(6, 6)); });
    CHECK(ram[6] == 0x90);
    bps.with_original(7, [&] { seen = ram[7]; });  // no breakpoint there: just runs
    CHECK(ram[7] == 0x90);
}

TEST_CASE("a byte the guest overwrote since the patch keeps the guest's value") {
    std::vector<std::uint8_t> ram(0x10, 0x90);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::hlt);
    REQUIRE(bps.insert(2, 2));
    REQUIRE(bps.insert(8, 8));
    ram[2] = 0x34;  // the guest's own store over the patched byte
    ram[8] = 0x12;
    std::uint8_t back[1];
    REQUIRE(bps.read(2, back));
    CHECK(back[0] == 0x34);  // not the stale original
    REQUIRE(bps.remove(2, 2));
    CHECK(ram[2] == 0x34);
    bps.remove_all();
    CHECK(ram[8] == 0x12);
}

TEST_CASE("the number of software breakpoints is bounded") {
    std::vector<std::uint8_t> ram(SwBreakpoints::max_breakpoints + 1, 0x90);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::hlt);
    for (std::uint64_t a = 0; a < SwBreakpoints::max_breakpoints; ++a) REQUIRE(bps.insert(a, a));
    auto over = bps.insert(SwBreakpoints::max_breakpoints, SwBreakpoints::max_breakpoints);
    REQUIRE_FALSE(over);
    CHECK(over.error().kind == hvgdb::ErrorKind::target);
    CHECK(ram[SwBreakpoints::max_breakpoints] == 0x90);
    CHECK(bps.insert(5, 5));  // re-inserting an existing one is still fine
    bps.remove_all();
    CHECK_FALSE(bps.contains_linear(5));
    CHECK(ram[5] == 0x90);
}

TEST_CASE("the number of linear addresses sharing bytes is bounded too") {
    std::vector<std::uint8_t> ram(0x10, 0x90);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::hlt);
    // Every linear address aliases the same byte, as a guest's page tables may arrange.
    for (std::uint64_t a = 0; a < SwBreakpoints::max_breakpoints; ++a) REQUIRE(bps.insert(a, 3));
    auto over = bps.insert(SwBreakpoints::max_breakpoints, 3);
    REQUIRE_FALSE(over);
    CHECK(over.error().kind == hvgdb::ErrorKind::target);
    CHECK_FALSE(bps.contains_linear(SwBreakpoints::max_breakpoints));
    CHECK(bps.insert(7, 3));  // an existing one again is fine
    bps.remove_all();
    CHECK(ram[3] == 0x90);
}

TEST_CASE("memory rewritten under breakpoints: the new bytes become the originals") {
    std::vector<std::uint8_t> ram(0x40, 0x11);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::int3);
    REQUIRE(bps.insert(0x10, 0x10));
    REQUIRE(bps.insert(0x20, 0x20));
    const std::uint8_t guest[] = {0x22};
    REQUIRE(bps.write(0x20, guest));  // the guest's own change to the second byte

    // The rewrite sees the originals, not the patches, and writes some bytes anew.
    std::vector<std::uint8_t> seen;
    auto r = bps.rewrite([&]() -> hvgdb::Result<void> {
        seen.assign(ram.begin(), ram.end());
        std::fill(ram.begin(), ram.end(), 0);
        ram[0x10] = 0x55;  // the image's byte under the first breakpoint; 0x20 stays 0
        return {};
    });
    REQUIRE(r);
    CHECK(seen[0x10] == 0x11);
    CHECK(seen[0x20] == 0x22);
    CHECK(ram[0x10] == 0xcc);  // patched again
    CHECK(ram[0x20] == 0xcc);
    std::vector<std::uint8_t> out(0x40);
    REQUIRE(bps.read(0, out));
    CHECK(out[0x10] == 0x55);
    CHECK(out[0x20] == 0x00);
    CHECK(bps.contains_linear(0x10));
    // Removing restores the new bytes, never an old one or the opcode.
    REQUIRE(bps.remove(0x10, 0x10));
    REQUIRE(bps.remove(0x20, 0x20));
    CHECK(ram[0x10] == 0x55);
    CHECK(ram[0x20] == 0x00);

    // A rewrite that fails still leaves the breakpoints patched over what memory holds.
    REQUIRE(bps.insert(0x8, 0x8));
    r = bps.rewrite(
        [] { return hvgdb::Result<void>(hvgdb::make_error(hvgdb::ErrorKind::target, "no")); });
    CHECK_FALSE(r);
    CHECK(ram[0x8] == 0xcc);
    REQUIRE(bps.read(0x8, std::span(out).first(1)));
    CHECK(out[0] == 0x00);
}

TEST_CASE("a removed breakpoint's trap is the guest's own after memory is rewritten") {
    std::vector<std::uint8_t> ram(0x40, 0x90);
    PhysicalMemory memory(ram);
    SwBreakpoints bps(memory, SwBreakpointMechanism::int3);
    REQUIRE(bps.insert(0x10, 0x10));
    REQUIRE(bps.remove(0x10, 0x10));
    CHECK(bps.classify(0x10, 0x10) == SwBreakpoints::Trap::removed);
    REQUIRE(bps.rewrite([&]() -> hvgdb::Result<void> {
        ram[0x10] = 0xcc;  // the new image has an int3 of its own there
        return {};
    }));
    CHECK(bps.classify(0x10, 0x10) == SwBreakpoints::Trap::guest);
}
