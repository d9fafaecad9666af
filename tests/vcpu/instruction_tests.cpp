// Instruction classes for single steps (prefixes, modes, truncated bytes), software interrupt
// entries from IVTs, IDTs, GDTs and LDTs built in a byte vector, and the debug register a step
// over a software interrupt borrows.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "vcpu/vcpu_loop.hpp"
#include "vcpu/x86/instruction.hpp"

using namespace hvgdb::vcpu::x86;
using Kind = InstructionClass::Kind;

namespace {

InstructionClass classify(std::vector<std::uint8_t> bytes, CpuMode mode = CpuMode::real) {
    return classify_instruction(bytes, mode);
}

InstructionClass interrupt(std::uint8_t vector) {
    return {Kind::software_interrupt, vector, 0};
}

InstructionClass repeated(unsigned address_bits) {
    return {Kind::repeated_string, 0, address_bits};
}

// Linear memory from 0 (paging off).
struct Memory {
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(0x10000);

    void put(std::uint64_t at, std::uint64_t value, unsigned size) {
        REQUIRE(at + size <= bytes.size());
        std::memcpy(bytes.data() + at, &value, size);
    }
    LinearReader reader() const {
        return [this](std::uint64_t linear, std::span<std::uint8_t> out) {
            if (linear > bytes.size() || out.size() > bytes.size() - linear) return false;
            std::memcpy(out.data(), bytes.data() + linear, out.size());
            return true;
        };
    }
};

// A legacy segment or gate descriptor (SDM vol. 3A, 3.4.5 and 6.11).
std::uint64_t segment_descriptor(std::uint32_t base) {
    return 0xffff | std::uint64_t{base & 0xffffff} << 16 | std::uint64_t{0x9a} << 40 |
           std::uint64_t{0xcf} << 48 | std::uint64_t{base >> 24} << 56;
}
std::uint64_t gate(std::uint32_t offset, std::uint16_t selector, std::uint8_t type_byte) {
    return (offset & 0xffff) | std::uint64_t{selector} << 16 | std::uint64_t{type_byte} << 40 |
           std::uint64_t{offset >> 16} << 48;
}

constexpr std::uint64_t gdt = 0x1000, idt = 0x2000, ldt = 0x3000;

SystemRegisters protected_mode() {
    SystemRegisters s;
    s.cr0 = 0x11;
    s.cs.db = true;
    s.gdt = {gdt, 0xff};
    s.idt = {idt, 0x7ff};
    s.ldt.base = ldt;
    s.ldt.limit = 0xff;
    return s;
}

}  // namespace

TEST_CASE("software interrupts in every mode") {
    CHECK(classify({0xcd, 0x40}) == interrupt(0x40));
    CHECK(classify({0xcd, 0x80, 0x90}, CpuMode::protected32) == interrupt(0x80));
    CHECK(classify({0xcc}) == interrupt(3));
    CHECK(classify({0xcc}, CpuMode::long64) == interrupt(3));
    CHECK(classify({0xce}, CpuMode::protected16) == interrupt(4));
    CHECK(classify({0x2e, 0xcd, 0x21}) == interrupt(0x21));  // a prefix changes nothing
}

TEST_CASE("what is not a software interrupt") {
    CHECK(classify({0xce}, CpuMode::long64).kind == Kind::other);  // INTO is #UD there
    CHECK(classify({0xf1}).kind == Kind::other);                   // INT1
    CHECK(classify({0xcd}).kind == Kind::other);                   // truncated: no vector
    CHECK(classify({}).kind == Kind::other);
    CHECK(classify({0x90}).kind == Kind::other);
    CHECK(classify({0xe6, 0xe9}).kind == Kind::other);  // out 0xe9, al
    // 0x40 is a REX prefix in 64-bit mode only; elsewhere it is INC.
    CHECK(classify({0x40, 0xcc}, CpuMode::protected32).kind == Kind::other);
    CHECK(classify({0x40, 0xcc}, CpuMode::long64) == interrupt(3));
    // More prefixes than an instruction may have.
    std::vector<std::uint8_t> prefixes(15, 0x66);
    prefixes.push_back(0xcc);
    CHECK(classify(prefixes).kind == Kind::other);
}

