// Instruction classes and software-interrupt entries for single steps.
#include "vcpu/x86/instruction.hpp"

#include <array>

namespace hvgdb::vcpu::x86 {

namespace {

bool is_string_opcode(std::uint8_t op) {
    // INS, OUTS (6C-6F); MOVS, CMPS (A4-A7); STOS, LODS, SCAS (AA-AF).
    return (op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf);
}

bool is_legacy_prefix(std::uint8_t b) {
    switch (b) {
        case 0xf0:  // LOCK
        case 0xf2:  // REPNE
        case 0xf3:  // REP, REPE
        case 0x26:  // segment overrides: ES, CS, SS, DS, FS, GS
        case 0x2e:
        case 0x36:
        case 0x3e:
        case 0x64:
        case 0x65:
        case 0x66:  // operand size
        case 0x67:  // address size
            return true;
        default:
            return false;
    }
}

std::uint64_t little_endian(std::span<const std::uint8_t> bytes) {
    std::uint64_t v = 0;
    for (std::size_t i = bytes.size(); i-- > 0;) v = v << 8 | bytes[i];
    return v;
}

}  // namespace

InstructionClass classify_instruction(std::span<const std::uint8_t> bytes, CpuMode mode) {
    using Kind = InstructionClass::Kind;
    const unsigned default_bits = mode == CpuMode::long64        ? 64
                                  : mode == CpuMode::protected32 ? 32
                                                                 : 16;
    unsigned address_bits = default_bits;
    bool repeated = false;
    // An instruction is at most 15 bytes (SDM vol. 2A, 2.3.11).
    for (std::size_t i = 0; i < bytes.size() && i < 15; ++i) {
        const std::uint8_t b = bytes[i];
        if (is_legacy_prefix(b)) {
            if (b == 0xf2 || b == 0xf3) repeated = true;
            // 0x67 picks the other address size: 32 in 16- and 64-bit code, 16 in 32-bit code.
            if (b == 0x67) address_bits = default_bits == 32 ? 16 : 32;
            continue;
        }
        if (mode == CpuMode::long64 && (b & 0xf0) == 0x40) continue;  // REX
        switch (b) {
            case 0xcc:
                return {Kind::software_interrupt, 3, 0};
            case 0xcd:
                if (i + 1 < bytes.size()) return {Kind::software_interrupt, bytes[i + 1], 0};
                return {};
            case 0xce:
                if (mode == CpuMode::long64) return {};
                return {Kind::software_interrupt, 4, 0};
            default:
                if (repeated && is_string_opcode(b))
                    return {Kind::repeated_string, 0, address_bits};
                return {};
        }
    }
    return {};
}

std::optional<InterruptEntry> interrupt_entry(const SystemRegisters& s, std::uint64_t rflags,
                                              std::uint8_t vector, const LinearReader& read) {
    if ((s.cr0 & 1) == 0) {
        // Real mode: 4-byte entries, offset then segment (SDM vol. 3A, 20.1.4).
        const std::uint64_t at = std::uint64_t{vector} * 4;
        std::array<std::uint8_t, 4> e{};
        if (at + 3 > s.idt.limit || !read(s.idt.base + at, e)) return std::nullopt;
        const std::uint64_t ip = little_endian({e.data(), 2});
        const std::uint64_t cs = little_endian({e.data() + 2, 2});
        return InterruptEntry{(cs << 4) + ip, 2};
    }
    constexpr std::uint64_t rflags_vm = 1u << 17;
    if (rflags & rflags_vm) return std::nullopt;  // INT n may go to the monitor instead

    // Gate descriptors: 8 bytes, 16 in IA-32e mode (SDM vol. 3A, 6.11 and 6.14.1).
    const bool ia32e = (s.efer & (1u << 10)) != 0;
    const std::size_t size = ia32e ? 16 : 8;
    const std::uint64_t at = std::uint64_t{vector} * size;
    std::array<std::uint8_t, 16> g{};
    if (at + size - 1 > s.idt.limit || !read(s.idt.base + at, {g.data(), size}))
        return std::nullopt;
    const bool present = (g[5] & 0x80) != 0;
    const unsigned type = g[5] & 0x1f;  // S (bit 4) must be 0: a system descriptor
    if (!present) return std::nullopt;
    std::uint64_t offset = little_endian({g.data(), 2});
    if (ia32e) {
        // Interrupt and trap gates only; their code segment is 64-bit, so its base is 0.
        if (type != 0xe && type != 0xf) return std::nullopt;
        offset |= little_endian({g.data() + 6, 2}) << 16 | little_endian({g.data() + 8, 4}) << 32;
        return InterruptEntry{offset, 8};
    }
    unsigned slot_bytes = 0;
    switch (type) {
        case 0x6:  // 16-bit interrupt and trap gates: a 16-bit offset, 16-bit pushes
        case 0x7:
            slot_bytes = 2;
            break;
        case 0xe:  // 32-bit interrupt and trap gates
        case 0xf:
            slot_bytes = 4;
            offset |= little_endian({g.data() + 6, 2}) << 16;
            break;
        default:  // task gates (5) switch tasks; anything else raises #GP
            return std::nullopt;
    }
    // The gate's code segment, from the GDT or (TI set) the LDT.
    const std::uint64_t selector = little_endian({g.data() + 2, 2});
    if ((selector & 0xfffc) == 0) return std::nullopt;  // null selector: #GP
    const bool local = (selector & 4) != 0;
    if (local && s.ldt.unusable) return std::nullopt;
    const std::uint64_t table = local ? s.ldt.base : s.gdt.base;
    const std::uint64_t limit = local ? s.ldt.limit : s.gdt.limit;
    const std::uint64_t index = selector & 0xfff8;
    std::array<std::uint8_t, 8> d{};
    if (index + 7 > limit || !read(table + index, d)) return std::nullopt;
    const std::uint64_t base = little_endian({d.data() + 2, 3}) | std::uint64_t{d[7]} << 24;
    return InterruptEntry{(base + offset) & 0xffffffffu, slot_bytes};
}

std::uint64_t pushed_flags_address(const SystemRegisters& s, std::uint64_t rsp,
                                   unsigned slot_bytes) {
    // From the top: IP, CS, then FLAGS (and, on a stack switch, SP and SS above it).
    const std::uint64_t offset = 2 * std::uint64_t{slot_bytes};
    if (cpu_mode(s) == CpuMode::long64) return rsp + offset;
    const bool big_stack = (s.cr0 & 1) != 0 && s.ss.db;  // SS.B: ESP rather than SP
    const std::uint64_t mask = big_stack ? 0xffffffffu : 0xffffu;
    return (s.ss.base + ((rsp + offset) & mask)) & 0xffffffffu;
}

}  // namespace hvgdb::vcpu::x86
