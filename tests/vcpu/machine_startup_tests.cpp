// Multiprocessor start-up on the real KVM: APs wait for SIPI in the INIT state, the BSP starts
// them through its xAPIC page (INIT, then a SIPI with vector 8: the AP starts at 0x8000), and
// the debugger sees a waiting AP as a thread that runs nothing.  Guests are real-mode machine
// code; the BSP runs in big real mode (DS with a 4 GiB limit) to reach 0xFEE00000.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "tests/vcpu/smp_guest.hpp"
#include "vcpu/machine.hpp"

using namespace hvgdb::vcpu;

namespace {

using namespace testing;

constexpr std::uint64_t ap_code = 0x8000;   // SIPI vector 8
constexpr std::uint64_t marker = 0x6000;    // + APIC ID: 0xa5 once that AP ran
constexpr std::uint64_t apic_ids = 0x6010;  // + APIC ID: the ID the AP read at 0xFEE00020
constexpr std::uint64_t cpuid_ebx = 0x6100, cpuid_edx = 0x6200, cpuid_ecx = 0x6300;  // + 4 * ID

// The BSP's CPUID leaf 1 stored as the APs store theirs: mov eax, 1; cpuid; mov [..], ebx,
// edx, ecx
std::vector<std::uint8_t> bsp_cpuid() {
    return {0x66, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2,  //
            0x66, 0x89, 0x1e, 0x00, 0x61,                    // mov [0x6100], ebx
            0x66, 0x89, 0x16, 0x00, 0x62,                    // mov [0x6200], edx
            0x66, 0x89, 0x0e, 0x00, 0x63};                   // mov [0x6300], ecx
}

// The AP at 0x8000 (CS 0800, IP 0).  It enters big real mode through the GDT at 0x8088
// (GDTR at 0x8080), runs CPUID leaf 1, reads its APIC ID at 0xFEE00020, stores what it found
// by ID, sets its marker, and halts for good.
const std::vector<std::uint8_t> ap_program = {
    0xfa,                                            // cli
    0x31, 0xc0, 0x8e, 0xd8,                          // xor ax, ax; mov ds, ax
    0x66, 0x0f, 0x01, 0x16, 0x80, 0x80,              // lgdt [0x8080]
    0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0,  // mov eax, cr0; or al, 1; mov cr0, eax
    0xbb, 0x10, 0x00, 0x8e, 0xdb,                    // mov bx, 0x10; mov ds, bx (flat, 4 GiB)
    0x24, 0xfe, 0x0f, 0x22, 0xc0,                    // and al, 0xfe; mov cr0, eax (real mode again)
    0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,              // mov eax, 1
    0x0f, 0xa2,                                      // cpuid
    0x66, 0x89, 0xde,                                // mov esi, ebx
    0x66, 0xbb, 0x20, 0x00, 0xe0, 0xfe,              // mov ebx, 0xfee00020
    0x67, 0x66, 0x8b, 0x03,                          // mov eax, [ebx]
    0x66, 0xc1, 0xe8, 0x18,                          // shr eax, 24
    0x67, 0x88, 0x80, 0x10, 0x60, 0x00, 0x00,        // mov [eax + 0x6010], al
    0x67, 0x66, 0x89, 0x34, 0x85, 0x00, 0x61, 0x00, 0x00,  // mov [eax*4 + 0x6100], esi
    0x67, 0x66, 0x89, 0x14, 0x85, 0x00, 0x62, 0x00, 0x00,  // mov [eax*4 + 0x6200], edx
    0x67, 0x66, 0x89, 0x0c, 0x85, 0x00, 0x63, 0x00, 0x00,  // mov [eax*4 + 0x6300], ecx
    0x67, 0xc6, 0x80, 0x00, 0x60, 0x00, 0x00, 0xa5,        // mov byte [eax + 0x6000], 0xa5
    0xfa, 0xf4, 0xeb, 0xfc,                                // cli; hlt; jmp to the cli
};
const std::vector<std::uint8_t> ap_gdtr = {0x17, 0x00, 0x88, 0x80, 0x00, 0x00};
const std::vector<std::uint8_t> ap_gdt = {
    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0,  // null, unused
    0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00,  // 0x10: data, base 0, 4 GiB
};

void put_ap_program(Smp& m) {
    m.put(ap_code, ap_program);
    m.put(ap_code + 0x80, ap_gdtr);
    m.put(ap_code + 0x88, ap_gdt);
}

// The registers INIT leaves, as a parked AP shows them.
void check_init_state(const VcpuSnapshot& s, unsigned id) {
    const VcpuSnapshot want = testing::init_state();
    CHECK(s.regs == want.regs);
    CHECK(s.sregs.cs.selector == 0xf000);
    CHECK(s.sregs.cs.base == 0xffff0000);
    CHECK(s.regs.rip == 0xfff0);
    CHECK(s.regs.rdx == 0x600);
    CHECK(s.sregs.cr0 == 0x60000010);
    CHECK(s.sregs.efer == 0);
    CHECK(s.sregs.ds == want.sregs.ds);
    CHECK(s.sregs.apic_base == (id == 0 ? 0xfee00900u : 0xfee00800u));
}

// BSP: INIT and SIPI (vector 8) to `destination` or by `shorthand` (ICR bits 19:18), then it
// waits for the markers of `aps` and exits.
std::vector<std::uint8_t> starts_aps(std::uint32_t shorthand, std::uint8_t destination,
                                     std::initializer_list<std::uint8_t> aps) {
    std::vector<std::uint8_t> code = bsp_cpuid();
    send_ipi(code, shorthand | 0x4500, destination);  // INIT, level assert
    send_ipi(code, shorthand | 0x4608, destination);  // SIPI, vector 8
    for (std::uint8_t ap : aps) wait_for_byte(code, static_cast<std::uint16_t>(marker + ap), 0xa5);
    exit_guest(code);
    return code;
}

constexpr std::uint32_t physical = 0, all_excluding_self = 3u << 18;

}  // namespace

