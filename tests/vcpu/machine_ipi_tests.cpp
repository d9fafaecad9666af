// Interrupts between vCPUs on the real KVM: a fixed IPI goes through the target's xAPIC (IRR,
// ISR, EOI) into its IVT handler when its IF allows, wakes it from hlt, and an NMI wakes it
// even with IF clear.  Both vCPUs run real-mode code in big real mode from states set before
// start; host writes to guest memory pace them.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/vcpu/smp_guest.hpp"
#include "vcpu/machine.hpp"

using namespace hvgdb::vcpu;

namespace {

using namespace testing;

constexpr std::uint64_t ap_start = 0x9000;
constexpr std::uint64_t fixed_handler = 0x7e00, nmi_handler = 0x7e80;
constexpr std::uint16_t fixed_count = 0x6500, nmi_count = 0x6501;  // bumped by the handlers
constexpr std::uint16_t bsp_ready = 0x6510;                        // the BSP's SVR is set
constexpr std::uint16_t send_fixed = 0x6520, send_nmi = 0x6521;    // set by the host

// Handler of vector 0x40: inc byte [0x6500]; EOI; iret.
std::vector<std::uint8_t> fixed_handler_code() {
    std::vector<std::uint8_t> code = {0x66, 0x50, 0x66, 0x53,   // push eax; push ebx
                                      0xfe, 0x06, 0x00, 0x65};  // inc byte [0x6500]
    store32(code, 0xfee000b0, 0);                               // EOI
    append(code, {0x66, 0x5b, 0x66, 0x58, 0xcf});               // pop ebx; pop eax; iret
    return code;
}
// NMI handler: inc byte [0x6501]; iret.
const std::vector<std::uint8_t> nmi_handler_code = {0xfe, 0x06, 0x01, 0x65, 0xcf};

// 0000:offset in the real-mode IVT slot of `vector`.
void set_vector(Smp& m, unsigned vector, std::uint16_t offset) {
    m.put(vector * 4,
          {static_cast<std::uint8_t>(offset), static_cast<std::uint8_t>(offset >> 8), 0, 0});
}

// mov byte [at], value
void store_byte(std::vector<std::uint8_t>& code, std::uint16_t at, std::uint8_t value) {
    append(code,
           {0xc6, 0x06, static_cast<std::uint8_t>(at), static_cast<std::uint8_t>(at >> 8), value});
}

// Both vCPUs run: the BSP `bsp`, vCPU 1 `ap` at 0x9000, each in big real mode.
void prepare(Smp& m, const std::vector<std::uint8_t>& ap) {
    m.put(ap_start, ap);
    m.put(fixed_handler, fixed_handler_code());
    m.put(nmi_handler, nmi_handler_code);
    set_vector(m, 0x40, fixed_handler);
    set_vector(m, 2, nmi_handler);
    m.h.machine->set_initial_state(1, big_real_mode(ap_start));
}

void release(Smp& m, std::uint16_t flag) {
    std::atomic_ref<std::uint8_t>(m.h.machine->ram()[flag]).store(1);
}

}  // namespace

