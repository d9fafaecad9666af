// KVM's side of Vm: the /dev/kvm and VM file descriptors and the memory slots.
#pragma once

#include <cstdint>
#include <vector>

#include "vcpu/kvm/kvm_sys.hpp"
#include "vcpu/vm.hpp"

namespace hvgdb::vcpu {

struct Vm::Impl {
    kvm::Fd kvm;
    kvm::Fd vm;
    int run_mmap_size = 0;
    HostCapabilities caps;
    bool readonly_memory = false;  // KVM_CAP_READONLY_MEM: slots the guest cannot write
    struct Slot {
        std::uint32_t id;
        std::uint64_t gpa, size;
    };
    std::vector<Slot> slots;
    std::uint32_t next_slot = 0;
};

}  // namespace hvgdb::vcpu