TEST_CASE("two vCPUs: INIT and SIPI start the AP, which reads its APIC ID") {
    Smp m(2, starts_aps(physical, 1, {1}), put_ap_program);
    CHECK_FALSE(m.h.machine->waiting_for_sipi(0));
    CHECK(m.h.machine->waiting_for_sipi(1));
    CHECK(m.h.machine->snapshot(0).sregs.apic_base == 0xfee00900);
    check_init_state(m.h.machine->snapshot(1), 1);

    auto s = m.run_all();
    CAPTURE(s.detail);
    CHECK(s.vcpu == 0);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 3);
    CHECK(m.byte(marker + 1) == 0xa5);
    CHECK(m.byte(apic_ids + 1) == 1);
    CHECK_FALSE(m.h.machine->waiting_for_sipi(1));
    const VcpuSnapshot ap = m.h.machine->snapshot(1);
    CHECK(ap.sregs.cs.selector == 0x0800);  // started by the SIPI: CS = vector << 8
    CHECK(ap.sregs.cs.base == 0x8000);
    CHECK(ap.regs.rip >= ap_program.size() - 4);  // in its final hlt loop
    CHECK(ap.regs.rip <= ap_program.size());
}

TEST_CASE("CPUID leaf 1: each vCPU's initial APIC ID, an APIC, no x2APIC") {
    Smp m(2, starts_aps(physical, 1, {1}), put_ap_program);
    REQUIRE(m.run_all().cause == StopCause::exited);
    for (unsigned id = 0; id < 2; ++id) {
        CAPTURE(id);
        CHECK((m.word32(cpuid_ebx + 4 * id) >> 24) == id);
        CHECK((m.word32(cpuid_edx + 4 * id) & (1u << 9)) != 0);   // APIC
        CHECK((m.word32(cpuid_ecx + 4 * id) & (1u << 21)) == 0);  // x2APIC
    }
}

TEST_CASE("three vCPUs: the all-excluding-self shorthand starts both APs") {
    Smp m(3, starts_aps(all_excluding_self, 0, {1, 2}), put_ap_program);
    CHECK(m.h.machine->waiting_for_sipi(1));
    CHECK(m.h.machine->waiting_for_sipi(2));
    check_init_state(m.h.machine->snapshot(2), 2);
    auto s = m.run_all();
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 3);
    for (unsigned id = 1; id < 3; ++id) {
        CAPTURE(id);
        CHECK(m.byte(marker + id) == 0xa5);
        CHECK(m.byte(apic_ids + id) == id);
        CHECK((m.word32(cpuid_ebx + 4 * id) >> 24) == id);
        CHECK_FALSE(m.h.machine->waiting_for_sipi(id));
    }
    CHECK(m.byte(marker) == 0);  // the BSP was not started as an AP
}

