// hvgdb's command line: the options as values, and the small parsers behind them.
// Depends on common/, loader/ (format and mode names) and gdbstub/arch (register views).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "gdbstub/arch/arch.hpp"
#include "gdbstub/target.hpp"
#include "loader/loader.hpp"

namespace hvgdb::app {

// --gdb: where hvgdb listens for the debugger.
struct Endpoint {
    std::string host;  // an IPv4 or IPv6 address (no brackets); unused for a unix socket
    std::uint16_t port = 0;
    std::string unix_path;  // when set: a unix-domain socket at this path, not TCP
};

enum class SerialKind { stdio, file, none };
struct SerialSpec {
    SerialKind kind = SerialKind::stdio;
    std::string path;  // SerialKind::file
};

// --memory-map: what the debugger is told about the address space (see memory_map.hpp).
enum class MemoryMapMode {
    // Debugger addresses are linear and the guest may turn paging on after gdb read the map:
    // everything paging can reach is ram, except the ROM (rom, where the firmware that runs
    // from it keeps it identity-mapped).  Only what no paging mode addresses is left out.
    paged,
    // The guest-physical layout as it is: RAM, ROM, and nothing for the holes between.
    physical,
    // No map at all.
    off,
};

// --module PATH[ ARGS]: a Multiboot module file and the string the kernel sees for it.
struct ModuleSpec {
    std::string path;
    std::string name_and_args;  // PATH[ ARGS] as given
};

struct Options {
    std::string image;
    std::vector<ModuleSpec> modules;  // read and put into load.modules by main
    Endpoint gdb{"127.0.0.1", 1234, {}};
    std::uint64_t memory_bytes = 128ull << 20;
    unsigned cpus = 1;  // --cpus: vCPU 0 boots, the others wait for INIT and SIPI
    loader::LoadOptions load;
    SerialSpec serial;
    const gdbstub::arch::Arch* view = nullptr;  // --arch; nullptr follows the CPU mode
    bool allow_remote = false;  // --allow-remote: --gdb may be an address other than loopback
    bool no_wait = false;
    bool log_packets = false;
    MemoryMapMode memory_map = MemoryMapMode::paged;
    bool console_to_debugger = false;  // each debugger starts with console forwarding on
    gdbstub::AfterDetach on_detach = gdbstub::AfterDetach::run;  // --on-detach
};

// "128M", "1G", "65536", "512K", "2GiB": bytes, a multiple of 4 KiB, 1 MiB to 64 GiB.
Result<std::uint64_t> parse_memory_size(std::string_view);
// "1" to "255" (decimal): how many vCPUs; the host may allow fewer (Machine::create says).
Result<unsigned> parse_cpus(std::string_view);
// "ADDRESS:PORT", "[IPv6]:PORT", "localhost:PORT", ":PORT" (loopback) or "unix:PATH".  The
// address is an IP address: host names other than localhost are refused, as whether they
// are loopback depends on a lookup.
Result<Endpoint> parse_endpoint(std::string_view);
// "127.0.0.1:1234", "[::1]:1234" or "unix:PATH", as --gdb takes it.
std::string endpoint_name(const Endpoint&);
// 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and unix sockets: only this host can connect.
bool is_loopback(const Endpoint&);
// Whether hvgdb may listen there: anywhere loopback; elsewhere only with --allow-remote, as
// whoever reaches the port can read and write guest memory and run code in the guest.
Result<void> check_listen_address(const Endpoint&, bool allow_remote);
// "PATH" or "PATH ARGS...": the file is the text up to the first space.
Result<ModuleSpec> parse_module(std::string_view);
// "stdio", "none" or "file:PATH".
Result<SerialSpec> parse_serial(std::string_view);
// Where a serial spec writes, in words: "hvgdb's standard output", "file PATH", "nowhere".
std::string serial_name(const SerialSpec&);
// "paged", "physical" or "off".
Result<MemoryMapMode> parse_memory_map_mode(std::string_view);
// "run" or "stop": what the guest does when the debugger detaches or disconnects.
Result<gdbstub::AfterDetach> parse_after_detach(std::string_view);
// "auto" (nullptr), "x86-64", "i386" or "i8086": the register view gdb gets.
Result<const gdbstub::arch::Arch*> parse_view(std::string_view);
// A number in decimal or 0x-prefixed hex, 64-bit.
Result<std::uint64_t> parse_address(std::string_view);

// Parses argv.  Help and version requests print and return nullopt with exit code 0 set in
// `exit_code`; errors return ErrorKind::invalid with one line of text.
Result<std::optional<Options>> parse_command_line(int argc, const char* const* argv);

}  // namespace hvgdb::app
