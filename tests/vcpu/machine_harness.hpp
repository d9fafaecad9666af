// A machine on the real KVM for the machine tests: 1 MiB of RAM, a real-mode program at
// 0000:7C00 (or another start), the breakpoint mechanism the host probe picks, and the stops
// it reports.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/vcpu/real_mode_state.hpp"
#include "vcpu/machine.hpp"
#include "vcpu/probe.hpp"

namespace hvgdb::vcpu::testing {

inline constexpr std::uint64_t code = 0x7c00;

struct Harness {
    std::unique_ptr<Machine> machine;
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<VcpuStop> stop;
    std::string console;
    bool data_breakpoints = true;

    // `adjust` may change the configuration before the machine is made.
    explicit Harness(const std::vector<std::uint8_t>& program,
                     const std::function<void(MachineConfig&)>& adjust = {})
        : Harness(unstarted, adjust) {
        std::memcpy(machine->ram().data() + code, program.data(), program.size());
        start(real_mode(0, 0, code));
    }

    // A machine not started yet, for ROMs or another initial state: start() starts it.
    struct Unstarted {};
    static constexpr Unstarted unstarted{};
    explicit Harness(Unstarted, const std::function<void(MachineConfig&)>& adjust = {}) {
        auto probe = probe_host();
        REQUIRE(probe);
        MachineConfig config;
        config.ram_bytes = 1 << 20;
        config.mechanism = probe->mechanism;
        config.data_breakpoints = probe->data_breakpoints;
        config.console = [this](std::string_view s) { console += s; };
        if (adjust) adjust(config);
        data_breakpoints = config.data_breakpoints;
        auto m = Machine::create(config);
        REQUIRE(m);
        machine = std::move(*m);
        machine->set_stop_handler([this](const VcpuStop& st) {
            std::lock_guard lock(mutex);
            stop = st;
            cv.notify_all();
        });
    }

    void start(const VcpuSnapshot& initial) {
        machine->set_initial_state(0, initial);
        REQUIRE(machine->start());
    }

    VcpuStop run(RunMode mode) {
        {
            std::lock_guard lock(mutex);
            stop.reset();
        }
        VcpuAction a{0, mode};
        machine->resume({&a, 1});
        return wait();
    }

    VcpuStop wait() {
        std::unique_lock lock(mutex);
        REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return stop.has_value(); }));
        return *stop;
    }
};

}  // namespace hvgdb::vcpu::testing
