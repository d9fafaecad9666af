// Command-line parsing with CLI11; the value parsers are plain functions so they can be
// tested on their own.
#include "app/options.hpp"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <charconv>
#include <iostream>

#include <fmt/format.h>

#include "common/host_port.hpp"
#include "gdbstub/arch/x86.hpp"

namespace hvgdb::app {

namespace {
std::unexpected<Error> invalid(std::string text) {
    return make_error(ErrorKind::invalid, std::move(text));
}

constexpr std::uint64_t kib = 1024, mib = kib * 1024, gib = mib * 1024;
}  // namespace

Result<std::uint64_t> parse_address(std::string_view text) {
    int base = 10;
    std::string_view digits = text;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        base = 16;
        digits.remove_prefix(2);
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
        return invalid(fmt::format("'{}' is not a number (decimal or 0x hex, 64-bit)", text));
    return value;
}

Result<std::uint64_t> parse_memory_size(std::string_view text) {
    std::uint64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    std::string_view unit(end, text.data() + text.size() - end);
    if (end == text.data() || ec != std::errc())
        return invalid(fmt::format("memory size '{}' is not a number with K, M or G", text));
    std::uint64_t scale = 1;
    if (unit == "K" || unit == "KiB" || unit == "k")
        scale = kib;
    else if (unit == "M" || unit == "MiB" || unit == "m")
        scale = mib;
    else if (unit == "G" || unit == "GiB" || unit == "g")
        scale = gib;
    else if (!unit.empty())
        return invalid(
            fmt::format("memory size '{}': unknown unit '{}' (use K, M or G)", text, unit));
    if (number > (64 * gib) / scale)
        return invalid(fmt::format("memory size '{}' is over the 64G limit", text));
    std::uint64_t bytes = number * scale;
    if (bytes < mib) return invalid(fmt::format("memory size '{}' is under 1M", text));
    if (bytes % (4 * kib) != 0)
        return invalid(fmt::format("memory size '{}' is not a multiple of 4K", text));
    return bytes;
}

Result<unsigned> parse_cpus(std::string_view text) {
    // xAPIC IDs are 8 bits and 0xff addresses every APIC: IDs 0 to 254.
    constexpr unsigned max_cpus = 255;
    unsigned n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size())
        return invalid(
            fmt::format("--cpus '{}' is not a number of vCPUs (1 to {})", text, max_cpus));
    if (n == 0) return invalid("--cpus 0: a machine needs at least one vCPU");
    if (ec == std::errc::result_out_of_range || n > max_cpus)
        return invalid(
            fmt::format("--cpus {}: at most {} vCPUs (8-bit xAPIC IDs)", text, max_cpus));
    return n;
}

Result<Endpoint> parse_endpoint(std::string_view text) {
    // The address and the path go to C functions (from argv a NUL cannot come anyway).
    if (text.find('\0') != std::string_view::npos)
        return invalid("--gdb: the value holds a NUL character");
    if (text.starts_with("unix:")) {
        if (text.size() == 5) return invalid("--gdb unix: needs a socket path, as in unix:PATH");
        return Endpoint{{}, 0, std::string(text.substr(5))};
    }
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return invalid(fmt::format("'{}' is not ADDRESS:PORT or unix:PATH", text));
    std::string host(text.substr(0, colon));
    std::string_view port_text = text.substr(colon + 1);
    bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed)
        host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string::npos)
        return invalid(fmt::format("'{}': write an IPv6 address as [ADDRESS]:PORT", text));
    if (host.empty()) host = "127.0.0.1";
    if (host == "localhost") host = "127.0.0.1";
    std::array<unsigned char, 16> address{};
    if (inet_pton(bracketed ? AF_INET6 : AF_INET, host.c_str(), address.data()) != 1)
        return invalid(
            fmt::format("'{}': '{}' is not an IP{} address (--gdb takes an address, "
                        "localhost, or unix:PATH)",
                        text, host, bracketed ? "v6" : "v4"));
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port > 65535)
        return invalid(fmt::format("'{}': the port must be a number from 0 to 65535", text));
    return Endpoint{host, static_cast<std::uint16_t>(port), {}};
}

std::string endpoint_name(const Endpoint& e) {
    if (!e.unix_path.empty()) return "unix:" + e.unix_path;
    return host_port(e.host, e.port);
}