TEST_CASE("physical destinations start only the AP named") {
    Smp m(3, starts_aps(physical, 2, {2}), put_ap_program);
    REQUIRE(m.run_all().cause == StopCause::exited);
    CHECK(m.byte(marker + 2) == 0xa5);
    CHECK(m.byte(apic_ids + 2) == 2);
    CHECK(m.byte(marker + 1) == 0);
    CHECK(m.h.machine->waiting_for_sipi(1));
    check_init_state(m.h.machine->snapshot(1), 1);
}

TEST_CASE("APs run nothing before the SIPI") {
    // The BSP sends INIT alone and exits.
    std::vector<std::uint8_t> code;
    send_ipi(code, 0x4500, 1);
    exit_guest(code);
    Smp m(2, code, put_ap_program);
    auto s = m.run_all();
    CHECK(s.cause == StopCause::exited);
    CHECK(m.byte(marker + 1) == 0);
    CHECK(m.h.machine->waiting_for_sipi(1));
    check_init_state(m.h.machine->snapshot(1), 1);

    // Resumed alone, the waiting AP reports nothing until the debugger stops it.
    m.go({{1, RunMode::cont}});
    CHECK(m.no_stop_for(std::chrono::milliseconds(200)));
    CHECK(m.h.machine->running());
    m.h.machine->request_stop();
    s = m.h.wait();
    CHECK(s.vcpu == 1);
    CHECK(s.cause == StopCause::interrupted);
    CHECK(m.byte(marker + 1) == 0);
    check_init_state(m.h.machine->snapshot(1), 1);
}

TEST_CASE("a step of an AP waiting for SIPI ends at once and changes nothing") {
    std::vector<std::uint8_t> code;
    exit_guest(code);
    Smp m(2, code, put_ap_program);
    const VcpuSnapshot before = m.h.machine->snapshot(1);
    auto s = m.resume({{1, RunMode::step}});
    CHECK(s.vcpu == 1);
    CHECK(s.cause == StopCause::step);
    const VcpuSnapshot after = m.h.machine->snapshot(1);
    CHECK(after.regs == before.regs);
    CHECK(after.sregs == before.sregs);
    CHECK(m.h.machine->waiting_for_sipi(1));
}

TEST_CASE("a SIPI sent while the debugger holds the AP stopped starts it when resumed") {
    // gdb's scheduler-locking: only the BSP runs; it sends INIT and SIPI, then exits.
    std::vector<std::uint8_t> code;
    send_ipi(code, 0x4500, 1);
    send_ipi(code, 0x4608, 1);
    send_ipi(code, 0x4609, 1);  // the second SIPI of INIT-SIPI-SIPI: ignored (vector 9)
    exit_guest(code);
    Smp m(2, code, put_ap_program);
    auto s = m.resume({{0, RunMode::cont}});
    CHECK(s.cause == StopCause::exited);
    CHECK(m.byte(marker + 1) == 0);
    CHECK(m.h.machine->waiting_for_sipi(1));  // the SIPI is kept, not taken yet
    check_init_state(m.h.machine->snapshot(1), 1);

    m.go({{1, RunMode::cont}});
    REQUIRE(m.wait_for(marker + 1, 0xa5));
    CHECK(m.byte(apic_ids + 1) == 1);
    m.h.machine->request_stop();
    s = m.h.wait();
    CHECK(s.vcpu == 1);
    CHECK(s.cause == StopCause::interrupted);
    CHECK(m.h.machine->snapshot(1).sregs.cs.selector == 0x0800);  // vector 8, not 9
    CHECK_FALSE(m.h.machine->waiting_for_sipi(1));
}

