// Vm on KVM: KVM_CREATE_VM, memory slots (KVM_SET_USER_MEMORY_REGION), capability checks.
#include <cpuid.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "vcpu/kvm/vm_impl.hpp"

namespace hvgdb::vcpu {

namespace kvm {
Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}
Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}
}  // namespace kvm

Vm::Vm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vm::~Vm() = default;

Result<std::unique_ptr<Vm>> Vm::create() {
    auto impl = std::make_unique<Impl>();
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return errno_error("open /dev/kvm");
    impl->kvm = kvm::Fd(fd);

    auto version = HVGDB_KVM(fd, KVM_GET_API_VERSION, 0);
    if (!version) return std::unexpected(version.error());
    if (*version != KVM_API_VERSION)
        return make_error(ErrorKind::fatal,
                          "unsupported KVM API version " + std::to_string(*version));

    // The features hvgdb cannot work without (KVM API doc, section 4).
    struct Required {
        int cap;
        const char* name;
    };
    constexpr Required required[] = {
        {KVM_CAP_SET_GUEST_DEBUG, "KVM_CAP_SET_GUEST_DEBUG"},
        {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
        {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    };
    for (const auto& r : required) {
        auto has = HVGDB_KVM(fd, KVM_CHECK_EXTENSION, r.cap);
        if (!has || *has <= 0)
            return make_error(ErrorKind::fatal, std::string("KVM lacks ") + r.name);
    }

    auto vmfd = HVGDB_KVM(fd, KVM_CREATE_VM, 0);
    if (!vmfd) return std::unexpected(vmfd.error());
    impl->vm = kvm::Fd(*vmfd);

    auto size = HVGDB_KVM(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (!size) return std::unexpected(size.error());
    impl->run_mmap_size = *size;

    auto max = HVGDB_KVM(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    impl->caps.max_vcpus = (max && *max > 0) ? static_cast<unsigned>(*max) : 1;
    auto dbg = HVGDB_KVM(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
    impl->caps.block_irq_when_stepping = dbg && (*dbg & KVM_GUESTDBG_BLOCKIRQ);
    auto readonly = HVGDB_KVM(fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM);
    impl->readonly_memory = readonly && *readonly > 0;
    // KVM hands the host's family, model and stepping (CPUID leaf 1 EAX) to the guest's
    // CPUID table unchanged; a nested host's CPUID is the one its KVM sees.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) impl->caps.processor_signature = eax;
    impl->caps.name = "KVM (API " + std::to_string(*version) + ")";
    return std::unique_ptr<Vm>(new Vm(std::move(impl)));
}

Result<void> Vm::map(std::span<std::uint8_t> host, std::uint64_t gpa, MemoryPermissions perm) {
    if (perm == MemoryPermissions::read_execute && !impl_->readonly_memory)
        return make_error(ErrorKind::fatal,
                          "this KVM cannot map memory the guest may not write "
                          "(KVM_CAP_READONLY_MEM), which ROM needs");
    kvm_userspace_memory_region region{};
    region.slot = impl_->next_slot;
    // A read-only slot: guest writes exit to user space as MMIO (KVM API 4.35).
    region.flags = perm == MemoryPermissions::read_execute ? KVM_MEM_READONLY : 0;
    region.guest_phys_addr = gpa;
    region.memory_size = host.size();
    // KVM takes the host address as an integer; the mapping outlives the slot (Machine owns it).
    region.userspace_addr = reinterpret_cast<std::uint64_t>(host.data());
    auto rc = HVGDB_KVM(impl_->vm.get(), KVM_SET_USER_MEMORY_REGION, &region);
    if (!rc) return std::unexpected(rc.error());
    impl_->slots.push_back({impl_->next_slot++, gpa, host.size()});
    return {};
}

Result<void> Vm::unmap(std::uint64_t gpa, std::uint64_t size) {
    auto it = std::find_if(impl_->slots.begin(), impl_->slots.end(),
                           [&](const Impl::Slot& s) { return s.gpa == gpa && s.size == size; });
    if (it == impl_->slots.end())
        return make_error(ErrorKind::target, "no mapping at that guest-physical range");
    kvm_userspace_memory_region region{};
    region.slot = it->id;  // a size of 0 deletes the slot (KVM API 4.35)
    region.guest_phys_addr = gpa;
    auto rc = HVGDB_KVM(impl_->vm.get(), KVM_SET_USER_MEMORY_REGION, &region);
    if (!rc) return std::unexpected(rc.error());
    impl_->slots.erase(it);
    return {};
}

const HostCapabilities& Vm::capabilities() const {
    return impl_->caps;
}

}  // namespace hvgdb::vcpu
