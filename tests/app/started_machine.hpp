// For the KVM tests of the adapter: a started vcpu::Machine and a MachineTarget over it, with a
// raw real-mode program loaded at 0x7c00 the way hvgdb loads images (so that `monitor reset`
// loads it again), and the target's stops handed to the test thread.  Needs /dev/kvm.
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/initial_state.hpp"
#include "app/machine_target.hpp"
#include "vcpu/probe.hpp"

namespace hvgdb::test {

struct StartedMachine {
    static constexpr std::uint64_t load_address = 0x7c00;

    std::vector<std::uint8_t> image;
    loader::LoadOptions options;
    std::unique_ptr<vcpu::Machine> machine;
    std::unique_ptr<app::MachineTarget> target;
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<gdbstub::StopEvent> stop;

    // vCPU 0 runs `program`; the others (`cpus` - 1) wait for SIPI.
    explicit StartedMachine(std::vector<std::uint8_t> program, bool reloadable = true,
                            unsigned cpus = 1)
        : image(std::move(program)) {
        auto probe = vcpu::probe_host();
        REQUIRE(probe);
        vcpu::MachineConfig config;
        config.ram_bytes = 1 << 20;
        config.cpus = cpus;
        config.mechanism = probe->mechanism;
        config.data_breakpoints = probe->data_breakpoints;
        auto m = vcpu::Machine::create(config);
        REQUIRE(m);
        machine = std::move(*m);
        options.format = loader::Format::raw;
        options.load_addr = load_address;
        options.mode = loader::CpuMode::real;
        options.processor_signature = machine->capabilities().processor_signature;
        auto loaded = app::load_into_ram(*machine, image, options);
        REQUIRE(loaded);
        machine->set_initial_state(0, app::initial_snapshot(loaded->cpu));
        machine->set_init_state(app::init_snapshot(options.processor_signature));
        auto t = app::MachineTarget::create(*machine);
        REQUIRE(t);
        target = std::move(*t);
        if (reloadable)
            target->set_reload([this]() -> Result<void> {
                auto again = app::load_into_ram(*machine, image, options);
                if (!again) return std::unexpected(again.error());
                return {};
            });
        target->set_stop_sink([this](const gdbstub::StopEvent& e) {
            std::lock_guard lock(mutex);
            stop = e;
            cv.notify_all();
        });
        REQUIRE(machine->start());
    }
    ~StartedMachine() { machine->shutdown(); }

    std::string ok(std::string_view command) {
        auto r = target->monitor(command);
        if (!r) FAIL("monitor ", command, ": ", r.error().message());
        return *r;
    }
    std::string refused(std::string_view command) {
        auto r = target->monitor(command);
        REQUIRE_FALSE(r);
        return r.error().message();
    }
    // Every thread continues; the stop that ends the run.
    gdbstub::StopEvent run() {
        forget_stop();
        REQUIRE(target->resume(std::array{gdbstub::ThreadAction{}}));
        return wait();
    }
    gdbstub::StopEvent wait() {
        auto s = wait_for(std::chrono::seconds(10));
        REQUIRE(s);
        return *s;
    }
    // The stop reported since the last forget_stop(), waiting up to `timeout` for one.
    std::optional<gdbstub::StopEvent> wait_for(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, timeout, [&] { return stop.has_value(); });
        return stop;
    }
    void forget_stop() {
        std::lock_guard lock(mutex);
        stop.reset();
    }
    std::uint64_t pc() {
        const auto& arch = target->arch();
        auto regno = gdbstub::arch::find_generic(arch, gdbstub::arch::Generic::pc);
        REQUIRE(regno);
        std::vector<std::uint8_t> bytes(arch.register_bytes(*regno));
        REQUIRE(target->read_register(1, *regno, bytes));
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < bytes.size() && i < 8; ++i)
            v |= std::uint64_t{bytes[i]} << (8 * i);
        return v;
    }
};

}  // namespace hvgdb::test
