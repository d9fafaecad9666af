// The xAPIC model without a hypervisor: register values after reset, what writes keep, the
// accesses it refuses, ICR decoding and IPI destinations, fixed-interrupt priorities.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "vcpu/x86/lapic.hpp"

using namespace hvgdb::vcpu::x86;

namespace {

std::uint32_t read32(const Lapic& apic, std::uint64_t offset) {
    std::array<std::uint8_t, 4> b{};
    apic.read(offset, b);
    return b[0] | b[1] << 8 | b[2] << 16 | std::uint32_t{b[3]} << 24;
}

std::optional<Ipi> write32(Lapic& apic, std::uint64_t offset, std::uint32_t value) {
    const std::array<std::uint8_t, 4> b{
        static_cast<std::uint8_t>(value), static_cast<std::uint8_t>(value >> 8),
        static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 24)};
    return apic.write(offset, b);
}

}  // namespace

TEST_CASE("IA32_APIC_BASE after reset") {
    CHECK(reset_apic_base(true) == 0xfee00900);
    CHECK(reset_apic_base(false) == 0xfee00800);
    Lapic bsp(0, reset_apic_base(true));
    CHECK(bsp.bsp());
    CHECK(bsp.enabled());
    CHECK(bsp.claims(0xfee00000));
    CHECK(bsp.claims(0xfee00ffc));
    CHECK_FALSE(bsp.claims(0xfee01000));
    CHECK_FALSE(bsp.claims(0xfedfffff));
    Lapic moved(1, 0xfed00800);  // the guest moved it
    CHECK(moved.claims(0xfed00020));
    CHECK_FALSE(moved.claims(0xfee00020));
    CHECK_FALSE(moved.bsp());
    moved.set_base(0xfed00000);  // and disabled it
    CHECK_FALSE(moved.enabled());
    CHECK_FALSE(moved.claims(0xfed00020));
}

TEST_CASE("register values after reset") {
    Lapic apic(3);
    CHECK(read32(apic, 0x20) == 0x03000000);  // ID
    CHECK(read32(apic, 0x30) == 0x00050014);  // version 14h, max LVT entry 5
    CHECK(read32(apic, 0x80) == 0);           // TPR
    CHECK(read32(apic, 0x90) == 0);           // APR
    CHECK(read32(apic, 0xa0) == 0);           // PPR
    CHECK(read32(apic, 0xb0) == 0);           // EOI is write-only
    CHECK(read32(apic, 0xd0) == 0);           // LDR
    CHECK(read32(apic, 0xe0) == 0xffffffff);  // DFR: flat model
    CHECK(read32(apic, 0xf0) == 0xff);        // SVR: software-disabled
    for (std::uint64_t at = 0x100; at < 0x280; at += 0x10) CHECK(read32(apic, at) == 0);
    CHECK(read32(apic, 0x280) == 0);  // ESR
    for (std::uint64_t lvt : {0x2f0, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370})
        CHECK_MESSAGE(read32(apic, lvt) == 0x10000, lvt);
    CHECK(read32(apic, 0x300) == 0);
    CHECK(read32(apic, 0x310) == 0);
    CHECK(read32(apic, 0x380) == 0);
    CHECK(read32(apic, 0x390) == 0);
    CHECK(read32(apic, 0x3e0) == 0);
    CHECK_FALSE(apic.software_enabled());
    CHECK(apic.address() == ApicAddress{3, 0, true, true});
}

