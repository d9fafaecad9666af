#include <doctest/doctest.h>

#include <string>

#include "app/options.hpp"
#include "gdbstub/arch/x86.hpp"

using namespace hvgdb::app;

TEST_CASE("memory sizes") {
    CHECK(*parse_memory_size("128M") == 128ull << 20);
    CHECK(*parse_memory_size("1G") == 1ull << 30);
    CHECK(*parse_memory_size("2GiB") == 2ull << 30);
    CHECK(*parse_memory_size("4096K") == 4ull << 20);
    CHECK(*parse_memory_size("1048576") == 1ull << 20);
    for (auto bad :
         {"", "M", "12X", "-1M", "512K", "65G", "99999999999999999999", "1.5G", "1048577", " 1M"})
        CHECK_MESSAGE(!parse_memory_size(bad), bad);
}

TEST_CASE("endpoints") {
    auto e = parse_endpoint("127.0.0.1:1234");
    REQUIRE(e);
    CHECK(e->host == "127.0.0.1");
    CHECK(e->port == 1234);
    CHECK(parse_endpoint(":0")->host == "127.0.0.1");
    CHECK(parse_endpoint("localhost:9")->host == "127.0.0.1");
    CHECK(parse_endpoint("[::1]:5")->host == "::1");
    for (auto bad : {"", "1234", "host:", "host:65536", "host:12x", "::1:5", "h:-1"})
        CHECK_MESSAGE(!parse_endpoint(bad), bad);
}

TEST_CASE("serial and addresses") {
    CHECK(parse_serial("stdio")->kind == SerialKind::stdio);
    CHECK(parse_serial("none")->kind == SerialKind::none);
    CHECK(parse_serial("file:/tmp/x")->path == "/tmp/x");
    CHECK_FALSE(parse_serial("file:"));
    CHECK_FALSE(parse_serial("tcp:1"));
    CHECK(*parse_address("0x7c00") == 0x7c00);
    CHECK(*parse_address("4096") == 4096);
    CHECK(*parse_address("0xffffffffffffffff") == ~0ull);
    for (auto bad : {"", "0x", "0x1g", "12a", "0x10000000000000000", "-5"})
        CHECK_MESSAGE(!parse_address(bad), bad);
}

TEST_CASE("command line") {
    const char* ok[] = {"hvgdb",    "--gdb",     "127.0.0.1:0", "--memory", "64M",
                        "--format", "raw",       "--load-addr", "0x1000",   "--mode",
                        "long",     "--no-wait", "img"};
    auto o = parse_command_line(13, ok);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->image == "img");
    CHECK((*o)->gdb.port == 0);
    CHECK((*o)->memory_bytes == 64ull << 20);
    CHECK((*o)->load.load_addr == 0x1000);
    CHECK((*o)->no_wait);

    const char* missing_image[] = {"hvgdb"};
    CHECK(parse_command_line(1, missing_image).error().kind == hvgdb::ErrorKind::invalid);
    const char* bad_mode[] = {"hvgdb", "--mode", "unreal", "img"};
    CHECK_FALSE(parse_command_line(4, bad_mode));
    const char* unknown[] = {"hvgdb", "--frobnicate", "img"};
    CHECK_FALSE(parse_command_line(3, unknown));
}

TEST_CASE("--arch: the register view, or auto") {
    CHECK(*parse_view("auto") == nullptr);
    CHECK(*parse_view("x86-64") == &hvgdb::gdbstub::arch::x86_64());
    CHECK(*parse_view("i386") == &hvgdb::gdbstub::arch::i386());
    CHECK(*parse_view("i8086") == &hvgdb::gdbstub::arch::i8086());
    for (const char* bad : {"", "x86_64", "I386", "amd64", "i8086 "})
        CHECK_MESSAGE(!parse_view(bad), bad);
    const char* forced[] = {"hvgdb", "--arch", "i386", "img"};
    auto o = parse_command_line(4, forced);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->view == &hvgdb::gdbstub::arch::i386());
    const char* plain[] = {"hvgdb", "img"};
    CHECK((*parse_command_line(2, plain))->view == nullptr);
    const char* bad[] = {"hvgdb", "--arch", "arm64", "img"};
    CHECK(parse_command_line(4, bad).error().kind == hvgdb::ErrorKind::invalid);
}

