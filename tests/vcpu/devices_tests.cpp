#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "vcpu/devices.hpp"

using namespace hvgdb::vcpu;

TEST_CASE("COM1, debugcon and the exit port on the PC bus") {
    std::string console;
    auto bus = make_pc_port_bus([&](std::string_view s) { console += s; });

    bus->write(0x3f8, 1, 'o');
    bus->write(0xe9, 1, 'k');
    CHECK(console == "ok");
    CHECK((bus->read(0x3fd, 1) & 0x60) == 0x60);  // LSR: transmitter empty
    CHECK(bus->read(0xe9, 1) == 0xe9);

    // DLAB: the divisor latch takes THR's place and nothing is printed.
    bus->write(0x3fb, 1, 0x80);
    bus->write(0x3f8, 1, 0x03);
    CHECK(bus->read(0x3f8, 1) == 0x03);
    bus->write(0x3fb, 1, 0x03);
    CHECK(console == "ok");

    CHECK(bus->write(0xf4, 1, 0).exit_code == 1);
    CHECK(bus->write(0xf4, 4, 0x10).exit_code == 0x21);
    CHECK_FALSE(bus->write(0x80, 1, 0).exit_code);
    CHECK(bus->read(0x80, 1) == 0xff);
    CHECK(bus->read(0x80, 2) == 0xffff);
}

TEST_CASE("string I/O repeats accesses and stops at an exit") {
    std::string console;
    auto bus = make_pc_port_bus([&](std::string_view s) { console += s; });
    const std::uint8_t text[] = {'a', 'b', 'c'};
    CHECK_FALSE(bus->write_string(0xe9, 1, text).exit_code);
    CHECK(console == "abc");
    const std::uint8_t words[] = {5, 0, 6, 0};
    CHECK(bus->write_string(0xf4, 2, words).exit_code == 11);
    std::uint8_t in[4] = {};
    bus->read_string(0x3fd, 1, in);
    CHECK(in[3] == 0x60);
}

TEST_CASE("the devices as the debugger sees them, and their reset") {
    auto bus = make_pc_port_bus([](std::string_view) {});
    bus->write(0x3fb, 1, 0x83);  // DLAB, 8 data bits
    bus->write(0x3f8, 1, 0x0c);  // divisor 12: 9600 baud
    bus->write(0x3fb, 1, 0x03);
    bus->write(0x3f9, 1, 0x01);  // IER
    bus->write(0x3ff, 1, 0x5a);  // scratch
    auto listed = bus->devices();
    REQUIRE(listed);
    auto& devices = *listed;
    REQUIRE(devices.size() == 3);
    CHECK(devices[0].first == 0xe9);
    CHECK(devices[0].count == 1);
    CHECK(devices[0].registers.empty());
    CHECK(devices[1].first == 0xf4);
    CHECK(devices[2].first == 0x3f8);
    CHECK(devices[2].count == 8);
    CHECK(devices[2].name == "COM1, 16550 UART");
    auto value = [&](std::string_view name) {
        const auto now = bus->devices();
        REQUIRE(now);
        for (const auto& r : (*now)[2].registers)
            if (r.name == name) return std::optional<std::uint32_t>(r.value);
        return std::optional<std::uint32_t>();
    };
    CHECK(value("IER") == 0x01u);
    CHECK(value("LCR") == 0x03u);
    CHECK(value("DLL") == 0x0cu);
    CHECK(value("DLM") == 0x00u);
    CHECK(value("SCR") == 0x5au);
    CHECK(value("LSR") == 0x60u);
    CHECK(value("IIR") == 0x01u);
    CHECK_FALSE(value("THR"));
    // Looking changes nothing the guest reads.
    CHECK(bus->read(0x3ff, 1) == 0x5a);

    bus->reset();
    CHECK(value("IER") == 0u);
    CHECK(value("LCR") == 0u);
    CHECK(value("DLL") == 1u);
    CHECK(value("SCR") == 0u);
    CHECK(bus->read(0x3fb, 1) == 0);
}

TEST_CASE("the debugger's look at the devices does not wait for a blocked console write") {
    std::atomic<bool> writing{false}, release{false};
    auto bus = make_pc_port_bus([&](std::string_view) {
        writing = true;
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    std::thread vcpu([&] { bus->write(0xe9, 1, 'x'); });  // holds the bus in the sink
    while (!writing) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK_FALSE(bus->devices(std::chrono::milliseconds(20)));
    release = true;
    vcpu.join();
    CHECK(bus->devices(std::chrono::milliseconds(20)));
}