bool is_loopback(const Endpoint& e) {
    if (!e.unix_path.empty()) return true;
    std::array<unsigned char, 16> a{};
    if (inet_pton(AF_INET, e.host.c_str(), a.data()) == 1) return a[0] == 127;
    if (inet_pton(AF_INET6, e.host.c_str(), a.data()) != 1) return false;
    constexpr std::array<unsigned char, 12> v4_mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(v4_mapped.begin(), v4_mapped.end(), a.begin())) return a[12] == 127;
    constexpr std::array<unsigned char, 16> v6_loopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                        0, 0, 0, 0, 0, 0, 0, 1};
    return a == v6_loopback;
}

Result<void> check_listen_address(const Endpoint& e, bool allow_remote) {
    if (allow_remote || is_loopback(e)) return {};
    return invalid(fmt::format(
        "--gdb {}: not a loopback address, and whoever can reach it could read and write guest "
        "memory and run code in the guest; pass --allow-remote to listen there anyway",
        endpoint_name(e)));
}

Result<ModuleSpec> parse_module(std::string_view text) {
    std::string_view path = text.substr(0, text.find(' '));
    if (path.empty()) return invalid(fmt::format("module '{}' names no file", text));
    return ModuleSpec{std::string(path), std::string(text)};
}

Result<SerialSpec> parse_serial(std::string_view text) {
    if (text == "stdio") return SerialSpec{SerialKind::stdio, {}};
    if (text == "none") return SerialSpec{SerialKind::none, {}};
    if (text.starts_with("file:") && text.size() > 5)
        return SerialSpec{SerialKind::file, std::string(text.substr(5))};
    return invalid(fmt::format("serial '{}' is not stdio, none or file:PATH", text));
}

std::string serial_name(const SerialSpec& spec) {
    switch (spec.kind) {
        case SerialKind::stdio:
            return "hvgdb's standard output";
        case SerialKind::file:
            return "file " + spec.path;
        case SerialKind::none:
            break;
    }
    return "nowhere (--serial none)";
}

Result<MemoryMapMode> parse_memory_map_mode(std::string_view text) {
    if (text == "paged") return MemoryMapMode::paged;
    if (text == "physical") return MemoryMapMode::physical;
    if (text == "off") return MemoryMapMode::off;
    return invalid(fmt::format("memory map '{}' is not paged, physical or off", text));
}

Result<gdbstub::AfterDetach> parse_after_detach(std::string_view text) {
    if (text == "run") return gdbstub::AfterDetach::run;
    if (text == "stop") return gdbstub::AfterDetach::stop;
    return invalid(fmt::format("--on-detach '{}' is not run or stop", text));
}

Result<const gdbstub::arch::Arch*> parse_view(std::string_view text) {
    if (text == "auto") return nullptr;
    for (const gdbstub::arch::Arch* arch : gdbstub::arch::x86_views())
        if (arch->name == text) return arch;
    return invalid(fmt::format("arch '{}' is not auto, x86-64, i386 or i8086", text));
}