TEST_CASE("INIT sends a running AP back to wait for SIPI, and the next SIPI starts it again") {
    // The AP starts at 0x8000 and halts; INIT wakes it from hlt into the INIT state; a SIPI
    // with vector 9 starts it at 0x9000, in real mode again: mov byte [0x6003], 0x5a; hlt.
    std::vector<std::uint8_t> code = starts_aps(physical, 1, {1});
    code.resize(code.size() - 4);  // not the exit yet
    send_ipi(code, 0x4500, 1);
    send_ipi(code, 0x4609, 1);
    wait_for_byte(code, 0x6003, 0x5a);
    exit_guest(code);
    Smp m(2, code, put_ap_program);
    m.put(0x9000, {0xc6, 0x06, 0x03, 0x60, 0x5a, 0xfa, 0xf4, 0xeb, 0xfc});
    auto s = m.run_all();
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 3);
    CHECK(m.byte(0x6003) == 0x5a);
    const VcpuSnapshot ap = m.h.machine->snapshot(1);
    CHECK(ap.sregs.cs.selector == 0x0900);
    CHECK(ap.sregs.cs.base == 0x9000);
    CHECK(ap.sregs.ds.limit == 0xffff);  // INIT undid the AP's big real mode
}

TEST_CASE("the xAPIC page follows IA32_APIC_BASE") {
    // The BSP moves its APIC to 0x100000 (above the 1 MiB of RAM), reads the version register
    // there and at the old page, then disables the APIC and reads the new page again.
    std::vector<std::uint8_t> code = {
        0x66, 0xb9, 0x1b, 0x00, 0x00, 0x00,  // mov ecx, 0x1b (IA32_APIC_BASE)
        0x0f, 0x32,                          // rdmsr
        0x66, 0x25, 0xff, 0x0f, 0x00, 0x00,  // and eax, 0xfff: keep the flags
        0x66, 0x0d, 0x00, 0x00, 0x10, 0x00,  // or eax, 0x100000
        0x0f, 0x30,                          // wrmsr
        0x66, 0xbb, 0x30, 0x00, 0x10, 0x00,  // mov ebx, 0x100030
        0x67, 0x66, 0x8b, 0x13,              // mov edx, [ebx]
        0x66, 0x89, 0x16, 0x00, 0x64,        // mov [0x6400], edx
        0x66, 0xbb, 0x30, 0x00, 0xe0, 0xfe,  // mov ebx, 0xfee00030
        0x67, 0x66, 0x8b, 0x13,              // mov edx, [ebx]
        0x66, 0x89, 0x16, 0x04, 0x64,        // mov [0x6404], edx
        0x66, 0x25, 0xff, 0xf7, 0xff, 0xff,  // and eax, ~0x800: global disable
        0x66, 0x31, 0xd2,                    // xor edx, edx: the MSR's high half
        0x0f, 0x30,                          // wrmsr
        0x66, 0xbb, 0x30, 0x00, 0x10, 0x00,  // mov ebx, 0x100030
        0x67, 0x66, 0x8b, 0x13,              // mov edx, [ebx]
        0x66, 0x89, 0x16, 0x08, 0x64,        // mov [0x6408], edx
    };
    exit_guest(code);
    Smp m(1, code, put_ap_program);
    auto s = m.run_all();
    REQUIRE(s.cause == StopCause::exited);
    CHECK(m.word32(0x6400) == 0x00050014);  // the version register at the new page
    CHECK(m.word32(0x6404) == 0xffffffff);  // the old page is an empty bus now
    CHECK(m.word32(0x6408) == 0xffffffff);  // disabled: no APIC anywhere
    CHECK(m.h.machine->snapshot(0).sregs.apic_base == 0x00100100);
}

TEST_CASE("an IPI of a mode hvgdb does not deliver is dropped and said so once") {
    std::vector<std::uint8_t> code;
    send_ipi(code, 0x4200, 1);  // SMI
    send_ipi(code, 0x4200, 1);
    exit_guest(code);
    Smp m(2, code, put_ap_program);
    CHECK(m.run_all().cause == StopCause::exited);
    REQUIRE(m.log.size() == 1);
    CHECK(m.log[0].find("SMI") != std::string::npos);
    CHECK(m.h.machine->waiting_for_sipi(1));
}

TEST_CASE("no more vCPUs than 8-bit xAPIC IDs name") {
    MachineConfig config;
    config.ram_bytes = 1 << 20;
    config.cpus = 256;
    auto m = Machine::create(config);
    REQUIRE_FALSE(m);
    CHECK(m.error().kind == hvgdb::ErrorKind::invalid);
    config.cpus = 0;
    CHECK_FALSE(Machine::create(config));
}
