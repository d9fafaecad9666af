// ELF32/ELF64 x86 executables: a validating parser (pure; no guest memory) and the loader.
// Internal to loader/; facts from the System V ABI gABI (ELF header, program header) and its
// x86-64 / i386 supplements.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "loader/loader.hpp"

namespace hvgdb::loader {

struct ElfSegment {
    unsigned index;  // program header index, as `readelf -l` numbers it
    std::uint64_t offset, vaddr, paddr, filesz, memsz;
};

struct ElfImage {
    bool is64 = false;
    bool dynamic = false;  // ET_DYN: loaded at its addresses, not relocated
    std::uint64_t e_entry = 0;
    // e_entry as a physical address: translated through the PT_LOAD whose virtual range holds
    // it, else e_entry itself when a PT_LOAD's physical range holds it; nothing otherwise.
    std::optional<std::uint64_t> entry;
    std::vector<ElfSegment> loads;  // PT_LOAD with p_memsz > 0, in file order
};

// Validates the headers and every PT_LOAD: within the file, p_filesz <= p_memsz, no overflow,
// inside RAM of `ram_size` bytes (and 4 GiB for ELF32), no two segments overlapping.
Result<ElfImage> parse_elf(std::span<const std::uint8_t> image, std::uint64_t ram_size);

// Copies the PT_LOAD segments to their physical addresses, zeroes the BSS parts and sets up
// long mode (ELF64) or flat protected mode (ELF32).
Result<LoadedImage> load_elf(std::span<const std::uint8_t> image, GuestMemory& memory,
                             const LoadOptions& options);

}  // namespace hvgdb::loader
