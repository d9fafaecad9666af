// Single steps on the real KVM, as README "Stepping" defines them: OUT and IN are one
// instruction, a REP string instruction (REP OUTSB too) never stops with its count run out,
// INT n and INT3 stop at the handler's first instruction with a clean FLAGS image, and a step
// after the debugger moved the PC, or with interrupts enabled, is still one instruction.  Part
// of the hvgdb_machine_tests binary, whose main says SKIPPED without /dev/kvm.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/vcpu/machine_harness.hpp"

using namespace hvgdb::vcpu;
using testing::code;
using testing::Harness;

namespace {

std::uint64_t rip(Harness& h) {
    return h.machine->snapshot(0).regs.rip;
}

std::uint16_t word_at(Harness& h, std::uint64_t gpa) {
    std::uint8_t b[2] = {};
    REQUIRE(h.machine->read_physical(gpa, b));
    return static_cast<std::uint16_t>(b[0] | b[1] << 8);
}

void step_to(Harness& h, std::uint64_t expected) {
    auto s = h.run(RunMode::step);
    REQUIRE(s.cause == StopCause::step);
    CHECK(rip(h) == expected);
}

constexpr std::uint64_t handler = code + 0x40;  // nop; iret

// `program` with an interrupt handler at `handler` after it.
std::vector<std::uint8_t> with_handler(std::vector<std::uint8_t> program) {
    program.resize(0x42, 0x90);
    program[0x41] = 0xcf;  // iret
    return program;
}

void enter_handler_through(Harness& h, std::initializer_list<unsigned> vectors) {
    for (unsigned v : vectors) {
        const std::uint8_t entry[] = {handler & 0xff, handler >> 8, 0, 0};  // IP, then CS 0
        REQUIRE(h.machine->write_physical(v * 4, entry));
    }
}

}  // namespace

TEST_CASE("a single step over OUT or IN runs that instruction alone") {
    Harness h({
        0xb0, 'S',         // 7c00 mov al, 'S'
        0xe6, 0xe9,        // 7c02 out 0xe9, al
        0x90,              // 7c04 nop
        0xba, 0xfd, 0x03,  // 7c05 mov dx, 0x3fd (COM1 line status)
        0xec,              // 7c08 in al, dx
        0x90,              // 7c09 nop
        0xb0, 0x01,        // 7c0a mov al, 1
        0xe6, 0xf4,        // 7c0c out 0xf4, al
    });
    step_to(h, code + 2);
    step_to(h, code + 4);  // kvm_pvm alone would run the nop too
    CHECK(h.console == "S");
    step_to(h, code + 5);
    step_to(h, code + 8);
    step_to(h, code + 9);
    CHECK((h.machine->snapshot(0).regs.rax & 0xff) == 0x60);  // THR empty, transmitter empty
    step_to(h, code + 10);
    step_to(h, code + 12);
    auto s = h.run(RunMode::step);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 3);
}

TEST_CASE("a single step over a REP string instruction never stops with the count run out") {
    Harness h({
        0xb9, 0x05, 0x00,  // 7c00 mov cx, 5
        0xbf, 0x00, 0x05,  // 7c03 mov di, 0x500
        0xb0, 'z',         // 7c06 mov al, 'z'
        0xf3, 0xaa,        // 7c08 rep stosb
        0x90,              // 7c0a nop
    });
    auto probe = probe_host();
    REQUIRE(probe);
    step_to(h, code + 3);
    step_to(h, code + 6);
    step_to(h, code + 8);
    unsigned steps = 0;
    std::uint64_t count = 5;
    while (rip(h) == code + 8) {
        REQUIRE(steps < 5);
        REQUIRE(h.run(RunMode::step).cause == StopCause::step);
        ++steps;
        const std::uint64_t left = h.machine->snapshot(0).regs.rcx & 0xffff;
        CHECK(left < count);  // every step runs at least one iteration
        count = left;
        if (rip(h) == code + 8) CHECK(left != 0);
    }
    CHECK(rip(h) == code + 10);
    CHECK(count == 0);
    if (probe->rep_iteration_steps) CHECK(steps == 5);  // one iteration each
    std::uint8_t filled[6] = {};
    REQUIRE(h.machine->read_physical(0x500, filled));
    CHECK(std::string(filled, filled + 5) == "zzzzz");
    CHECK(filled[5] == 0);
}

