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
    CHECK(parse_endpoint("0.0.0.0:1234")->host == "0.0.0.0");
    CHECK(parse_endpoint("[::]:1")->host == "::");
    CHECK(parse_endpoint("127.0.0.1:1234")->unix_path.empty());
    for (auto bad : {"", "1234", "host:", "host:65536", "host:12x", "::1:5", "h:-1", "127.0.0.1:",
                     "127.0.0.1:65536", "127.0.0.1:12x", "127.0.0.1:-1", "[::1]:", "[::1]",
                     "[127.0.0.1]:5", "[::g]:5", "::1:5", "1.2.3:5", "1.2.3.256:5", " 1.2.3.4:5"})
        CHECK_MESSAGE(!parse_endpoint(bad), bad);
}

TEST_CASE("--gdb unix:PATH and host names") {
    auto u = parse_endpoint("unix:/tmp/hvgdb.sock");
    REQUIRE(u);
    CHECK(u->unix_path == "/tmp/hvgdb.sock");
    CHECK(u->host.empty());
    CHECK(parse_endpoint("unix:relative/s")->unix_path == "relative/s");
    CHECK(parse_endpoint("unix:a:b")->unix_path == "a:b");  // the path is everything after
    using namespace std::string_view_literals;
    CHECK_FALSE(parse_endpoint("unix:/tmp/a\0b"sv));
    CHECK_FALSE(parse_endpoint("127.0.0.1\0.5:1"sv));
    auto empty = parse_endpoint("unix:");
    REQUIRE_FALSE(empty);
    CHECK(empty.error().kind == hvgdb::ErrorKind::invalid);
    CHECK(empty.error().message() == "--gdb unix: needs a socket path, as in unix:PATH");
    // A host name's address depends on a lookup, and with it whether it is loopback.
    auto name = parse_endpoint("example.com:1234");
    REQUIRE_FALSE(name);
    CHECK(name.error().message() ==
          "'example.com:1234': 'example.com' is not an IPv4 address (--gdb takes an address, "
          "localhost, or unix:PATH)");
    CHECK(parse_endpoint("[host]:1").error().message().find("is not an IPv6 address") !=
          std::string::npos);

    CHECK(endpoint_name(*parse_endpoint("localhost:9")) == "127.0.0.1:9");
    CHECK(endpoint_name(*parse_endpoint("[::1]:5")) == "[::1]:5");
    CHECK(endpoint_name(*u) == "unix:/tmp/hvgdb.sock");
}

TEST_CASE("loopback, and --allow-remote for anything else") {
    for (auto local : {"127.0.0.1:1", "127.255.3.4:1", "localhost:1", ":1", "[::1]:1",
                       "[::ffff:127.0.0.1]:1", "unix:/tmp/s"}) {
        CHECK_MESSAGE(is_loopback(*parse_endpoint(local)), local);
        CHECK_MESSAGE(check_listen_address(*parse_endpoint(local), false), local);
    }
    for (auto remote : {"0.0.0.0:1", "[::]:1", "10.0.0.1:1", "128.0.0.1:1", "126.255.255.255:1",
                        "[::2]:1", "[::ffff:10.0.0.1]:1", "[fe80::1]:1", "192.168.1.5:1"}) {
        CHECK_MESSAGE(!is_loopback(*parse_endpoint(remote)), remote);
        auto refused = check_listen_address(*parse_endpoint(remote), false);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == hvgdb::ErrorKind::invalid);
        CHECK_MESSAGE(check_listen_address(*parse_endpoint(remote), true), remote);
    }
    CHECK(check_listen_address(*parse_endpoint("0.0.0.0:1234"), false).error().message() ==
          "--gdb 0.0.0.0:1234: not a loopback address, and whoever can reach it could read and "
          "write guest memory and run code in the guest; pass --allow-remote to listen there "
          "anyway");

    const char* remote[] = {"hvgdb", "--gdb", "0.0.0.0:0", "img"};
    auto refused = parse_command_line(4, remote);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == hvgdb::ErrorKind::invalid);
    CHECK(refused.error().message().find("--allow-remote") != std::string::npos);
    CHECK(refused.error().message().find('\n') == std::string::npos);
    const char* allowed[] = {"hvgdb", "--gdb", "0.0.0.0:0", "--allow-remote", "img"};
    auto o = parse_command_line(5, allowed);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->allow_remote);
    CHECK((*o)->gdb.host == "0.0.0.0");
    const char* plain[] = {"hvgdb", "img"};
    CHECK_FALSE((*parse_command_line(2, plain))->allow_remote);
    const char* unix_socket[] = {"hvgdb", "--gdb", "unix:/run/x.sock", "img"};
    o = parse_command_line(4, unix_socket);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->gdb.unix_path == "/run/x.sock");
    const char* name[] = {"hvgdb", "--gdb", "myhost:1234", "--allow-remote", "img"};
    CHECK(parse_command_line(5, name).error().kind == hvgdb::ErrorKind::invalid);
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

TEST_CASE("--on-detach: the guest runs on (default) or stays stopped") {
    using hvgdb::gdbstub::AfterDetach;
    CHECK(*parse_after_detach("run") == AfterDetach::run);
    CHECK(*parse_after_detach("stop") == AfterDetach::stop);
    for (auto bad : {"", "Run", "stopped", "continue", "stop "})
        CHECK_MESSAGE(!parse_after_detach(bad), bad);
    CHECK(parse_after_detach("halt").error().message() == "--on-detach 'halt' is not run or stop");

    const char* plain[] = {"hvgdb", "img"};
    auto o = parse_command_line(2, plain);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->on_detach == AfterDetach::run);
    const char* stop[] = {"hvgdb", "--on-detach", "stop", "img"};
    o = parse_command_line(4, stop);
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->on_detach == AfterDetach::stop);
    const char* bad[] = {"hvgdb", "--on-detach", "pause", "img"};
    CHECK(parse_command_line(4, bad).error().kind == hvgdb::ErrorKind::invalid);
}