TEST_CASE("a fixed IPI waits for IF, an NMI wakes a hlt with IF clear, then the IPI runs") {
    // BSP: enable the xAPIC, say so, cli; hlt (only an NMI ends it); sti; wait for the fixed
    // interrupt's handler; exit.
    std::vector<std::uint8_t> bsp;
    store32(bsp, 0xfee000f0, 0x1ff);  // SVR: software enable, spurious vector 0xff
    store_byte(bsp, bsp_ready, 1);
    append(bsp, {0xfa, 0xf4, 0xfb});  // cli; hlt; sti
    wait_for_byte(bsp, fixed_count, 1);
    exit_guest(bsp);
    // vCPU 1: when the host says, a fixed IPI with vector 0x40 to APIC ID 0; when it says
    // again, an NMI; then halt.
    std::vector<std::uint8_t> ap;
    wait_for_byte(ap, bsp_ready, 1);
    wait_for_byte(ap, send_fixed, 1);
    send_ipi(ap, 0x00004040, 0);
    wait_for_byte(ap, send_nmi, 1);
    send_ipi(ap, 0x00004400, 0);
    append(ap, {0xfa, 0xf4, 0xeb, 0xfc});

    Smp m(2, bsp, [&](Smp& s) { prepare(s, ap); });
    m.go_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the BSP halts meanwhile
    release(m, send_fixed);
    CHECK(m.no_stop_for(std::chrono::milliseconds(300)));
    CHECK(m.byte(fixed_count) == 0);  // IF is clear: the interrupt waits in IRR
    CHECK(m.byte(nmi_count) == 0);
    release(m, send_nmi);
    auto s = m.h.wait();
    CAPTURE(s.detail);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 3);
    CHECK(m.byte(nmi_count) == 1);
    CHECK(m.byte(fixed_count) == 1);
    CHECK(m.log.empty());
}

TEST_CASE("a fixed IPI wakes a vCPU halted with IF set, and its EOI lets the next one in") {
    // BSP: enable the xAPIC; sti; hlt until two interrupts came; exit.  vCPU 1 sends one
    // fixed IPI each time the host says.
    std::vector<std::uint8_t> bsp;
    store32(bsp, 0xfee000f0, 0x1ff);
    store_byte(bsp, bsp_ready, 1);
    append(bsp, {0xfb, 0xf4});                                // sti; hlt
    append(bsp, {0x80, 0x3e, 0x00, 0x65, 0x02, 0x75, 0xf7});  // cmp byte [0x6500], 2; jne sti
    exit_guest(bsp);
    std::vector<std::uint8_t> ap;
    wait_for_byte(ap, bsp_ready, 1);
    wait_for_byte(ap, send_fixed, 1);
    send_ipi(ap, 0x00004040, 0);
    wait_for_byte(ap, send_nmi, 1);  // the second go
    send_ipi(ap, 0x00004040, 0);
    append(ap, {0xfa, 0xf4, 0xeb, 0xfc});

    Smp m(2, bsp, [&](Smp& s) { prepare(s, ap); });
    m.go_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    release(m, send_fixed);
    REQUIRE(m.wait_for(fixed_count, 1));
    CHECK(m.no_stop_for(std::chrono::milliseconds(100)));  // halted again, waiting
    release(m, send_nmi);
    auto s = m.h.wait();
    CAPTURE(s.detail);
    CHECK(s.cause == StopCause::exited);
    CHECK(m.byte(fixed_count) == 2);
    CHECK(m.byte(nmi_count) == 0);
}

TEST_CASE("a self IPI and an IPI to a software-disabled xAPIC") {
    // BSP, its xAPIC still software-disabled after reset: a self IPI is rejected.  Then, with
    // SVR's enable bit set, a self IPI goes to the handler: exactly one interrupt in all.
    std::vector<std::uint8_t> bsp;
    append(bsp, {0xfb});                    // sti
    send_ipi(bsp, 0x00044040, 0);           // self, vector 0x40: dropped, SVR bit 8 is clear
    append(bsp, {0x90, 0x90, 0x90, 0x90});  // nops: time for a wrongly taken interrupt
    store_byte(bsp, 0x6530, 1);
    store32(bsp, 0xfee000f0, 0x1ff);
    send_ipi(bsp, 0x00044040, 0);  // self again: taken
    wait_for_byte(bsp, fixed_count, 1);
    exit_guest(bsp);
    Smp m(1, bsp, [&](Smp& s) {
        s.put(fixed_handler, fixed_handler_code());
        set_vector(s, 0x40, fixed_handler);
    });
    auto s = m.run_all();
    CAPTURE(s.detail);
    CHECK(s.cause == StopCause::exited);
    CHECK(m.byte(fixed_count) == 1);
    CHECK(m.byte(0x6530) == 1);
}
