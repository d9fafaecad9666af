// hvgdb: options -> probe the host -> machine with the image loaded -> gdb server.
// Exceptions stop here; everything below returns errors as values.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "app/console_router.hpp"
#include "app/initial_state.hpp"
#include "app/machine_target.hpp"
#include "app/options.hpp"
#include "gdbstub/arch/x86.hpp"
#include "gdbstub/server/server.hpp"
#include "loader/image_file.hpp"
#include "vcpu/machine.hpp"
#include "vcpu/probe.hpp"

namespace {

using namespace hvgdb;

constexpr int exit_bad_input = 2;
constexpr int exit_host_failure = 1;

void say(const std::string& line) {
    fmt::print(stderr, "hvgdb: {}\n", line);
}

// Writes everything: retries partial writes and the EINTR that a vCPU kick can cause.
// Errors (a closed pipe) drop the output; the guest goes on.
void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

// The guest console: stdout, a file, or nowhere.  Written unbuffered, so output interleaves
// with the debugger's view of the guest in real time.  A file is opened here, so that a bad
// path fails early, but emptied only by start(), once hvgdb listens: a start that fails (the
// port taken, another hvgdb on the socket) leaves the file as it was.
struct Console {
    vcpu::ConsoleSink sink;
    std::shared_ptr<int> file;  // the --serial file's descriptor

