// Fault sentences: where, in which mode, and whose doing, for each kind of fault exit.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "vcpu/faults.hpp"

using namespace hvgdb::vcpu;

namespace {

x86::SystemRegisters protected32() {
    x86::SystemRegisters s;
    s.cr0 = 0x60000011;
    s.cs = {.base = 0, .limit = 0xffffffff, .selector = 8, .type = 0xb, .db = true, .g = true};
    return s;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("locations show CS:IP as wide as the mode's IP, the linear address and the mode") {
    x86::Registers regs;
    x86::SystemRegisters reset;
    reset.cs.selector = 0xf000;
    reset.cs.base = 0xffff0000;
    reset.cs.type = 0xb;
    regs.rip = 0xfff0;
    CHECK(describe_location(regs, reset) == "f000:fff0 (linear 0xfffffff0, real mode)");

    regs.rip = 0x101234;
    CHECK(describe_location(regs, protected32()) ==
          "0008:00101234 (linear 0x101234, 32-bit protected mode)");

    x86::SystemRegisters long_mode = protected32();
    long_mode.efer = 0x500;
    long_mode.cs.l = true;
    long_mode.cs.db = false;
    long_mode.cs.selector = 0x18;
    regs.rip = 0xffffffff80001000;
    CHECK(describe_location(regs, long_mode) ==
          "0018:ffffffff80001000 (linear 0xffffffff80001000, 64-bit long mode)");

    x86::SystemRegisters prot16 = protected32();
    prot16.cs.db = false;
    regs.rip = 0x12345;  // a 16-bit IP: the upper bits are not part of it
    CHECK(describe_location(regs, prot16) == "0008:2345 (linear 0x2345, 16-bit protected mode)");
}

TEST_CASE("a triple fault is the guest's, and the CPU would reset") {
    x86::Registers regs;
    regs.rip = 0x101234;
    PhysicalMemory memory;
    auto report = describe_fault(Shutdown{}, regs, protected32(), memory);
    REQUIRE(report);
    CHECK(report->kind == FaultKind::triple_fault);
    CHECK(report->text ==
          "guest triple fault at 0008:00101234 (linear 0x101234, 32-bit protected mode): the CPU "
          "would reset; stopped for inspection");
}

TEST_CASE("an emulation failure in memory is the host's limit; outside memory the guest's") {
    std::vector<std::uint8_t> ram(0x200000);
    PhysicalMemory memory(ram);
    x86::Registers regs;
    regs.rip = 0x100026;
    const InternalError emulation{1, "KVM internal error 1 (instruction emulation failed)", true};
    auto in_memory = describe_fault(emulation, regs, protected32(), memory);
    REQUIRE(in_memory);
    CHECK(in_memory->kind == FaultKind::internal_error);
    CHECK(in_memory->text.starts_with(
        "the host hypervisor failed to emulate the instruction at 0008:00100026 (linear "
        "0x100026, 32-bit protected mode); this is a limitation of the host, not of the guest"));
    CHECK(contains(in_memory->text, "[KVM internal error 1 (instruction emulation failed)]"));

    regs.rip = 0x20000000;
    auto nowhere = describe_fault(emulation, regs, protected32(), memory);
    REQUIRE(nowhere);
    CHECK(nowhere->text.starts_with(
        "the guest executes at 0008:20000000 (linear 0x20000000, 32-bit protected mode), where "
        "there is no memory"));

    // With paging on the physical address is not known here: no claim about the guest.
    x86::SystemRegisters paged = protected32();
    paged.cr0 |= 1u << 31;
    auto unknown = describe_fault(emulation, regs, paged, memory);
    REQUIRE(unknown);
    CHECK(unknown->text.starts_with("the host hypervisor failed to emulate"));

    const InternalError other{3, "KVM internal error 3 (event delivery failed)", false};
    auto delivery = describe_fault(other, regs, protected32(), memory);
    REQUIRE(delivery);
    CHECK(delivery->kind == FaultKind::internal_error);
    CHECK(delivery->text.starts_with("the host hypervisor cannot go on with the guest at"));
    CHECK(contains(delivery->text, "event delivery failed"));
}

TEST_CASE("a refused VM entry names the reason; other exits are no faults") {
    x86::Registers regs;
    PhysicalMemory memory;
    auto entry = describe_fault(EntryFailed{0x21}, regs, protected32(), memory);
    REQUIRE(entry);
    CHECK(entry->kind == FaultKind::entry_failed);
    CHECK(contains(entry->text, "VM entry failed, reason 0x21"));
    CHECK_FALSE(describe_fault(Halt{}, regs, protected32(), memory));
    CHECK_FALSE(describe_fault(Kicked{}, regs, protected32(), memory));
    CHECK(repeated_fault_text("guest triple fault at X")
              .starts_with("guest triple fault at X (again: the vCPU does not run on"));
}
