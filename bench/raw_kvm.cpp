// bench_raw_kvm: runs a guest image on KVM with none of hvgdb's debugger layer, the baseline
// of the bench's "guest loop" row.  hvgdb's loader puts the image in RAM and gives the state
// hvgdb starts it in; one vCPU on this thread (vcpu/'s Vm and Vcpu: the KVM ioctls and
// nothing else) runs it, and a plain loop serves the PC's ports until the exit port.  No
// Machine, no vCPU thread or messages, no debug controls, no gdb server.
//
//   bench_raw_kvm [--memory MiB] [--cmdline TEXT] IMAGE
//
// The guest's console goes to stdout; on stderr: "tsc_hz N", the host TSC's rate over the
// run, for turning the guest's RDTSC counts into time.  Exits with the guest's exit code.
// Depends on loader/, vcpu/ (Vm, Vcpu, the port bus) and app/initial_state.
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <variant>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "app/initial_state.hpp"
#include "loader/image_file.hpp"
#include "vcpu/devices.hpp"
#include "vcpu/vm.hpp"

namespace {

using namespace hvgdb;

struct Options {
    std::string image;
    std::string cmdline;
    std::uint64_t memory_mib = 256;
};

// Guest RAM as Machine::create makes it: anonymous memory, reserved lazily.
struct Ram {
    std::span<std::uint8_t> bytes;
    explicit Ram(std::uint64_t size) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) bytes = {static_cast<std::uint8_t*>(p), size};
    }
    ~Ram() {
        if (!bytes.empty()) ::munmap(bytes.data(), bytes.size());
    }
};

// Loads the image, runs it to the exit port; returns the guest's exit code.
Result<int> run(const Options& options) {
    auto image = loader::read_image_file(options.image);
    if (!image) return std::unexpected(image.error());
    Ram ram(options.memory_mib << 20);
    if (ram.bytes.empty()) return errno_error("mmap guest RAM");
    app::RamMemory memory(ram.bytes);
    loader::LoadOptions load;
    if (!options.cmdline.empty()) load.cmdline = options.image + " " + options.cmdline;
    auto loaded = loader::load(*image, memory, load);
    if (!loaded) return std::unexpected(loaded.error());

    auto vm = vcpu::Vm::create();
    if (!vm) return std::unexpected(vm.error());
    if (auto r = (*vm)->map(ram.bytes, 0, vcpu::MemoryPermissions::read_write_execute); !r)
        return std::unexpected(r.error());
    auto created = vcpu::Vcpu::create(**vm, 0);
    if (!created) return std::unexpected(created.error());
    vcpu::Vcpu& cpu = **created;
    // System registers first: KVM checks RIP and RFLAGS against the mode they set.
    const vcpu::VcpuSnapshot start = app::initial_snapshot(loaded->cpu);
    if (auto r = cpu.set_system_registers(start.sregs); !r) return std::unexpected(r.error());
    if (auto r = cpu.set_registers(start.regs); !r) return std::unexpected(r.error());

    auto ports = vcpu::make_pc_port_bus([](std::string_view s) {
        std::fwrite(s.data(), 1, s.size(), stdout);
        std::fflush(stdout);
    });
    const auto wall_start = std::chrono::steady_clock::now();
    const std::uint64_t tsc_start = __rdtsc();
    for (;;) {
        auto exit = cpu.run();
        if (!exit) return std::unexpected(exit.error());
        if (auto* out = std::get_if<vcpu::IoOut>(&*exit)) {
            auto effect = ports->write_string(out->port, out->size, out->data);
            if (!effect.exit_code) continue;
            const std::chrono::duration<double> wall =
                std::chrono::steady_clock::now() - wall_start;
            fmt::print(stderr, "tsc_hz {:.0f}\n",
                       static_cast<double>(__rdtsc() - tsc_start) / wall.count());
            return *effect.exit_code;
        }
        if (auto* in = std::get_if<vcpu::IoIn>(&*exit)) {
            ports->read_string(in->port, in->size, in->data);
            continue;
        }
        if (std::holds_alternative<vcpu::Kicked>(*exit)) continue;
        return make_error(ErrorKind::fatal,
                          fmt::format("the guest stopped with exit reason #{} before the exit port",
                                      exit->index()));
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App cli{"Runs a guest image on KVM without hvgdb's debugger layer"};
    cli.add_option("--memory", options.memory_mib, "guest RAM in MiB")->capture_default_str();
    cli.add_option("--cmdline", options.cmdline, "Multiboot command line");
    cli.add_option("IMAGE", options.image, "the guest image")->required();
    CLI11_PARSE(cli, argc, argv);
    auto code = run(options);
    if (!code) {
        fmt::print(stderr, "bench_raw_kvm: {}\n", code.error().message());
        return 2;
    }
    return *code;
}