TEST_CASE("Multiboot command line and modules") {
    auto m = parse_module("initrd.img rw quiet");
    REQUIRE(m);
    CHECK(m->path == "initrd.img");
    CHECK(m->name_and_args == "initrd.img rw quiet");
    CHECK(parse_module("mod.bin")->path == "mod.bin");
    CHECK_FALSE(parse_module(""));
    CHECK_FALSE(parse_module(" args-without-a-file"));

    const char* args[] = {"hvgdb",     "--cmdline", "root=/dev/x", "--module",
                          "a.bin one", "--module",  "b.bin",       "kernel.elf"};
    auto o = parse_command_line(8, args);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->load.cmdline == "root=/dev/x");
    REQUIRE((*o)->modules.size() == 2);
    CHECK((*o)->modules[0].path == "a.bin");
    CHECK((*o)->modules[1].name_and_args == "b.bin");
    CHECK((*o)->image == "kernel.elf");
}

TEST_CASE("--cpus: 1 to 255 vCPUs") {
    CHECK(*parse_cpus("1") == 1);
    CHECK(*parse_cpus("4") == 4);
    CHECK(*parse_cpus("255") == 255);
    auto zero = parse_cpus("0");
    REQUIRE_FALSE(zero);
    CHECK(zero.error().kind == hvgdb::ErrorKind::invalid);
    CHECK(zero.error().message().find("at least one") != std::string::npos);
    auto word = parse_cpus("two");
    REQUIRE_FALSE(word);
    CHECK(word.error().message().find("not a number") != std::string::npos);
    for (auto bad : {"", "-1", "+2", " 2", "2 ", "0x2", "1.5", "256", "99999999999999999999"})
        CHECK_MESSAGE(!parse_cpus(bad), bad);

    const char* plain[] = {"hvgdb", "img"};
    CHECK((*parse_command_line(2, plain))->cpus == 1);
    const char* four[] = {"hvgdb", "--cpus", "4", "img"};
    auto o = parse_command_line(4, four);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->cpus == 4);
    const char* none[] = {"hvgdb", "--cpus", "0", "img"};
    CHECK(parse_command_line(4, none).error().kind == hvgdb::ErrorKind::invalid);
    const char* text[] = {"hvgdb", "--cpus", "many", "img"};
    CHECK(parse_command_line(4, text).error().kind == hvgdb::ErrorKind::invalid);
}

TEST_CASE("--memory-map and --console-to-debugger") {
    CHECK(*parse_memory_map_mode("paged") == MemoryMapMode::paged);
    CHECK(*parse_memory_map_mode("physical") == MemoryMapMode::physical);
    CHECK(*parse_memory_map_mode("off") == MemoryMapMode::off);
    for (auto bad : {"", "Paged", "phys", "on", "physical "})
        CHECK_MESSAGE(!parse_memory_map_mode(bad), bad);

    const char* plain[] = {"hvgdb", "img"};
    auto o = parse_command_line(2, plain);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->memory_map == MemoryMapMode::paged);
    CHECK_FALSE((*o)->console_to_debugger);
    const char* set[] = {"hvgdb", "--memory-map", "physical", "--console-to-debugger", "img"};
    o = parse_command_line(5, set);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->memory_map == MemoryMapMode::physical);
    CHECK((*o)->console_to_debugger);
    const char* bad[] = {"hvgdb", "--memory-map", "linear", "img"};
    CHECK(parse_command_line(4, bad).error().kind == hvgdb::ErrorKind::invalid);

    CHECK(serial_name(*parse_serial("stdio")) == "hvgdb's standard output");
    CHECK(serial_name(*parse_serial("file:/tmp/x")) == "file /tmp/x");
    CHECK(serial_name(*parse_serial("none")) == "nowhere (--serial none)");
}
