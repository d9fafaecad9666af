// The KVM memory slots that mapped memory needs once Vm::protect has given some of its pages
// other permissions than their mapping's: each mapping is cut into runs of pages with the same
// permissions, and adjacent pages with the same permissions share a run.  A run the guest may
// write is a plain slot, a read-only run a KVM_MEM_READONLY slot over the same host memory, and
// a run with no access has no slot at all (KVM API 4.35).  Pure: depends on std, vm.hpp and
// physical_memory.hpp (a mapping is a MemoryRegion: host memory, where, and the guest's
// permissions).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "vcpu/physical_memory.hpp"
#include "vcpu/vm.hpp"

namespace hvgdb::vcpu::kvm {

constexpr std::uint64_t slot_page_size = 4096;  // a memory slot's granularity on x86

// One memory slot as KVM_SET_USER_MEMORY_REGION takes it.
struct MemorySlot {
    std::uint64_t gpa = 0;
    std::uint64_t size = 0;
    std::uint8_t* host = nullptr;
    bool readonly = false;
    bool operator==(const MemorySlot&) const = default;
};

// Guest-physical page address -> its permissions, for pages protect() changed.
using PagePermissions = std::map<std::uint64_t, MemoryPermissions>;

// The slots of `mapping`, in address order, with the permissions of `pages` over it.
std::vector<MemorySlot> slots_for(const MemoryRegion& mapping, const PagePermissions& pages);

}  // namespace hvgdb::vcpu::kvm