TEST_CASE("a single step over REP OUTSB runs whole iterations and ends past it") {
    Harness h({
        0xb9, 0x03, 0x00,  // 7c00 mov cx, 3
        0xbe, 0x20, 0x7c,  // 7c03 mov si, 0x7c20
        0xba, 0xe9, 0x00,  // 7c06 mov dx, 0xe9
        0xf3, 0x6e,        // 7c09 rep outsb
        0x90,              // 7c0b nop
    });
    REQUIRE(h.machine->write_physical(code + 0x20, std::vector<std::uint8_t>{'a', 'b', 'c'}));
    step_to(h, code + 3);
    step_to(h, code + 6);
    step_to(h, code + 9);
    unsigned steps = 0;
    while (rip(h) == code + 9) {
        REQUIRE(steps < 3);
        REQUIRE(h.run(RunMode::step).cause == StopCause::step);
        ++steps;
        if (rip(h) == code + 9) CHECK((h.machine->snapshot(0).regs.rcx & 0xffff) != 0);
    }
    CHECK(rip(h) == code + 11);
    CHECK(h.console == "abc");
}

TEST_CASE("a single step over INT n or INT3 stops at the handler's first instruction") {
    Harness h(with_handler({
        0xcd, 0x40,  // 7c00 int 0x40
        0x90,        // 7c02 nop
        0xcc,        // 7c03 int3, the guest's own
        0x90,        // 7c04 nop
    }));
    enter_handler_through(h, {3, 0x40});
    const std::uint64_t sp = h.machine->snapshot(0).regs.rsp;
    step_to(h, handler);
    const auto& regs = h.machine->snapshot(0).regs;
    CHECK(regs.rsp == sp - 6);
    CHECK(word_at(h, regs.rsp) == code + 2);  // return IP, CS 0
    CHECK(word_at(h, regs.rsp + 2) == 0);
    CHECK((word_at(h, regs.rsp + 4) & 0x100) == 0);  // no TF in the pushed FLAGS
    step_to(h, handler + 1);                         // nop
    step_to(h, code + 2);                            // iret
    step_to(h, code + 3);
    step_to(h, handler);  // int3
    CHECK(word_at(h, h.machine->snapshot(0).regs.rsp) == code + 4);
    step_to(h, handler + 1);
    step_to(h, code + 4);
}

TEST_CASE("a single step at a software breakpoint's address stops at the breakpoint") {
    // As an int3 trap leaves it: the PC on the breakpoint, its instruction not run.  A stepped
    // hlt (the breakpoint byte where int3 does not trap) ends in the step's trap, not in a
    // halt; taken for the step, it left the PC one byte into the instruction.
    Harness h({0x80, 0x3e, 0x00, 0x06, 0x00, 0x90, 0xb0, 0x01, 0xe6, 0xf4});  // cmp byte [600],0
    REQUIRE(h.machine->sw_breakpoints().insert(code, code));
    auto s = h.run(RunMode::step);
    CHECK(s.cause == StopCause::sw_breakpoint);
    CHECK(s.address == code);
    CHECK(rip(h) == code);
    // Removed, the step runs the instruction under it.
    REQUIRE(h.machine->sw_breakpoints().remove(code, code));
    step_to(h, code + 5);
    step_to(h, code + 6);
}

TEST_CASE("a single step after the debugger moved the PC runs one instruction") {
    // Were the step to run free from 7c04 the guest would exit with code 3.
    Harness h({0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xb0, 0x01, 0xe6, 0xf4});
    step_to(h, code + 1);
    auto snap = h.machine->snapshot(0);
    snap.regs.rip = code + 4;
    REQUIRE(h.machine->write_snapshot(0, snap));
    step_to(h, code + 5);
    step_to(h, code + 6);
}

TEST_CASE("a single step with interrupts enabled is one instruction all the same") {
    // No interrupt source can fire (hvgdb injects none), and STI's one-instruction interrupt
    // shadow does not hold back the step's trap.
    Harness h({0xfb, 0x90, 0x90, 0xfa, 0x90});  // sti; nop; nop; cli; nop
    step_to(h, code + 1);
    CHECK((h.machine->snapshot(0).regs.rflags & 0x200) != 0);
    step_to(h, code + 2);
    step_to(h, code + 3);
    step_to(h, code + 4);
    CHECK((h.machine->snapshot(0).regs.rflags & 0x200) == 0);
}
