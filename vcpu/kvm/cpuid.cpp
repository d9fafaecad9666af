// KVM_GET_SUPPORTED_CPUID -> KVM_SET_CPUID2 (KVM API 4.46 and 4.73).
#include "vcpu/kvm/cpuid.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vcpu/kvm/kvm_sys.hpp"

namespace hvgdb::vcpu::kvm {

namespace {

// struct kvm_cpuid2 is a header of 8 bytes (nent, padding) and then its entries.  g++ sizes
// the header's flexible array differently from the kernel's C, so the buffer is laid out
// here and the request numbers are built from the ABI's header size.
constexpr std::size_t header_bytes = 8;
constexpr unsigned long kvm_get_supported_cpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8);
constexpr unsigned long kvm_set_cpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, 8);

constexpr std::uint32_t cpuid1_ecx_x2apic = 1u << 21;
constexpr std::uint32_t cpuid1_edx_apic = 1u << 9;

struct CpuidBuffer {
    explicit CpuidBuffer(std::uint32_t capacity)
        : bytes(header_bytes + capacity * sizeof(kvm_cpuid_entry2)) {
        *reinterpret_cast<std::uint32_t*>(bytes.data()) = capacity;
    }
    std::uint32_t count() const { return *reinterpret_cast<const std::uint32_t*>(bytes.data()); }
    kvm_cpuid_entry2* entries() {
        return reinterpret_cast<kvm_cpuid_entry2*>(bytes.data() + header_bytes);
    }
    void* data() { return bytes.data(); }
    std::vector<std::byte> bytes;
};

}  // namespace

Result<void> set_guest_cpuid(int kvm_fd, int vcpu_fd, unsigned id) {
    // KVM says E2BIG while the buffer is too small; hosts report a few dozen leaves.
    for (std::uint32_t capacity = 64; capacity <= 4096; capacity *= 2) {
        CpuidBuffer cpuid(capacity);
        auto got =
            kvm_ioctl(kvm_fd, kvm_get_supported_cpuid, cpuid.data(), "KVM_GET_SUPPORTED_CPUID");
        if (!got) {
            if (got.error().err_no == E2BIG) continue;
            return std::unexpected(got.error());
        }
        for (std::uint32_t i = 0; i < cpuid.count(); ++i) {
            kvm_cpuid_entry2& e = cpuid.entries()[i];
            // SDM vol. 2A, CPUID: leaf 1 EBX[31:24] is the initial APIC id; leaves 0xB and
            // 0x1F report the x2APIC id in EDX.
            if (e.function == 1) {
                e.ebx = (e.ebx & 0x00ffffffu) | (id << 24);
                // hvgdb's APIC is the xAPIC page (Machine, vcpu/x86/lapic.hpp): no x2APIC
                // (ECX bit 21), so guests do not switch to its MSRs; an APIC (EDX bit 9).
                e.ecx &= ~cpuid1_ecx_x2apic;
                e.edx |= cpuid1_edx_apic;
            }
            if (e.function == 0xb || e.function == 0x1f) e.edx = id;
        }
        auto set = kvm_ioctl(vcpu_fd, kvm_set_cpuid2, cpuid.data(), "KVM_SET_CPUID2");
        if (!set) return std::unexpected(set.error());
        return {};
    }
    return make_error(ErrorKind::fatal, "KVM_GET_SUPPORTED_CPUID: more than 4096 leaves");
}

}  // namespace hvgdb::vcpu::kvm
