// Guests of several vCPUs for the machine tests, as real-mode machine code: the pieces that
// program the xAPIC (big real mode, a DS with a 4 GiB limit, reaches 0xFEE00000), and a
// machine whose BSP runs such a program while the APs wait for SIPI.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "tests/vcpu/machine_harness.hpp"
#include "vcpu/machine.hpp"

namespace hvgdb::vcpu::testing {

inline constexpr std::uint64_t bsp_code = 0x7c00;
inline constexpr std::uint32_t icr_low = 0xfee00300, icr_high = 0xfee00310;

inline void append(std::vector<std::uint8_t>& code, std::initializer_list<std::uint8_t> bytes) {
    code.insert(code.end(), bytes);
}
inline void append32(std::vector<std::uint8_t>& code, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) code.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// mov ebx, gpa; mov eax, value; mov [ebx], eax (32-bit address and operand)
inline void store32(std::vector<std::uint8_t>& code, std::uint32_t gpa, std::uint32_t value) {
    append(code, {0x66, 0xbb});
    append32(code, gpa);
    append(code, {0x66, 0xb8});
    append32(code, value);
    append(code, {0x67, 0x66, 0x89, 0x03});
}

// An IPI: ICR high (the destination), then ICR low, which sends it.
inline void send_ipi(std::vector<std::uint8_t>& code, std::uint32_t low,
                     std::uint8_t destination = 0) {
    store32(code, icr_high, std::uint32_t{destination} << 24);
    store32(code, icr_low, low);
}

// cmp byte [at], value; jne back to the cmp
inline void wait_for_byte(std::vector<std::uint8_t>& code, std::uint16_t at, std::uint8_t value) {
    append(code, {0x80, 0x3e, static_cast<std::uint8_t>(at), static_cast<std::uint8_t>(at >> 8),
                  value, 0x75, 0xf9});
}

// mov al, 1; out 0xf4, al: the guest exits with code 3
inline void exit_guest(std::vector<std::uint8_t>& code) {
    append(code, {0xb0, 0x01, 0xe6, 0xf4});
}

// Real mode at 0000:ip with DS base 0 and a 4 GiB limit.
inline VcpuSnapshot big_real_mode(std::uint64_t ip) {
    VcpuSnapshot s = real_mode(0, 0, ip);
    s.sregs.ds.limit = 0xffffffff;
    s.sregs.ds.g = true;
    return s;
}

// N vCPUs: the BSP's program at 0x7c00 in big real mode, the APs in the INIT state unless
// `prepare` gives them a state of their own; `prepare` also puts more code in RAM.
struct Smp {
    std::vector<std::string> log;  // before h: the machine's threads end before it goes
    Harness h;

    Smp(unsigned cpus, const std::vector<std::uint8_t>& bsp,
        const std::function<void(Smp&)>& prepare = {})
        : h(Harness::unstarted, [&](MachineConfig& c) {
              c.cpus = cpus;
              c.log = [this](const std::string& line) { log.push_back(line); };
          }) {
        put(bsp_code, bsp);
        h.machine->set_init_state(init_state());
        if (prepare) prepare(*this);
        h.start(big_real_mode(bsp_code));
    }

    void put(std::uint64_t gpa, const std::vector<std::uint8_t>& bytes) {
        std::memcpy(h.machine->ram().data() + gpa, bytes.data(), bytes.size());
    }
    std::uint8_t byte(std::uint64_t gpa) { return h.machine->ram()[gpa]; }
    std::uint32_t word32(std::uint64_t gpa) {
        std::uint32_t v = 0;
        std::memcpy(&v, h.machine->ram().data() + gpa, 4);
        return v;
    }

    // Resumes the vCPUs `actions` names; the stop they report comes through h.wait().
    void go(std::vector<VcpuAction> actions) {
        {
            std::lock_guard lock(h.mutex);
            h.stop.reset();
        }
        h.machine->resume(actions);
    }
    void go_all() {
        std::vector<VcpuAction> all;
        for (unsigned i = 0; i < h.machine->vcpu_count(); ++i) all.push_back({i, RunMode::cont});
        go(all);
    }
    VcpuStop resume(std::initializer_list<VcpuAction> actions) {
        go(actions);
        return h.wait();
    }
    VcpuStop run_all() {
        go_all();
        return h.wait();
    }
    bool no_stop_for(std::chrono::milliseconds t) {
        std::unique_lock lock(h.mutex);
        return !h.cv.wait_for(lock, t, [&] { return h.stop.has_value(); });
    }
    // Waits (up to 10 s) for guest memory at `gpa` to hold `value`.
    bool wait_for(std::uint64_t gpa, std::uint8_t value) {
        for (int i = 0; i < 1000; ++i) {
            if (std::atomic_ref<std::uint8_t>(h.machine->ram()[gpa]).load() == value) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
};

}  // namespace hvgdb::vcpu::testing