TEST_CASE("repeated string instructions and their count width") {
    CHECK(classify({0xf3, 0xa4}) == repeated(16));                         // rep movsb
    CHECK(classify({0xf3, 0xaa}, CpuMode::protected32) == repeated(32));   // rep stosb
    CHECK(classify({0xf3, 0x48, 0xab}, CpuMode::long64) == repeated(64));  // rep stosq
    CHECK(classify({0xf2, 0xae}, CpuMode::protected16) == repeated(16));   // repne scasb
    CHECK(classify({0xf3, 0x6e}) == repeated(16));                         // rep outsb
    CHECK(classify({0xf3, 0x6d}) == repeated(16));                         // rep insw
    CHECK(classify({0xf3, 0xa7}) == repeated(16));                         // repe cmpsw
    CHECK(classify({0xf3, 0xad}) == repeated(16));                         // rep lodsw
    // The address-size prefix picks the other width, in either order with REP.
    CHECK(classify({0x67, 0xf3, 0xa4}) == repeated(32));
    CHECK(classify({0xf3, 0x67, 0xa4}, CpuMode::protected32) == repeated(16));
    CHECK(classify({0xf3, 0x67, 0x48, 0xa5}, CpuMode::long64) == repeated(32));
    // Without REP a string instruction is one iteration; REP before anything else is ignored.
    CHECK(classify({0xa4}).kind == Kind::other);
    CHECK(classify({0xf3, 0x90}).kind == Kind::other);  // pause
    CHECK(classify({0xf3}).kind == Kind::other);
}

