// The memory slots a mapping needs with some of its pages protected (pure; no KVM needed).
#include <doctest/doctest.h>

#include <vector>

#include "vcpu/kvm/memory_slots.hpp"

using namespace hvgdb::vcpu;
using kvm::MemorySlot;

namespace {
constexpr std::uint64_t page = kvm::slot_page_size;
constexpr auto rwx = MemoryPermissions::read_write_execute;
constexpr auto rx = MemoryPermissions::read_execute;
constexpr auto none = MemoryPermissions::none;
}  // namespace

TEST_CASE("a mapping without protected pages is one slot") {
    std::vector<std::uint8_t> host(16 * page);
    MemoryRegion ram{0x100000, host, rwx};
    kvm::PagePermissions pages{{0x0, none}, {0x200000, rx}};  // outside the mapping
    CHECK(kvm::slots_for(ram, pages) ==
          std::vector<MemorySlot>{{0x100000, 16 * page, host.data(), false}});
    MemoryRegion rom{0xf0000, std::span(host).first(4 * page), rx};
    CHECK(kvm::slots_for(rom, {}) ==
          std::vector<MemorySlot>{{0xf0000, 4 * page, host.data(), true}});
}

TEST_CASE("protected pages split the slot; adjacent ones with the same permissions join") {
    std::vector<std::uint8_t> host(16 * page);
    std::uint8_t* h = host.data();
    MemoryRegion ram{0, host, rwx};
    kvm::PagePermissions pages{
        {2 * page, rx}, {3 * page, rx}, {4 * page, none}, {5 * page, none}, {8 * page, rx}};
    CHECK(kvm::slots_for(ram, pages) == std::vector<MemorySlot>{
                                            {0, 2 * page, h, false},
                                            {2 * page, 2 * page, h + 2 * page, true},
                                            // pages 4 and 5: no slot
                                            {6 * page, 2 * page, h + 6 * page, false},
                                            {8 * page, page, h + 8 * page, true},
                                            {9 * page, 7 * page, h + 9 * page, false},
                                        });
}

TEST_CASE("protected pages at the edges and over the whole mapping") {
    std::vector<std::uint8_t> host(4 * page);
    std::uint8_t* h = host.data();
    MemoryRegion ram{0x10000, host, rwx};
    CHECK(kvm::slots_for(ram, {{0x10000, none}, {0x13000, rx}}) ==
          std::vector<MemorySlot>{{0x11000, 2 * page, h + page, false},
                                  {0x13000, page, h + 3 * page, true}});
    kvm::PagePermissions all;
    for (std::uint64_t p = 0x10000; p < 0x14000; p += page) all[p] = none;
    CHECK(kvm::slots_for(ram, all).empty());
    // Pages set to the mapping's own permissions change nothing.
    CHECK(kvm::slots_for(ram, {{0x11000, rwx}}) ==
          std::vector<MemorySlot>{{0x10000, 4 * page, h, false}});
    // A ROM made writable for a page (hv_vm_protect allows it) and one with no access.
    MemoryRegion rom{0, host, rx};
    CHECK(kvm::slots_for(rom, {{page, rwx}, {2 * page, none}}) ==
          std::vector<MemorySlot>{{0, page, h, true},
                                  {page, page, h + page, false},
                                  {3 * page, page, h + 3 * page, true}});
}