TEST_CASE("writes keep the writable bits only") {
    Lapic apic(1);
    CHECK_FALSE(write32(apic, 0xf0, 0xffffffff));
    CHECK(read32(apic, 0xf0) == 0x3ff);  // vector, software enable, focus check
    CHECK(apic.software_enabled());
    write32(apic, 0x80, 0xffffff45);
    CHECK(read32(apic, 0x80) == 0x45);
    write32(apic, 0xd0, 0x12345678);
    CHECK(read32(apic, 0xd0) == 0x12000000);
    write32(apic, 0xe0, 0x00000000);
    CHECK(read32(apic, 0xe0) == 0x0fffffff);  // cluster model; bits 27:0 read 1
    CHECK(apic.address() == ApicAddress{1, 0x12, false, true});
    write32(apic, 0x20, 0x07000000);  // the ID stays the vCPU's
    CHECK(read32(apic, 0x20) == 0x01000000);
    write32(apic, 0x30, 0);
    CHECK(read32(apic, 0x30) == 0x00050014);
    write32(apic, 0x320, 0xffffffff);
    CHECK(read32(apic, 0x320) == 0x000700ff);  // timer: vector, mask, mode
    write32(apic, 0x350, 0xffffffff);
    CHECK(read32(apic, 0x350) == 0x0001a7ff);  // LINT0: delivery status, remote IRR read 0
    write32(apic, 0x370, 0x000000fe);
    CHECK(read32(apic, 0x370) == 0xfe);  // unmasked
    write32(apic, 0x2f0, 0x0000ffff);
    CHECK(read32(apic, 0x2f0) == 0x07ff);
    write32(apic, 0x380, 0x12345678);
    CHECK(read32(apic, 0x380) == 0x12345678);
    CHECK(read32(apic, 0x390) == 0);  // the timer does not count
    write32(apic, 0x3e0, 0xffffffff);
    CHECK(read32(apic, 0x3e0) == 0xb);
    write32(apic, 0x310, 0xffffffff);
    CHECK(read32(apic, 0x310) == 0xff000000);
    write32(apic, 0x280, 0xffffffff);
    CHECK(read32(apic, 0x280) == 0);
    write32(apic, 0x100, 0xffffffff);  // ISR is read-only
    CHECK(read32(apic, 0x100) == 0);

    // Software disable masks every LVT entry, and they stay masked.
    write32(apic, 0xf0, 0xff);
    CHECK(read32(apic, 0x370) == 0x100fe);
    CHECK(read32(apic, 0x320) == 0x700ff);
    write32(apic, 0x370, 0x00000033);
    CHECK(read32(apic, 0x370) == 0x10033);

    // INIT resets all but the ID.
    apic.reset();
    CHECK(read32(apic, 0x20) == 0x01000000);
    CHECK(read32(apic, 0xd0) == 0);
    CHECK(read32(apic, 0xe0) == 0xffffffff);
    CHECK(read32(apic, 0x380) == 0);
    CHECK(read32(apic, 0x320) == 0x10000);
}

TEST_CASE("other widths and offsets read 0 and write nothing") {
    Lapic apic(2);
    write32(apic, 0xf0, 0x1ff);
    std::array<std::uint8_t, 1> one{0xaa};
    apic.read(0x20, one);
    CHECK(one[0] == 0);
    std::array<std::uint8_t, 2> two{0xaa, 0xaa};
    apic.read(0x20, two);
    CHECK(two == std::array<std::uint8_t, 2>{0, 0});
    std::array<std::uint8_t, 8> eight{};
    eight.fill(0xaa);
    apic.read(0x20, eight);
    CHECK(eight == std::array<std::uint8_t, 8>{});
    CHECK(read32(apic, 0x24) == 0);    // inside a register, not at its offset
    CHECK(read32(apic, 0x22) == 0);    // unaligned
    CHECK(read32(apic, 0x1000) == 0);  // past the page
    CHECK(read32(apic, ~0ull) == 0);
    CHECK(read32(apic, 0x40) == 0);   // reserved offsets
    CHECK(read32(apic, 0xff0) == 0);  // the page's last register slot

    const std::array<std::uint8_t, 1> byte{0x55};
    CHECK_FALSE(apic.write(0x80, byte));
    CHECK(read32(apic, 0x80) == 0);
    const std::array<std::uint8_t, 8> wide{0x55, 0, 0, 0, 0, 0, 0, 0};
    CHECK_FALSE(apic.write(0x80, wide));
    CHECK(read32(apic, 0x80) == 0);
    CHECK_FALSE(write32(apic, 0x84, 0x55));
    CHECK(read32(apic, 0x80) == 0);
    CHECK_FALSE(write32(apic, 0x304, 0x4500));  // not the ICR
    CHECK_FALSE(write32(apic, 0x1300, 0x4500));
    const std::array<std::uint8_t, 0> none{};
    CHECK_FALSE(apic.write(0x300, none));
    apic.read(0x20, std::span<std::uint8_t>{});
}