    Result<void> start(const app::SerialSpec& spec) const {
        if (file && ::ftruncate(*file, 0) != 0) return errno_error("serial file " + spec.path);
        return {};
    }
};

Result<Console> make_console(const app::SerialSpec& spec) {
    switch (spec.kind) {
        case app::SerialKind::none:
            return Console{};
        case app::SerialKind::stdio:
            return Console{[](std::string_view s) { write_all(STDOUT_FILENO, s); }, nullptr};
        case app::SerialKind::file: {
            int fd = ::open(spec.path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0) {
                auto e = errno_error("serial file " + spec.path);
                e.error().kind = ErrorKind::invalid;
                return e;
            }
            auto owner = std::shared_ptr<int>(new int(fd), [](int* p) {
                ::close(*p);
                delete p;
            });
            return Console{[owner](std::string_view s) { write_all(*owner, s); }, owner};
        }
    }
    return Console{};
}

std::string_view mode_name(loader::CpuMode m) {
    switch (m) {
        case loader::CpuMode::real:
            return "real mode";
        case loader::CpuMode::protected32:
            return "32-bit protected mode";
        case loader::CpuMode::long64:
            return "64-bit long mode";
    }
    return "?";
}

int fail(const Error& e) {
    say(e.message());
    return e.kind == ErrorKind::invalid ? exit_bad_input : exit_host_failure;
}

// A loader error names the image: "image file 'k.elf': ELF segment 1 at ...".
int fail_image(const std::string& path, Error e) {
    e.context = fmt::format("image file '{}': {}", path, e.context);
    return fail(e);
}

// hvgdb.py, the gdb extension that follows CPU mode changes: next to the executable (the
// build puts it there) or in ../share/hvgdb/ (an install).  Empty when neither has it.
std::string gdb_extension_path() {
    std::error_code ec;
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    for (const auto& candidate : {exe.parent_path() / "hvgdb.py",
                                  exe.parent_path().parent_path() / "share/hvgdb/hvgdb.py"}) {
        if (std::filesystem::exists(candidate, ec)) return candidate.string();
    }
    return {};
}

int run(const app::Options& options) {
    auto image = loader::read_image_file(
        options.image, loader::image_size_limit(options.load, options.memory_bytes));
    if (!image) return fail(image.error());
    loader::LoadOptions load = options.load;
    load.cpus = options.cpus;
    // Multiboot convention: the command line starts with the kernel's own name.
    if (!load.cmdline.empty()) load.cmdline = options.image + " " + load.cmdline;
    for (const auto& m : options.modules) {
        auto bytes = loader::read_image_file(
            m.path, loader::module_size_limit(options.memory_bytes), loader::FileRole::module);
        if (!bytes) return fail(bytes.error());
        load.modules.push_back({m.name_and_args, std::move(*bytes)});
    }
    // A bad image stops here, before hvgdb opens KVM, the serial file or a socket.
    if (auto checked = loader::check_image(*image, options.memory_bytes, load); !checked)
        return fail_image(options.image, checked.error());
    auto serial = make_console(options.serial);
    if (!serial) return fail(serial.error());
    auto console = std::make_shared<app::ConsoleRouter>(
        serial->sink, app::serial_name(options.serial), options.console_to_debugger);

    // Listening first, so that hvgdb listens within milliseconds of its start; the host
    // probe and the machine take longer, and a debugger that connects meanwhile waits.  Before
    // the vCPU threads and the serial file's truncation: a refused listen leaves no trace.
    gdbstub::ServerOptions so;
    so.host = options.gdb.host;
    so.port = options.gdb.port;
    so.unix_path = options.gdb.unix_path;
    so.log_packets = options.log_packets;
    so.target_running = options.no_wait;
    so.after_detach = options.on_detach;
    so.log = say;
    auto listener = gdbstub::Listener::open(so);
    if (!listener) return fail(listener.error());
    // The listener holds SIGINT, SIGTERM and SIGHUP from here on (and says so): one that
    // comes during the start-up ends it after the step it came in, with 128+signal (a step
    // that failed because of it, an interrupted probe say, included).

    auto probe = vcpu::probe_host();
    if (auto s = listener->signal()) return 128 + *s;
    if (!probe) {
        say("cannot use KVM: " + probe.error().message());
        return exit_host_failure;
    }
    vcpu::MachineConfig config;
    config.ram_bytes = options.memory_bytes;
    config.cpus = options.cpus;
    config.log = say;
    config.console = [console](std::string_view text) { console->write(text); };
    config.mechanism = probe->mechanism;
    config.data_breakpoints = probe->data_breakpoints;
    auto machine = vcpu::Machine::create(config);
    if (auto s = listener->signal()) return 128 + *s;
    if (!machine) return fail(machine.error());

    load.processor_signature = (*machine)->capabilities().processor_signature;
    auto loaded = app::load_into_ram(**machine, *image, load);
    if (!loaded) return fail_image(options.image, loaded.error());
    if (loaded->rom)
        if (auto r = app::add_rom(**machine, *loaded->rom); !r) return fail(r.error());
    if (auto s = listener->signal()) return 128 + *s;
    (*machine)->set_initial_state(0, app::initial_snapshot(loaded->cpu));
    // vCPUs 1.. wait for SIPI in the INIT state, built like a firmware image's reset state.
    (*machine)->set_init_state(app::init_snapshot((*machine)->capabilities().processor_signature));

    // Each debugger starts with the register view of the mode the vCPU is in, unless --arch
    // names one.
    auto target = app::MachineTarget::create(**machine, options.view, say);
    if (!target) return fail(target.error());
    (*target)->set_memory_map_mode(options.memory_map);
    (*target)->set_console(console);  // before the server, which takes the forwarded text
    // `monitor reset` loads the image as above again (the machine restores ROMs itself).
    (*target)->set_reload([&machine = **machine, &image = *image, &load]() -> Result<void> {
        auto again = app::load_into_ram(machine, image, load);
        if (!again) return std::unexpected(again.error());
        return {};
    });

    gdbstub::Server server(**target, so, std::move(*listener));
    auto bound = server.listen();
    if (!bound) return fail(bound.error());
    if (auto r = serial->start(options.serial); !r) return fail(r.error());
    if (auto r = (*machine)->start(); !r) return fail(r.error());

    say(fmt::format("image {}: {}; starts in {}", options.image, loaded->description,
                    mode_name(loaded->cpu.mode)));
    const std::string cpus =
        options.cpus == 1 ? "" : fmt::format(", {} vCPUs (APs wait for SIPI)", options.cpus);
    say(fmt::format("{} MiB RAM{}, {}; {}", options.memory_bytes >> 20, cpus,
                    (*machine)->capabilities().name, probe->note));
    // gdb 13 takes a unix socket's path for `target remote`; lldb a unix-connect:// URL.
    std::string attach_to = *bound;
    if (!options.gdb.unix_path.empty()) {
        std::error_code ec;
        auto absolute = std::filesystem::absolute(*bound, ec);
        if (!ec) attach_to = absolute.string();
        say(fmt::format("listening on unix:{} (mode 0600: only this user can connect)", attach_to));
    } else {
        say("listening on " + *bound);
    }
    if (!app::is_loopback(options.gdb))
        say(
            fmt::format("warning: listening on {}, not loopback (--allow-remote): anyone who "
                        "can reach it can read and write guest memory and run code in the "
                        "guest; the protocol has no authentication",
                        *bound));
    // gdb takes symbols from ELF files (plain or Multiboot).
    std::string symbols = loader::has_elf_magic(*image) ? options.image + " " : "";
    std::string extension = gdb_extension_path();
    if (!extension.empty()) extension = "-x " + extension + " ";
    say(fmt::format("attach with: gdb {}{}-ex 'target remote {}'", extension, symbols, attach_to));
    if (!options.gdb.unix_path.empty())
        say(fmt::format("or with: lldb {}-o 'process connect unix-connect://{}'", symbols,
                        attach_to));
    if (options.no_wait) {
        (*target)->resume(std::array{gdbstub::ThreadAction{}});
    } else {
        say("the guest is stopped at its first instruction, waiting for the debugger");
    }
    int status = server.run();
    (*machine)->shutdown();
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    // A closed console pipe or debugger socket is an error value, not the end of hvgdb.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        auto options = app::parse_command_line(argc, argv);
        if (!options) {
            say(options.error().message() + " (see hvgdb --help)");
            return exit_bad_input;
        }
        if (!*options) return 0;  // --help, --version
        return run(**options);
    } catch (const std::exception& e) {
        say(std::string("fatal: ") + e.what());
        return exit_host_failure;
    }
}
