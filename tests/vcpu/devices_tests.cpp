#include <doctest/doctest.h>

#include <string>

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