TEST_CASE("ICR writes decode every field") {
    Lapic apic(0);
    write32(apic, 0x310, 0x05000000);
    auto init = write32(apic, 0x300, 0x00004500);
    REQUIRE(init);
    CHECK(*init == Ipi{0, DeliveryMode::init, false, true, false, Shorthand::none, 5});
    CHECK_FALSE(is_init_deassert(*init));
    CHECK(read32(apic, 0x300) == 0x4500);

    auto sipi = write32(apic, 0x300, 0x00004608);
    REQUIRE(sipi);
    CHECK(sipi->mode == DeliveryMode::startup);
    CHECK(sipi->vector == 0x08);
    CHECK(sipi->destination == 5);

    auto deassert = write32(apic, 0x300, 0x00008500);
    REQUIRE(deassert);
    CHECK(is_init_deassert(*deassert));

    // Delivery status (bit 12) always reads 0: the command is delivered at once.
    auto all = write32(apic, 0x300, 0x000c5fff);
    REQUIRE(all);
    CHECK(read32(apic, 0x300) == 0x000c4fff);
    CHECK(all->shorthand == Shorthand::all_excluding_self);
    CHECK(all->logical);
    CHECK(all->mode == DeliveryMode::reserved_7);
    CHECK(all->vector == 0xff);

    CHECK(decode_icr(0x000400fe, 0).shorthand == Shorthand::self);
    CHECK(decode_icr(0x00080000, 0).shorthand == Shorthand::all_including_self);
    CHECK(decode_icr(0x00000400, 0).mode == DeliveryMode::nmi);
    CHECK(decode_icr(0x00000200, 0).mode == DeliveryMode::smi);
    CHECK(decode_icr(0x00000100, 0).mode == DeliveryMode::lowest_priority);
    CHECK(decode_icr(0x00000031, 0xff000000) ==
          Ipi{0x31, DeliveryMode::fixed, false, false, false, Shorthand::none, 0xff});
    CHECK(decode_icr(0x0000c500, 0).level_triggered);
}

TEST_CASE("IPI destinations") {
    // Four APICs: 0 and 1 flat with logical IDs 1 and 2; 2 disabled; 3 in cluster model.
    const std::vector<ApicAddress> apics = {{0, 0x01, true, true},
                                            {1, 0x02, true, true},
                                            {2, 0x04, true, false},
                                            {3, 0x21, false, true}};
    auto to = [&](std::uint32_t low, std::uint32_t high, unsigned sender = 0) {
        return ipi_destinations(decode_icr(low, high), sender, apics);
    };
    using V = std::vector<unsigned>;
    CHECK(to(0x4500, 0x01000000) == V{1});        // physical
    CHECK(to(0x4500, 0x03000000) == V{3});        // physical, APIC ID 3
    CHECK(to(0x4500, 0x02000000) == V{});         // disabled
    CHECK(to(0x4500, 0x09000000) == V{});         // nobody has ID 9
    CHECK(to(0x4500, 0xff000000) == V{0, 1, 3});  // physical broadcast
    CHECK(to(0x4d00, 0x03000000) == V{0, 1});     // logical flat: LDR bits 0 and 1
    CHECK(to(0x4d00, 0x04000000) == V{});         // the disabled one's bit
    CHECK(to(0x4d00, 0x21000000) == V{0, 3});     // flat bit 0; cluster 2, member bit 0
    CHECK(to(0x4d00, 0x22000000) == V{1});        // cluster 2 has no member bit 1
    CHECK(to(0x4d00, 0x11000000) == V{0});        // cluster 1 is nobody's
    CHECK(to(0x44500, 0x01000000, 1) == V{1});    // self, whatever the destination
    CHECK(to(0x84500, 0, 1) == V{0, 1, 3});       // all including self
    CHECK(to(0xc4500, 0, 0) == V{1, 3});          // all excluding self
    CHECK(to(0xc4500, 0, 3) == V{0, 1});
    CHECK(ipi_destinations(decode_icr(0xc4500, 0), 0, {}) == V{});
    // Logical 0xFF is a broadcast too, also to APICs whose LDR the guest has not set yet.
    const std::vector<ApicAddress> unset = {{0, 0, true, true}, {1, 0, true, true}};
    CHECK(ipi_destinations(decode_icr(0x4d00, 0xff000000), 0, unset) == V{0, 1});
}

