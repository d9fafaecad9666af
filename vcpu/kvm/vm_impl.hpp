// KVM's side of Vm: the /dev/kvm and VM file descriptors and the memory slots.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "vcpu/kvm/kvm_sys.hpp"
#include "vcpu/kvm/memory_slots.hpp"
#include "vcpu/vm.hpp"

namespace hvgdb::vcpu {

struct Vm::Impl {
    kvm::Fd kvm;
    kvm::Fd vm;
    int run_mmap_size = 0;
    HostCapabilities caps;
    bool readonly_memory = false;  // KVM_CAP_READONLY_MEM: slots the guest cannot write
    // KVM_CAP_SYNC_REGS with the general registers: KVM_RUN leaves them in the run area, so
    // reading them after an exit takes no ioctl.
    bool sync_regs = false;

    // Guarded by mutex: map, unmap and protect may come from any thread.
    std::mutex mutex;
    std::vector<MemoryRegion> mappings;  // as map() placed them
    kvm::PagePermissions pages;          // pages protect() gave other permissions
    struct Slot {
        std::uint32_t id;
        kvm::MemorySlot shape;
    };
    std::vector<Slot> slots;              // what KVM has now
    std::vector<std::uint32_t> free_ids;  // slot ids given back, used again first
    std::uint32_t next_slot = 0;
    std::uint32_t max_slots = 32;  // KVM_CAP_NR_MEMSLOTS

    // Under mutex: replaces the slots inside [gpa, end) (which must not cut through a mapping)
    // by `wanted`; ErrorKind::target when KVM has too few slots for them.
    Result<void> replace_slots(std::uint64_t gpa, std::uint64_t end,
                               const std::vector<kvm::MemorySlot>& wanted);
    Result<void> set_slot(std::uint32_t id, const kvm::MemorySlot& shape);
};

}  // namespace hvgdb::vcpu
