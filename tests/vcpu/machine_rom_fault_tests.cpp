// Machine on the real KVM: a firmware ROM at the reset vector (two windows, read-only to the
// guest, RAM split under the low one), and faults that keep the vCPU stopped.  Part of the
// hvgdb_machine_tests binary, whose main says SKIPPED without /dev/kvm.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/vcpu/machine_harness.hpp"
#include "vcpu/machine.hpp"
#include "vcpu/probe.hpp"

using namespace hvgdb::vcpu;
using hvgdb::vcpu::testing::Harness;
using hvgdb::vcpu::testing::real_mode;

namespace {

constexpr std::uint64_t rom_size = 0x10000;
constexpr std::uint8_t rom_value = 0x07;

// The ROM: at 0xfff0 the reset vector's far jump to F000:0000; there a store of 0 into the
// ROM byte at offset 0x100, a load of it, and `out 0xf4, al`: exit code (7 << 1) | 1 = 15 when
// the store was dropped, 1 when it went through.
std::vector<std::uint8_t> test_rom() {
    std::vector<std::uint8_t> rom(rom_size, 0xff);
    const std::uint8_t code[] = {
        0x2e, 0xc6, 0x06, 0x00, 0x01, 0x00,  // mov byte [cs:0x100], 0
        0x2e, 0xa0, 0x00, 0x01,              // mov al, [cs:0x100]
        0xe6, 0xf4,                          // out 0xf4, al
    };
    std::memcpy(rom.data(), code, sizeof code);
    rom[0x100] = rom_value;
    const std::uint8_t reset[] = {0xea, 0x00, 0x00, 0x00, 0xf0};  // jmp f000:0000
    std::memcpy(rom.data() + 0xfff0, reset, sizeof reset);
    return rom;
}

}  // namespace

TEST_CASE("a firmware ROM runs from the reset vector, shows at both windows, ignores writes") {
    Harness rig(Harness::unstarted);
    const auto rom = test_rom();
    const RomWindow windows[] = {{0xffff0000, 0, rom_size}, {0xf0000, 0, rom_size}};
    REQUIRE(rig.machine->add_rom(rom, windows));

    auto map = rig.machine->memory_map();
    REQUIRE(map.size() == 3);
    CHECK(map[0].gpa == 0);
    CHECK(map[0].host.size() == 0xf0000);  // RAM ends where the low window begins
    CHECK(map[1].gpa == 0xf0000);
    CHECK(map[1].guest == MemoryPermissions::read_execute);
    CHECK(map[2].gpa == 0xffff0000);

    std::uint8_t top[5] = {}, low[5] = {};
    REQUIRE(rig.machine->read_physical(0xfffffff0, top));
    REQUIRE(rig.machine->read_physical(0xffff0, low));
    CHECK(top[0] == 0xea);
    CHECK(std::memcmp(top, low, sizeof top) == 0);
    std::uint8_t end[0x20];  // a read that runs off the top of the address space stops short
    auto n = rig.machine->read_physical(0xfffffff0, end);
    REQUIRE(n);
    CHECK(*n == 0x10);
    CHECK_FALSE(rig.machine->read_physical(0xfff00000, top));  // no memory there

    // Overlapping windows and windows not in whole pages are refused.
    const RomWindow overlapping[] = {{0xfff80000, 0, rom_size}, {0xffff8000, 0, rom_size}};
    CHECK_FALSE(rig.machine->add_rom(rom, overlapping));
    const RomWindow ragged[] = {{0xfff80800, 0, rom_size}};
    CHECK_FALSE(rig.machine->add_rom(rom, ragged));
    const RomWindow beyond[] = {{0xfff00000, 0, 2 * rom_size}};
    CHECK_FALSE(rig.machine->add_rom(rom, beyond));

    rig.start(real_mode(0xf000, 0xffff0000, 0xfff0));
    auto s = rig.run(RunMode::cont);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == (rom_value << 1 | 1));
    std::uint8_t byte = 0;
    REQUIRE(rig.machine->read_physical(0xf0100, {&byte, 1}));
    CHECK(byte == rom_value);
    CHECK(rig.machine->snapshot(0).sregs.cs.base == 0xf0000);  // after the far jump

    // The debugger may write ROM; the RAM under the low window stays as it was.
    const std::uint8_t patch = 0x42;
    REQUIRE(rig.machine->write_physical(0xffff0100, {&patch, 1}));
    REQUIRE(rig.machine->read_physical(0xf0100, {&byte, 1}));
    CHECK(byte == 0x42);
    CHECK(rig.machine->ram()[0xf0100] == 0);
    CHECK_FALSE(rig.machine->add_rom(rom, windows));  // only before start()
}

TEST_CASE("a triple fault keeps the vCPU stopped until the debugger changes its registers") {
    Harness rig(Harness::unstarted);
    // At 0x7c00: ud2 with an IDT of limit 0 (no gate for #UD, #GP or #DF: shutdown).
    // At 0x7c10: mov al, 3; out 0xf4, al (exit code 7).
    rig.machine->ram()[0x7c00] = 0x0f;
    rig.machine->ram()[0x7c01] = 0x0b;
    const std::uint8_t exit_code_7[] = {0xb0, 0x03, 0xe6, 0xf4};
    std::memcpy(rig.machine->ram().data() + 0x7c10, exit_code_7, sizeof exit_code_7);
    // Flat 32-bit protected mode (no GDT needed: nothing reloads a segment).
    VcpuSnapshot start = real_mode(0, 0, 0x7c00);
    start.sregs.cr0 |= 1;
    start.sregs.cs = {
        .base = 0, .limit = 0xffffffff, .selector = 8, .type = 0xb, .db = true, .g = true};
    start.sregs.ds = start.sregs.es = start.sregs.fs = start.sregs.gs = start.sregs.ss = {
        .base = 0, .limit = 0xffffffff, .selector = 16, .type = 0x3, .db = true, .g = true};
    start.sregs.idt.limit = 0;
    start.regs.rax = 0x1234;
    rig.start(start);

    auto s = rig.run(RunMode::cont);
    REQUIRE(s.cause == StopCause::fault);
    CHECK(s.fault == FaultKind::triple_fault);
    CHECK(s.detail.starts_with(
        "guest triple fault at 0008:00007c00 (linear 0x7c00, 32-bit protected mode)"));
    auto at_fault = rig.machine->snapshot(0);
    CHECK(at_fault.regs.rip == 0x7c00);
    CHECK(at_fault.regs.rax == 0x1234);

    // Resumed as it is: the same fault again, and nothing ran.
    auto again = rig.run(RunMode::cont);
    CHECK(again.cause == StopCause::fault);
    CHECK(again.fault == FaultKind::triple_fault);
    CHECK(again.detail.find("(again:") != std::string::npos);
    CHECK(rig.machine->snapshot(0).regs == at_fault.regs);

    // Moved on by the debugger: it runs from there.
    auto moved = rig.machine->snapshot(0);
    moved.regs.rip = 0x7c10;
    REQUIRE(rig.machine->write_snapshot(0, moved));
    auto after = rig.run(RunMode::cont);
    CHECK(after.cause == StopCause::exited);
    CHECK(after.exit_code == 7);
}
