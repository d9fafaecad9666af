// A local xAPIC as the guest sees it through its 4 KiB register page (Intel SDM vol. 3A,
// chapter 10): register values, the interrupt request and in-service bits, and what a write
// to the interrupt command register asks for.  Pure: no hypervisor, no threads; the machine
// routes the commands and the interrupts.  Depends on std only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace hvgdb::vcpu::x86 {

// IA32_APIC_BASE (SDM vol. 3A, 10.4.4, figure 10-5).
inline constexpr std::uint64_t apic_default_base = 0xfee00000;
inline constexpr std::uint64_t apic_base_bsp = 1u << 8;      // the bootstrap processor
inline constexpr std::uint64_t apic_base_enable = 1u << 11;  // APIC global enable
inline constexpr std::uint64_t apic_page_size = 0x1000;

// IA32_APIC_BASE after power-up: the default page, enabled, and BSP for the one processor
// picked to boot (SDM vol. 3A, 8.4.1).
constexpr std::uint64_t reset_apic_base(bool bsp) {
    return apic_default_base | apic_base_enable | (bsp ? apic_base_bsp : 0);
}

// ICR delivery modes (SDM vol. 3A, 10.6.1, figure 10-12).
enum class DeliveryMode : std::uint8_t {
    fixed = 0,
    lowest_priority = 1,
    smi = 2,
    reserved_3 = 3,
    nmi = 4,
    init = 5,
    startup = 6,
    reserved_7 = 7,
};
enum class Shorthand : std::uint8_t {
    none = 0,
    self = 1,
    all_including_self = 2,
    all_excluding_self = 3,
};

// An interprocessor interrupt as the ICR holds it.
struct Ipi {
    std::uint8_t vector = 0;                  // low bits 7:0
    DeliveryMode mode = DeliveryMode::fixed;  // low bits 10:8
    bool logical = false;                     // low bit 11: destination mode
    bool assert_level = false;                // low bit 14
    bool level_triggered = false;             // low bit 15
    Shorthand shorthand = Shorthand::none;    // low bits 19:18
    std::uint8_t destination = 0;             // high bits 31:24
    bool operator==(const Ipi&) const = default;
};

Ipi decode_icr(std::uint32_t low, std::uint32_t high);

// The INIT level de-assert message (mode INIT, level 0, trigger level): it only synchronised
// arbitration IDs on the P6 family's APIC bus; Pentium 4 and later processors ignore it.
bool is_init_deassert(const Ipi&);

// What choosing an IPI's destinations needs of each local APIC.
struct ApicAddress {
    std::uint8_t id = 0;          // APIC ID register bits 31:24
    std::uint8_t logical_id = 0;  // LDR bits 31:24
    bool flat = true;             // DFR model: flat (1111b) or cluster (0000b)
    bool enabled = true;          // IA32_APIC_BASE global enable: a disabled APIC takes none
    bool operator==(const ApicAddress&) const = default;
};

// The indexes into `apics` that an IPI sent by apics[sender] reaches, in order (SDM vol. 3A,
// 10.6.2): a shorthand if there is one; else physical mode, the APIC whose ID is the
// destination (0xff: all); else logical mode, flat model where LDR & destination is not 0,
// cluster model where the high nibbles are equal and the low nibbles share a bit.
std::vector<unsigned> ipi_destinations(const Ipi&, unsigned sender,
                                       std::span<const ApicAddress> apics);

// A register by name, for the debugger: its offset in the page and what a guest read returns.
struct LapicRegister {
    std::string_view name;
    std::uint32_t offset;
    std::uint32_t value;
};

// One local APIC's registers.  Accesses are aligned 32-bit reads and writes at the 16-byte
// register offsets; any other width or offset reads 0 and writes nothing.  Registers not
// listed in lapic.cpp read 0.
class Lapic {
  public:
    explicit Lapic(std::uint8_t id = 0, std::uint64_t base = reset_apic_base(false));

    // Every register to its power-up value except the APIC ID, as after RESET and INIT (SDM
    // vol. 3A, 10.4.7.1 and 10.4.7.3).
    void reset();

    std::uint8_t id() const { return id_; }
    ApicAddress address() const;

    // IA32_APIC_BASE as the vCPU holds it (the machine keeps it up to date).
    std::uint64_t base() const { return base_; }
    void set_base(std::uint64_t msr) { base_ = msr; }
    bool enabled() const { return (base_ & apic_base_enable) != 0; }
    bool bsp() const { return (base_ & apic_base_bsp) != 0; }
    // Whether guest-physical `gpa` is in this APIC's page while the APIC is enabled.
    bool claims(std::uint64_t gpa) const;
    // SVR bit 8, the software enable (SDM vol. 3A, 10.4.7.2).
    bool software_enabled() const;

    // A guest access at `offset` into the page: `data` filled for a read.  A write to the
    // ICR's low half returns the IPI it sends; the INIT de-assert message is returned too.
    void read(std::uint64_t offset, std::span<std::uint8_t> data) const;
    std::optional<Ipi> write(std::uint64_t offset, std::span<const std::uint8_t> data);
    // The same as 32-bit values at a register offset.
    std::uint32_t read_register(std::uint32_t offset) const;
    std::optional<Ipi> write_register(std::uint32_t offset, std::uint32_t value);

    // Fixed interrupts (SDM vol. 3A, 10.8): `vector` requested (IRR); false when the APIC
    // rejects it (vectors 0-15 are illegal, 10.5.3).  The vector the processor would take
    // now: the highest requested one whose priority class is above the processor priority,
    // with the APIC software-enabled.  Taking it moves it from IRR to ISR; an EOI write
    // clears the highest ISR bit.
    bool request(std::uint8_t vector, bool level_triggered = false);
    std::optional<std::uint8_t> deliverable() const;
    void acknowledge(std::uint8_t vector);

    std::uint8_t processor_priority() const;    // PPR
    std::uint8_t arbitration_priority() const;  // APR

    // For the debugger: ID, version, APR, PPR and every stored register (TPR, LDR, DFR, SVR,
    // ICR, the LVT entries, the timer's), in that order; and the vectors requested (IRR) and
    // in service (ISR), lowest first.
    std::vector<LapicRegister> registers() const;
    std::vector<std::uint8_t> requested() const { return vectors(irr_); }
    std::vector<std::uint8_t> in_service() const { return vectors(isr_); }

  private:
    using Bits = std::array<std::uint32_t, 8>;  // 256 vectors
    static std::optional<unsigned> highest(const Bits&);
    static std::vector<std::uint8_t> vectors(const Bits&);

    std::uint8_t id_;
    std::uint64_t base_;
    std::array<std::uint32_t, 64> registers_{};  // stored registers, by offset / 16
    Bits irr_{}, isr_{}, tmr_{};
};

}  // namespace hvgdb::vcpu::x86
