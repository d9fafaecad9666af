// Raw binaries: the bytes at a given address, started in a chosen CPU mode.
#include <fmt/format.h>

#include "loader/bytes.hpp"
#include "loader/errors.hpp"
#include "loader/formats.hpp"
#include "loader/x86_state.hpp"

namespace hvgdb::loader {

Result<LoadedImage> load_raw(std::span<const std::uint8_t> image, GuestMemory& memory,
                             const LoadOptions& options) {
    if (!options.load_addr)
        return invalid("a raw image of {} bytes needs a load address (--load-addr ADDR)",
                       image.size());
    const std::uint64_t addr = *options.load_addr;
    const std::uint64_t ram = memory.size();
    if (!fits_below(addr, image.size(), ram))
        return invalid("raw image of {} bytes at {:#x} ends beyond RAM ({})", image.size(), addr,
                       describe_size(ram));

    const CpuMode mode = options.mode.value_or(CpuMode::real);
    const std::uint64_t entry = options.entry.value_or(addr);
    LoadedImage loaded;
    loaded.format = Format::raw;
    loaded.loaded.push_back({addr, image.size()});

    auto setup = set_up_mode(mode, entry, loaded.loaded, memory);
    if (!setup) return std::unexpected(setup.error());
    if (auto ok = memory.write(addr, image); !ok) return std::unexpected(ok.error());

    loaded.cpu = setup->cpu;
    loaded.entry = loaded.cpu.cs.base + loaded.cpu.rip;
    loaded.setup = std::move(setup->regions);
    const CpuState& cpu = loaded.cpu;
    if (mode == CpuMode::real)
        loaded.description =
            fmt::format("raw, {} bytes at {:#x}, real mode {:04x}:{:04x}, stack {:04x}:{:04x}",
                        image.size(), addr, cpu.cs.selector, cpu.rip, cpu.ss.selector, cpu.rsp);
    else
        loaded.description = fmt::format("raw, {} bytes at {:#x}, {} mode, entry {:#x}",
                                         image.size(), addr, to_string(mode), entry);
    return loaded;
}

}  // namespace hvgdb::loader
