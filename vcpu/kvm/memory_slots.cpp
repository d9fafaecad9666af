// Memory slots from runs of pages with the same permissions.
#include "vcpu/kvm/memory_slots.hpp"

namespace hvgdb::vcpu::kvm {

std::vector<MemorySlot> slots_for(const MemoryRegion& mapping, const PagePermissions& pages) {
    std::vector<MemorySlot> slots;
    const MemoryPermissions base = mapping.guest;
    // The run being built: [start, at), all with `permissions`.
    std::uint64_t start = mapping.gpa, at = mapping.gpa;
    MemoryPermissions permissions = base;
    auto flush = [&] {
        if (at > start && permissions != MemoryPermissions::none)
            slots.push_back({start, at - start, mapping.host.data() + (start - mapping.gpa),
                             permissions == MemoryPermissions::read_execute});
        start = at;
    };
    auto extend = [&](std::uint64_t to, MemoryPermissions p) {
        if (to == at) return;
        if (p != permissions) {
            flush();
            permissions = p;
        }
        at = to;
    };
    for (auto it = pages.lower_bound(mapping.gpa); it != pages.end() && it->first < mapping.end();
         ++it) {
        extend(it->first, base);  // the pages before it keep the mapping's permissions
        extend(it->first + slot_page_size, it->second);
    }
    extend(mapping.end(), base);
    flush();
    return slots;
}

}  // namespace hvgdb::vcpu::kvm
