// The xAPIC register page (Intel SDM vol. 3A, 10.4.1, table 10-1) as a table of registers:
// what each holds after reset and which bits the guest may write.
#include "vcpu/x86/lapic.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string_view>
#include <utility>

namespace hvgdb::vcpu::x86 {

namespace {

constexpr std::uint32_t reg_id = 0x20;
constexpr std::uint32_t reg_version = 0x30;
constexpr std::uint32_t reg_tpr = 0x80;
constexpr std::uint32_t reg_apr = 0x90;
constexpr std::uint32_t reg_ppr = 0xa0;
constexpr std::uint32_t reg_eoi = 0xb0;
constexpr std::uint32_t reg_ldr = 0xd0;
constexpr std::uint32_t reg_dfr = 0xe0;
constexpr std::uint32_t reg_svr = 0xf0;
constexpr std::uint32_t reg_isr = 0x100;  // eight registers each: vectors 32*i .. 32*i+31
constexpr std::uint32_t reg_tmr = 0x180;
constexpr std::uint32_t reg_irr = 0x200;
constexpr std::uint32_t reg_icr_low = 0x300;
constexpr std::uint32_t reg_icr_high = 0x310;

// Version 14h (an integrated APIC of the Pentium 4 and later), max LVT entry 5 (SDM vol. 3A,
// 10.4.8).  Bit 24, EOI-broadcast suppression, is not offered.
constexpr std::uint32_t version_value = 0x00050014;
constexpr std::uint32_t lvt_mask = 1u << 16;
constexpr std::uint32_t svr_software_enable = 1u << 8;

// A register the APIC stores: its value after reset and the bits a write changes (the others
// keep their value: reserved bits read 0, DFR bits 27:0 read 1, delivery status reads 0).
struct StoredRegister {
    std::uint32_t offset;
    std::uint32_t reset;
    std::uint32_t writable;
    bool lvt;  // a local vector table entry: masked while the APIC is software-disabled
    std::string_view name;  // for the debugger (table 10-1's names, shortened)
};

// Writable bits: LVT entries after SDM vol. 3A, figure 10-8 (vector 7:0, delivery mode 10:8,
// pin polarity 13, trigger mode 15, mask 16, timer mode 18:17); ICR figure 10-12.
constexpr StoredRegister stored_registers[] = {
    {reg_tpr, 0, 0xff, false, "TPR"},
    {reg_ldr, 0, 0xff000000, false, "LDR"},
    {reg_dfr, 0xffffffff, 0xf0000000, false, "DFR"},
    // Spurious vector, software enable, focus check.
    {reg_svr, 0xff, 0x3ff, false, "SVR"},
    {0x2f0, lvt_mask, 0x000107ff, true, "LVT CMCI"},
    {reg_icr_low, 0, 0x000ccfff, false, "ICR low"},
    {reg_icr_high, 0, 0xff000000, false, "ICR high"},
    {0x320, lvt_mask, 0x000700ff, true, "LVT timer"},
    {0x330, lvt_mask, 0x000107ff, true, "LVT thermal"},  // thermal sensor
    {0x340, lvt_mask, 0x000107ff, true, "LVT PMC"},      // performance monitoring counters
    {0x350, lvt_mask, 0x0001a7ff, true, "LVT LINT0"},
    {0x360, lvt_mask, 0x0001a7ff, true, "LVT LINT1"},
    {0x370, lvt_mask, 0x000100ff, true, "LVT error"},
    {0x380, 0, 0xffffffff, false, "timer initial count"},
    // Bits 0, 1 and 3.
    {0x3e0, 0, 0x0000000b, false, "timer divide"},
};

// The registers computed rather than stored, ahead of the stored ones in a listing.
constexpr std::pair<std::string_view, std::uint32_t> computed_registers[] = {
    {"ID", reg_id}, {"version", reg_version}, {"APR", reg_apr}, {"PPR", reg_ppr}};

const StoredRegister* stored_register(std::uint32_t offset) {
    for (const auto& r : stored_registers)
        if (r.offset == offset) return &r;
    return nullptr;
}

bool register_access(std::uint64_t offset, std::size_t size) {
    return size == 4 && offset < apic_page_size && offset % 16 == 0;
}

std::uint8_t priority_class(std::uint32_t v) {
    return static_cast<std::uint8_t>(v >> 4);
}

}  // namespace

Ipi decode_icr(std::uint32_t low, std::uint32_t high) {
    Ipi ipi;
    ipi.vector = static_cast<std::uint8_t>(low & 0xff);
    ipi.mode = static_cast<DeliveryMode>((low >> 8) & 7);
    ipi.logical = (low >> 11) & 1;
    ipi.assert_level = (low >> 14) & 1;
    ipi.level_triggered = (low >> 15) & 1;
    ipi.shorthand = static_cast<Shorthand>((low >> 18) & 3);
    ipi.destination = static_cast<std::uint8_t>(high >> 24);
    return ipi;
}

bool is_init_deassert(const Ipi& ipi) {
    return ipi.mode == DeliveryMode::init && !ipi.assert_level && ipi.level_triggered;
}

std::vector<unsigned> ipi_destinations(const Ipi& ipi, unsigned sender,
                                       std::span<const ApicAddress> apics) {
    auto reached = [&](unsigned i) {
        const ApicAddress& a = apics[i];
        switch (ipi.shorthand) {
            case Shorthand::self:
                return i == sender;
            case Shorthand::all_including_self:
                return true;
            case Shorthand::all_excluding_self:
                return i != sender;
            case Shorthand::none:
                break;
        }
        if (ipi.destination == 0xff) return true;  // broadcast in either mode (SDM 10.6.2.2)
        if (!ipi.logical) return a.id == ipi.destination;
        if (a.flat) return (a.logical_id & ipi.destination) != 0;
        return (a.logical_id >> 4) == (ipi.destination >> 4) &&
               (a.logical_id & ipi.destination & 0xf) != 0;
    };
    std::vector<unsigned> out;
    for (unsigned i = 0; i < apics.size(); ++i)
        if (apics[i].enabled && reached(i)) out.push_back(i);
    return out;
}

Lapic::Lapic(std::uint8_t id, std::uint64_t base) : id_(id), base_(base) {
    reset();
}

void Lapic::reset() {
    registers_.fill(0);
    for (const auto& r : stored_registers) registers_[r.offset / 16] = r.reset;
    irr_.fill(0);
    isr_.fill(0);
    tmr_.fill(0);
}

ApicAddress Lapic::address() const {
    const std::uint32_t dfr = registers_[reg_dfr / 16];
    return {id_, static_cast<std::uint8_t>(registers_[reg_ldr / 16] >> 24), (dfr >> 28) == 0xf,
            enabled()};
}

bool Lapic::claims(std::uint64_t gpa) const {
    const std::uint64_t page = base_ & ~(apic_page_size - 1);
    return enabled() && gpa >= page && gpa - page < apic_page_size;
}

bool Lapic::software_enabled() const {
    return (registers_[reg_svr / 16] & svr_software_enable) != 0;
}

void Lapic::read(std::uint64_t offset, std::span<std::uint8_t> data) const {
    std::fill(data.begin(), data.end(), 0);
    if (!register_access(offset, data.size())) return;
    const std::uint32_t value = read_register(static_cast<std::uint32_t>(offset));
    for (unsigned i = 0; i < 4; ++i) data[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::optional<Ipi> Lapic::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    if (!register_access(offset, data.size())) return std::nullopt;
    std::uint32_t value = 0;
    for (unsigned i = 0; i < 4; ++i) value |= std::uint32_t{data[i]} << (8 * i);
    return write_register(static_cast<std::uint32_t>(offset), value);
}

std::uint32_t Lapic::read_register(std::uint32_t offset) const {
    if (offset >= reg_isr && offset < reg_isr + 0x80) return isr_[(offset - reg_isr) / 16];
    if (offset >= reg_tmr && offset < reg_tmr + 0x80) return tmr_[(offset - reg_tmr) / 16];
    if (offset >= reg_irr && offset < reg_irr + 0x80) return irr_[(offset - reg_irr) / 16];
    switch (offset) {
        case reg_id:
            return std::uint32_t{id_} << 24;
        case reg_version:
            return version_value;
        case reg_apr:
            return arbitration_priority();
        case reg_ppr:
            return processor_priority();
        default:
            break;
    }
    // Stored registers as written; the rest (EOI, ESR, the timer's current count) read 0:
    // errors are never recorded and the timer never counts.
    if (stored_register(offset)) return registers_[offset / 16];
    return 0;
}

std::optional<Ipi> Lapic::write_register(std::uint32_t offset, std::uint32_t value) {
    if (offset == reg_eoi) {
        // Ends the interrupt in service with the highest priority (SDM vol. 3A, 10.8.5).
        if (auto v = highest(isr_)) {
            isr_[*v / 32] &= ~(1u << (*v % 32));
            tmr_[*v / 32] &= ~(1u << (*v % 32));
        }
        return std::nullopt;
    }
    const StoredRegister* r = stored_register(offset);
    if (!r) return std::nullopt;  // read-only or not emulated
    std::uint32_t& slot = registers_[offset / 16];
    slot = (slot & ~r->writable) | (value & r->writable);
    // While software-disabled every LVT entry stays masked (SDM vol. 3A, 10.4.7.2).
    if (r->lvt && !software_enabled()) slot |= lvt_mask;
    if (offset == reg_svr && !software_enabled())
        for (const auto& other : stored_registers)
            if (other.lvt) registers_[other.offset / 16] |= lvt_mask;
    if (offset == reg_icr_low) return decode_icr(slot, registers_[reg_icr_high / 16]);
    return std::nullopt;
}

bool Lapic::request(std::uint8_t vector, bool level_triggered) {
    // Vectors 0-15 are illegal for the APIC (SDM vol. 3A, 10.5.2); a software-disabled APIC
    // takes no fixed interrupts.
    if (vector < 16 || !software_enabled()) return false;
    irr_[vector / 32] |= 1u << (vector % 32);
    if (level_triggered)
        tmr_[vector / 32] |= 1u << (vector % 32);
    else
        tmr_[vector / 32] &= ~(1u << (vector % 32));
    return true;
}

std::optional<std::uint8_t> Lapic::deliverable() const {
    auto v = highest(irr_);
    if (!v || !software_enabled()) return std::nullopt;
    // SDM vol. 3A, 10.8.3.1: only a priority class above the processor priority's is taken.
    if (priority_class(*v) <= priority_class(processor_priority())) return std::nullopt;
    return static_cast<std::uint8_t>(*v);
}

void Lapic::acknowledge(std::uint8_t vector) {
    irr_[vector / 32] &= ~(1u << (vector % 32));
    isr_[vector / 32] |= 1u << (vector % 32);
}

std::uint8_t Lapic::processor_priority() const {
    // SDM vol. 3A, 10.8.3.1.
    const std::uint32_t tpr = registers_[reg_tpr / 16] & 0xff;
    const std::uint32_t isrv = highest(isr_).value_or(0);
    if (priority_class(tpr) >= priority_class(isrv)) return static_cast<std::uint8_t>(tpr);
    return static_cast<std::uint8_t>(isrv & 0xf0);
}

std::uint8_t Lapic::arbitration_priority() const {
    // SDM vol. 3A, 10.6.2.4.
    const std::uint32_t tpr = registers_[reg_tpr / 16] & 0xff;
    const std::uint32_t isrv = highest(isr_).value_or(0);
    const std::uint32_t irrv = highest(irr_).value_or(0);
    if (priority_class(tpr) >= priority_class(irrv) && priority_class(tpr) > priority_class(isrv))
        return static_cast<std::uint8_t>(tpr);
    return static_cast<std::uint8_t>(std::max(tpr & isrv & 0xf0, irrv & 0xf0));
}

std::vector<LapicRegister> Lapic::registers() const {
    std::vector<LapicRegister> out;
    for (const auto& [name, offset] : computed_registers)
        out.push_back({name, offset, read_register(offset)});
    for (const auto& r : stored_registers)
        out.push_back({r.name, r.offset, read_register(r.offset)});
    return out;
}

std::vector<std::uint8_t> Lapic::vectors(const Bits& bits) {
    std::vector<std::uint8_t> out;
    for (unsigned v = 0; v < 256; ++v)
        if (bits[v / 32] & (1u << (v % 32))) out.push_back(static_cast<std::uint8_t>(v));
    return out;
}

std::optional<unsigned> Lapic::highest(const Bits& bits) {
    for (unsigned i = bits.size(); i-- > 0;)
        if (bits[i]) return i * 32 + std::bit_width(bits[i]) - 1;
    return std::nullopt;
}

}  // namespace hvgdb::vcpu::x86
