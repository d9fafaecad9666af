// Loads a validated ELF image: PT_LOAD segments to physical addresses, BSS zeroed, CPU in long
// mode (ELF64) or flat protected mode (ELF32).  Depends on {fmt}.
#include <fmt/format.h>

#include "loader/elf.hpp"
#include "loader/errors.hpp"
#include "loader/x86_state.hpp"

namespace hvgdb::loader {
namespace {

std::string describe_elf(const ElfImage& elf, std::uint64_t entry, bool overridden) {
    std::string text = elf.is64 ? "ELF64 x86-64" : "ELF32 i386";
    if (elf.dynamic) text += " ET_DYN (not relocated)";
    text +=
        fmt::format(", {} PT_LOAD segment{}", elf.loads.size(), elf.loads.size() == 1 ? "" : "s");
    if (overridden)
        text += fmt::format(", entry {:#x} (given; ELF entry {:#x})", entry, elf.e_entry);
    else if (entry != elf.e_entry)
        text += fmt::format(", entry {:#x} -> physical {:#x}", elf.e_entry, entry);
    else
        text += fmt::format(", entry {:#x}", entry);
    return text;
}

}  // namespace

Result<LoadedImage> load_elf(std::span<const std::uint8_t> image, GuestMemory& memory,
                             const LoadOptions& options) {
    auto elf = parse_elf(image, memory.size());
    if (!elf) return std::unexpected(elf.error());

    if (!options.entry && !elf->entry)
        return invalid(
            "ELF entry {:#x} is not inside any PT_LOAD segment (virtual or physical "
            "range); give the entry address with --entry ADDR",
            elf->e_entry);
    const std::uint64_t entry = options.entry.value_or(elf->entry.value_or(0));

    LoadedImage loaded;
    loaded.format = Format::elf;
    for (const auto& s : elf->loads) loaded.loaded.push_back({s.paddr, s.memsz});

    const CpuMode mode = elf->is64 ? CpuMode::long64 : CpuMode::protected32;
    auto setup = set_up_mode(mode, entry, loaded.loaded, memory);
    if (!setup) return std::unexpected(setup.error());

    for (const auto& s : elf->loads) {
        // parse_elf checked offset + filesz against the image and paddr + memsz against RAM.
        if (auto ok = memory.write(s.paddr, image.subspan(s.offset, s.filesz)); !ok)
            return std::unexpected(ok.error());
        if (s.memsz > s.filesz)
            if (auto ok = memory.fill(s.paddr + s.filesz, 0, s.memsz - s.filesz); !ok)
                return std::unexpected(ok.error());
    }

    loaded.description = describe_elf(*elf, entry, options.entry.has_value());
    loaded.cpu = setup->cpu;
    loaded.entry = entry;
    loaded.setup = std::move(setup->regions);
    return loaded;
}

}  // namespace hvgdb::loader
