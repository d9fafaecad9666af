// The CPUID a vCPU reports to its guest.  Internal to vcpu/kvm; Linux only.
#pragma once

#include "common/error.hpp"

namespace hvgdb::vcpu::kvm {

// Gives vCPU `id` (file descriptor vcpu_fd) every CPUID leaf KVM supports on this host
// (KVM_GET_SUPPORTED_CPUID on kvm_fd), with the vCPU's own APIC id and without x2APIC (its
// APIC is the xAPIC page the Machine emulates).  Without it the guest's CPUID reports no
// features, and KVM refuses what depends on them, such as setting EFER.LME with WRMSR on the
// way into long mode.
Result<void> set_guest_cpuid(int kvm_fd, int vcpu_fd, unsigned id);

}  // namespace hvgdb::vcpu::kvm