Result<std::optional<Options>> parse_command_line(int argc, const char* const* argv) {
    CLI::App cli{"hvgdb: run a bare-metal x86 image on KVM and debug it with gdb or lldb"};
    cli.set_version_flag("--version", "hvgdb 0.1.0");
    Options o;
    std::string gdb = "127.0.0.1:1234", memory = "128M", format = "auto", mode, serial = "stdio";
    std::string cpus = "1";
    std::string view = "auto";
    std::string memory_map = "paged";
    std::string on_detach = "run";
    std::string load_addr, entry;
    std::vector<std::string> modules;
    cli.add_option("IMAGE", o.image,
                   "ELF32/ELF64 file, boot sector (ends 55AA), raw binary (with --load-addr) or "
                   "firmware ROM (with --format firmware)")
        ->required();
    cli.add_option("--gdb", gdb,
                   "where to listen for the debugger: ADDRESS:PORT (port 0: any free one) or "
                   "unix:PATH (a unix socket, mode 0600); an address other than loopback "
                   "needs --allow-remote")
        ->capture_default_str();
    cli.add_flag("--allow-remote", o.allow_remote,
                 "let --gdb listen on an address other than loopback: anyone who can reach it "
                 "can read and write guest memory and run code in the guest");
    cli.add_option("--memory", memory, "guest RAM size (K, M or G)")->capture_default_str();
    cli.add_option("--cpus", cpus,
                   "vCPUs, 1 to 255: vCPU 0 boots, the others wait for INIT and SIPI from the "
                   "guest through its xAPIC")
        ->capture_default_str();
    cli.add_option("--format", format,
                   "image format: auto, elf, multiboot, bootsector, raw or firmware")
        ->capture_default_str();
    cli.add_option("--load-addr", load_addr, "raw images: guest-physical load address");
    cli.add_option("--entry", entry, "first instruction's address (overrides the image's)");
    cli.add_option("--mode", mode, "raw images: CPU mode real, protected or long");
    cli.add_option("--cmdline", o.load.cmdline,
                   "Multiboot kernels: the command line (the image's name comes first)");
    cli.add_option("--module", modules,
                   "Multiboot kernels: a module, \"PATH[ ARGS]\" (repeat for more, in order)")
        ->take_all();
    cli.add_option("--serial", serial, "guest console: stdio, none or file:PATH")
        ->capture_default_str();
    cli.add_option("--arch", view,
                   "gdb's register view: auto (the CPU mode at each attach), x86-64, i386 or i8086")
        ->capture_default_str();
    cli.add_flag("--no-wait", o.no_wait,
                 "run at once instead of stopping at the first instruction");
    cli.add_flag("--log-packets", o.log_packets, "log every RSP packet to stderr");
    cli.add_option("--on-detach", on_detach,
                   "when the debugger detaches or its connection drops, the guest runs on "
                   "(run) or stays stopped where it is for the next debugger (stop); "
                   "breakpoints and watchpoints are removed either way")
        ->capture_default_str();
    cli.add_option("--memory-map", memory_map,
                   "the memory map gdb gets: paged (RAM up to the top of the address space, "
                   "ROM read-only: right for linear addresses once the guest pages), physical "
                   "(RAM and ROM as they are, holes left out: gdb refuses them) or off")
        ->capture_default_str();
    cli.add_flag("--console-to-debugger", o.console_to_debugger,
                 "also show the guest's console output in the debugger while it waits for the "
                 "guest to stop (all-stop mode); 'monitor console forward on|off' switches it");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << cli.help();
        return std::optional<Options>{};
    } catch (const CLI::CallForVersion&) {
        std::cout << cli.version() << "\n";
        return std::optional<Options>{};
    } catch (const CLI::ParseError& e) {
        return invalid(e.what());
    }

    auto endpoint = parse_endpoint(gdb);
    if (!endpoint) return std::unexpected(endpoint.error());
    if (auto allowed = check_listen_address(*endpoint, o.allow_remote); !allowed)
        return std::unexpected(allowed.error());
    o.gdb = *endpoint;
    auto bytes = parse_memory_size(memory);
    if (!bytes) return std::unexpected(bytes.error());
    o.memory_bytes = *bytes;
    auto vcpus = parse_cpus(cpus);
    if (!vcpus) return std::unexpected(vcpus.error());
    o.cpus = *vcpus;
    auto fmt_value = loader::parse_format(format);
    if (!fmt_value) return std::unexpected(fmt_value.error());
    o.load.format = *fmt_value;
    if (!mode.empty()) {
        auto m = loader::parse_mode(mode);
        if (!m) return std::unexpected(m.error());
        o.load.mode = *m;
    }
    if (!load_addr.empty()) {
        auto a = parse_address(load_addr);
        if (!a) return std::unexpected(a.error());
        o.load.load_addr = *a;
    }
    if (!entry.empty()) {
        auto a = parse_address(entry);
        if (!a) return std::unexpected(a.error());
        o.load.entry = *a;
    }
    for (const auto& m : modules) {
        auto spec = parse_module(m);
        if (!spec) return std::unexpected(spec.error());
        o.modules.push_back(*spec);
    }
    auto v = parse_view(view);
    if (!v) return std::unexpected(v.error());
    o.view = *v;
    auto map = parse_memory_map_mode(memory_map);
    if (!map) return std::unexpected(map.error());
    o.memory_map = *map;
    auto after = parse_after_detach(on_detach);
    if (!after) return std::unexpected(after.error());
    o.on_detach = *after;
    auto s = parse_serial(serial);
    if (!s) return std::unexpected(s.error());
    o.serial = *s;
    return std::optional<Options>{std::move(o)};
}

}  // namespace hvgdb::app