TEST_CASE("string_count keeps the address-size part of RCX") {
    CHECK(string_count(0x1234'0000'0000'0005, 16) == 5);
    CHECK(string_count(0x1234'0001'0000'0000, 32) == 0);
    CHECK(string_count(0x1234'0001'0000'0000, 64) == 0x1234'0001'0000'0000);
}

TEST_CASE("real mode: the IVT gives segment and offset") {
    Memory m;
    m.put(0x40 * 4, 0x0010, 2);  // offset
    m.put(0x40 * 4 + 2, 0x1234, 2);
    SystemRegisters s;
    s.cr0 = 0x10;
    s.idt = {0, 0x3ff};
    auto e = interrupt_entry(s, 0x2, 0x40, m.reader());
    REQUIRE(e);
    CHECK(e->handler == 0x12350);
    CHECK(e->slot_bytes == 2);
    // An IVT moved with LIDT, and one whose limit ends before the entry.
    m.put(0x800 + 3 * 4, 0x00007c40, 4);
    s.idt = {0x800, 0x3ff};
    CHECK(interrupt_entry(s, 0x2, 3, m.reader()) == InterruptEntry{0x7c40, 2});
    s.idt = {0, 0xff};
    CHECK_FALSE(interrupt_entry(s, 0x2, 0x40, m.reader()));
    CHECK(interrupt_entry(s, 0x2, 0x3f, m.reader()));
}

TEST_CASE("protected mode: gates, code segments and what stops the lookup") {
    Memory m;
    SystemRegisters s = protected_mode();
    m.put(gdt + 8, segment_descriptor(0x10000), 8);
    m.put(gdt + 16, segment_descriptor(0), 8);
    m.put(ldt + 8, segment_descriptor(0x200000), 8);
    m.put(idt + 0x21 * 8, gate(0x12345678, 8, 0x8e), 8);  // 32-bit interrupt gate
    m.put(idt + 0x22 * 8, gate(0x1000, 16, 0xef), 8);     // 32-bit trap gate, DPL 3
    m.put(idt + 0x23 * 8, gate(0xabcd1234, 8, 0x86), 8);  // 16-bit interrupt gate
    m.put(idt + 0x24 * 8, gate(0x100, 0x0c, 0x8e), 8);    // through the LDT
    m.put(idt + 0x25 * 8, gate(0, 0x28, 0x85), 8);        // task gate
    m.put(idt + 0x26 * 8, gate(0x1000, 8, 0x0e), 8);      // not present
    m.put(idt + 0x27 * 8, gate(0x1000, 0, 0x8e), 8);      // null selector
    m.put(idt + 0x28 * 8, gate(0x1000, 0x108, 0x8e), 8);  // past the GDT's limit
    m.put(idt + 0x29 * 8, gate(0x1000, 8, 0x8c), 8);      // a call gate: #GP
    auto entry = [&](std::uint8_t v, std::uint64_t rflags = 0x2) {
        return interrupt_entry(s, rflags, v, m.reader());
    };
    CHECK(entry(0x21) == InterruptEntry{0x12355678, 4});
    CHECK(entry(0x22) == InterruptEntry{0x1000, 4});
    CHECK(entry(0x23) == InterruptEntry{0x11234, 2});  // the offset's upper half is ignored
    CHECK(entry(0x24) == InterruptEntry{0x200100, 4});
    for (std::uint8_t v : {0x25, 0x26, 0x27, 0x28, 0x29}) CHECK_FALSE(entry(v));
    CHECK_FALSE(entry(0x21, 0x20002));  // virtual-8086 mode
    s.ldt.unusable = true;
    CHECK_FALSE(entry(0x24));
    s.idt.limit = 0x21 * 8 + 6;  // the gate's last byte is past the limit
    CHECK_FALSE(entry(0x21));
    s.idt = {0xfff8, 0x7ff};  // the IDT runs out of memory
    CHECK_FALSE(entry(0x21));
}

TEST_CASE("IA-32e mode: 16-byte gates with 64-bit offsets") {
    Memory m;
    SystemRegisters s = protected_mode();
    s.efer = 0x500;
    s.cs.l = true;
    s.idt = {idt, 0xfff};
    std::uint64_t handler = 0xffffffff80001234;
    m.put(idt + 0x80 * 16, gate(static_cast<std::uint32_t>(handler), 8, 0x8e), 8);
    m.put(idt + 0x80 * 16 + 8, handler >> 32, 8);
    m.put(idt + 0x81 * 16, gate(0x1000, 8, 0x8c), 8);  // a call gate
    CHECK(interrupt_entry(s, 0x2, 0x80, m.reader()) == InterruptEntry{handler, 8});
    CHECK_FALSE(interrupt_entry(s, 0x2, 0x81, m.reader()));
    s.idt.limit = 0x80 * 16 + 8;
    CHECK_FALSE(interrupt_entry(s, 0x2, 0x80, m.reader()));
}

TEST_CASE("the pushed FLAGS image is the third slot on the handler's stack") {
    SystemRegisters s;
    s.cr0 = 0x10;
    s.ss.base = 0x1000;
    CHECK(pushed_flags_address(s, 0x7000 - 6, 2) == 0x1000 + 0x7000 - 2);
    CHECK(pushed_flags_address(s, 0xfffe, 2) == 0x1002);  // SP wraps within the segment
    s = protected_mode();
    s.ss.base = 0x100000;
    s.ss.db = true;
    CHECK(pushed_flags_address(s, 0x8000, 4) == 0x108008);
    s.ss.db = false;  // a 16-bit stack segment
    CHECK(pushed_flags_address(s, 0x1fffe, 2) == 0x100002);
    s.efer = 0x500;
    s.cs.l = true;
    CHECK(pushed_flags_address(s, 0xffff800000007fd8, 8) == 0xffff800000007fe8);
}

TEST_CASE("a step's catch takes the first debug register the debugger leaves free") {
    using hvgdb::vcpu::add_step_catch;
    using hvgdb::vcpu::DebugControl;
    DebugControl d;
    add_step_catch(d, 0x7c66);
    CHECK(d.dr[0] == 0x7c66);
    CHECK(d.dr7 == (0x2 | 0x400 | 0x200));  // G0, execute, 1 byte
    // Slot 0 holds a 4-byte write watchpoint: the catch goes to slot 1 and leaves it alone.
    d = DebugControl{};
    d.dr[0] = 0x500;
    d.dr7 = 0x2 | (1u << 16) | (3u << 18) | 0x600;
    add_step_catch(d, 0x1000);
    CHECK(d.dr[0] == 0x500);
    CHECK(d.dr[1] == 0x1000);
    CHECK(d.dr7 == (0x2 | (1u << 16) | (3u << 18) | 0x600 | 0x8));
    // All four taken: nothing changes.
    d.dr7 |= 0xa0;
    d.dr[2] = 0x2000;
    d.dr[3] = 0x3000;
    const DebugControl full = d;
    add_step_catch(d, 0x4000);
    CHECK(d == full);
}
