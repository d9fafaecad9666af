// A 4-level page walk over fake RAM, to check the loader's identity map the way the CPU reads
// it (Intel SDM vol. 3A 4.5: PML4 -> PDPT -> PD with PS = 1 for 2 MiB pages).
#pragma once

#include <cstdint>
#include <optional>

namespace hvgdb::loader::test {

template <typename Memory>
std::optional<std::uint64_t> walk(Memory& memory, std::uint64_t cr3, std::uint64_t va) {
    constexpr std::uint64_t kAddress = 0x000ffffffffff000;
    const std::uint64_t pml4e = memory.u64((cr3 & kAddress) + ((va >> 39) & 511) * 8);
    if (!(pml4e & 1)) return std::nullopt;
    const std::uint64_t pdpte = memory.u64((pml4e & kAddress) + ((va >> 30) & 511) * 8);
    if (!(pdpte & 1) || (pdpte & 0x80)) return std::nullopt;
    const std::uint64_t pde = memory.u64((pdpte & kAddress) + ((va >> 21) & 511) * 8);
    if (!(pde & 1) || !(pde & 0x80)) return std::nullopt;
    return (pde & 0x000fffffffe00000) + (va & 0x1fffff);
}

}  // namespace hvgdb::loader::test