TEST_CASE("fixed interrupts: request, priority, acknowledge, EOI") {
    Lapic apic(0);
    CHECK_FALSE(apic.request(0x40));  // software-disabled
    CHECK_FALSE(apic.deliverable());
    write32(apic, 0xf0, 0x1ff);
    CHECK_FALSE(apic.request(0x0f));  // illegal vector
    CHECK(apic.request(0x41));
    CHECK(apic.request(0x92, true));
    CHECK(read32(apic, 0x200 + 0x10 * 2) == 1u << 1);   // IRR: vector 0x41
    CHECK(read32(apic, 0x200 + 0x10 * 4) == 1u << 18);  // IRR: vector 0x92
    CHECK(read32(apic, 0x180 + 0x10 * 4) == 1u << 18);  // TMR: level
    CHECK(read32(apic, 0x90) == 0x90);                  // APR: the IRR's class
    CHECK(apic.deliverable() == 0x92);
    apic.acknowledge(0x92);
    CHECK(read32(apic, 0x100 + 0x10 * 4) == 1u << 18);  // ISR
    CHECK(read32(apic, 0xa0) == 0x90);                  // PPR: the ISR's class
    CHECK_FALSE(apic.deliverable());                    // 0x41 waits under 0x92
    write32(apic, 0x80, 0x95);
    CHECK(read32(apic, 0xa0) == 0x95);  // TPR above it
    write32(apic, 0x80, 0);
    write32(apic, 0xb0, 0);  // EOI
    CHECK(read32(apic, 0x100 + 0x10 * 4) == 0);
    CHECK(read32(apic, 0x180 + 0x10 * 4) == 0);
    CHECK(apic.deliverable() == 0x41);
    write32(apic, 0x80, 0x40);  // TPR class 4 holds back class 4
    CHECK_FALSE(apic.deliverable());
    CHECK(read32(apic, 0x90) == 0x40);
    write32(apic, 0x80, 0x3f);
    CHECK(apic.deliverable() == 0x41);
    apic.acknowledge(0x41);
    write32(apic, 0xb0, 0);
    CHECK_FALSE(apic.deliverable());
    write32(apic, 0xb0, 0);  // an EOI with nothing in service changes nothing
    CHECK(read32(apic, 0xa0) == 0x3f);
}

TEST_CASE("the registers and vectors a debugger is shown") {
    Lapic apic(3, reset_apic_base(false));
    auto value = [&](std::string_view name) {
        for (const auto& r : apic.registers())
            if (r.name == name) return std::optional<std::uint32_t>(r.value);
        return std::optional<std::uint32_t>();
    };
    const auto registers = apic.registers();
    REQUIRE(registers.size() == 19);
    CHECK(registers[0].name == "ID");
    CHECK(registers[0].offset == 0x20);
    CHECK(value("ID") == 0x03000000u);
    CHECK(value("version") == 0x00050014u);
    CHECK(value("SVR") == 0xffu);
    CHECK(value("LVT timer") == 0x10000u);  // masked after reset
    CHECK(value("DFR") == 0xffffffffu);
    CHECK(apic.requested().empty());
    CHECK(apic.in_service().empty());

    write32(apic, 0xf0, 0x1ff);  // software-enabled
    write32(apic, 0x80, 0x20);   // TPR
    write32(apic, 0x310, 0x01000000);
    write32(apic, 0x300, 0x000c4031);
    CHECK(value("SVR") == 0x1ffu);
    CHECK(value("TPR") == 0x20u);
    CHECK(value("ICR high") == 0x01000000u);
    CHECK(value("ICR low") == 0x000c4031u);
    REQUIRE(apic.request(0x41));
    REQUIRE(apic.request(0x80));
    REQUIRE(apic.request(0xff));
    apic.acknowledge(0xff);
    CHECK(apic.requested() == std::vector<std::uint8_t>{0x41, 0x80});
    CHECK(apic.in_service() == std::vector<std::uint8_t>{0xff});
    CHECK(value("PPR") == 0xf0u);
}
