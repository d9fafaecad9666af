// Vm on KVM: KVM_CREATE_VM, memory slots (KVM_SET_USER_MEMORY_REGION), capability checks.
#include <cpuid.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

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
    auto sync = HVGDB_KVM(fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
    impl->sync_regs = sync && (*sync & KVM_SYNC_X86_REGS) != 0;
    auto memslots = HVGDB_KVM(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    if (memslots && *memslots > 0) impl->max_slots = static_cast<std::uint32_t>(*memslots);
    // An instruction KVM cannot emulate exits to hvgdb at every privilege level, with nothing
    // queued for the guest; by default KVM would queue #UD for it, and deliver that #UD
    // without exiting outside ring 0 (KVM API, KVM_CAP_EXIT_ON_EMULATION_FAILURE).  A fetch
    // from a page Vm::protect took away must reach hvgdb like that.  Kernels before 5.14 lack
    // it and keep the default.
    auto exit_on_failure =
        HVGDB_KVM(impl->vm.get(), KVM_CHECK_EXTENSION, KVM_CAP_EXIT_ON_EMULATION_FAILURE);
    if (exit_on_failure && *exit_on_failure > 0) {
        kvm_enable_cap cap{};
        cap.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE;
        cap.args[0] = 1;
        if (auto r = HVGDB_KVM(impl->vm.get(), KVM_ENABLE_CAP, &cap); !r)
            return std::unexpected(r.error());
    }
    // KVM hands the host's family, model and stepping (CPUID leaf 1 EAX) to the guest's
    // CPUID table unchanged; a nested host's CPUID is the one its KVM sees.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) impl->caps.processor_signature = eax;
    impl->caps.name = "KVM (API " + std::to_string(*version) + ")";
    return std::unique_ptr<Vm>(new Vm(std::move(impl)));
}

Result<void> Vm::Impl::set_slot(std::uint32_t id, const kvm::MemorySlot& shape) {
    kvm_userspace_memory_region region{};
    region.slot = id;
    // A read-only slot: guest writes exit to user space as MMIO (KVM API 4.35).  A size of 0
    // deletes the slot.
    region.flags = shape.readonly ? KVM_MEM_READONLY : 0;
    region.guest_phys_addr = shape.gpa;
    region.memory_size = shape.size;
    // KVM takes the host address as an integer; the mapping outlives the slot (Machine owns it).
    region.userspace_addr = reinterpret_cast<std::uint64_t>(shape.host);
    auto rc = HVGDB_KVM(vm.get(), KVM_SET_USER_MEMORY_REGION, &region);
    if (!rc) return std::unexpected(rc.error());
    return {};
}

Result<void> Vm::Impl::replace_slots(std::uint64_t gpa, std::uint64_t end,
                                     const std::vector<kvm::MemorySlot>& wanted) {
    // Only the slots that change are touched: a slot that stays as it is keeps the guest's
    // view of its memory uninterrupted.
    auto inside = [&](const Slot& s) { return s.shape.gpa >= gpa && s.shape.gpa < end; };
    std::vector<Slot> gone;
    for (const Slot& s : slots)
        if (inside(s) && std::find(wanted.begin(), wanted.end(), s.shape) == wanted.end())
            gone.push_back(s);
    std::vector<kvm::MemorySlot> added;
    for (const auto& w : wanted)
        if (std::none_of(slots.begin(), slots.end(),
                         [&](const Slot& s) { return inside(s) && s.shape == w; }))
            added.push_back(w);
    if (slots.size() - gone.size() + added.size() > max_slots)
        return make_error(
            ErrorKind::target,
            fmt::format("KVM allows {} memory slots and {} more are needed", max_slots,
                        slots.size() - gone.size() + added.size() - max_slots));
    // KVM refuses overlapping slots: the old ones go first.
    std::vector<Slot> made;
    auto undo = [&] {
        for (const Slot& s : made) {
            (void)set_slot(s.id, {s.shape.gpa, 0, nullptr, false});
            std::erase_if(slots, [&](const Slot& o) { return o.id == s.id; });
            free_ids.push_back(s.id);
        }
        for (const Slot& s : gone)
            if (std::none_of(slots.begin(), slots.end(),
                             [&](const Slot& o) { return o.id == s.id; }))
                if (set_slot(s.id, s.shape)) {
                    slots.push_back(s);
                    std::erase(free_ids, s.id);
                }
    };
    for (const Slot& s : gone) {
        if (auto r = set_slot(s.id, {s.shape.gpa, 0, nullptr, false}); !r) {
            undo();
            return r;
        }
        std::erase_if(slots, [&](const Slot& o) { return o.id == s.id; });
        free_ids.push_back(s.id);
    }
    for (const auto& w : added) {
        std::uint32_t id = next_slot;
        if (!free_ids.empty()) {
            id = free_ids.back();
            free_ids.pop_back();
        } else {
            ++next_slot;
        }
        if (auto r = set_slot(id, w); !r) {
            free_ids.push_back(id);
            undo();
            return r;
        }
        slots.push_back({id, w});
        made.push_back({id, w});
    }
    return {};
}

Result<void> Vm::map(std::span<std::uint8_t> host, std::uint64_t gpa, MemoryPermissions perm) {
    if (perm == MemoryPermissions::read_execute && !impl_->readonly_memory)
        return make_error(ErrorKind::fatal,
                          "this KVM cannot map memory the guest may not write "
                          "(KVM_CAP_READONLY_MEM), which ROM needs");
    if (perm == MemoryPermissions::none)
        return make_error(ErrorKind::invalid, "memory the guest may not access is not mapped");
    std::lock_guard lock(impl_->mutex);
    const MemoryRegion mapping{gpa, host, perm};
    for (const auto& m : impl_->mappings)
        if (m.gpa < mapping.end() && gpa < m.end())
            return make_error(ErrorKind::invalid,
                              fmt::format("guest-physical {:#x}..{:#x} is mapped already", gpa,
                                          mapping.end() - 1));
    std::erase_if(impl_->pages,
                  [&](const auto& p) { return p.first >= gpa && p.first < mapping.end(); });
    if (auto r = impl_->replace_slots(gpa, mapping.end(), kvm::slots_for(mapping, impl_->pages));
        !r)
        return r;
    impl_->mappings.push_back(mapping);
    return {};
}

Result<void> Vm::unmap(std::uint64_t gpa, std::uint64_t size) {
    std::lock_guard lock(impl_->mutex);
    auto it =
        std::find_if(impl_->mappings.begin(), impl_->mappings.end(),
                     [&](const MemoryRegion& m) { return m.gpa == gpa && m.host.size() == size; });
    if (it == impl_->mappings.end())
        return make_error(ErrorKind::target, "no mapping at that guest-physical range");
    if (auto r = impl_->replace_slots(gpa, it->end(), {}); !r) return r;
    std::erase_if(impl_->pages,
                  [&](const auto& p) { return p.first >= gpa && p.first < it->end(); });
    impl_->mappings.erase(it);
    return {};
}

Result<void> Vm::protect(std::uint64_t gpa, std::uint64_t size, MemoryPermissions perm) {
    constexpr std::uint64_t page = kvm::slot_page_size;
    if (size == 0 || gpa % page || size % page || gpa + size < gpa)
        return make_error(
            ErrorKind::invalid,
            fmt::format("protect {:#x} bytes at {:#x}: not whole 4 KiB pages", size, gpa));
    if (perm == MemoryPermissions::read_execute && !impl_->readonly_memory)
        return make_error(ErrorKind::unsupported,
                          "this KVM cannot make memory read-only (KVM_CAP_READONLY_MEM)");
    std::lock_guard lock(impl_->mutex);
    const std::uint64_t end = gpa + size;
    kvm::PagePermissions pages = impl_->pages;
    std::vector<const MemoryRegion*> touched;
    std::uint64_t covered = 0;
    for (const auto& m : impl_->mappings) {
        const std::uint64_t from = std::max(gpa, m.gpa), to = std::min(end, m.end());
        if (from >= to) continue;
        touched.push_back(&m);
        covered += to - from;
        for (std::uint64_t p = from; p < to; p += page) {
            if (perm == m.guest)
                pages.erase(p);
            else
                pages[p] = perm;
        }
    }
    if (covered != size)
        return make_error(
            ErrorKind::invalid,
            fmt::format("protect {:#x}..{:#x}: not all of it is mapped", gpa, end - 1));
    for (const MemoryRegion* m : touched) {
        if (auto r = impl_->replace_slots(m->gpa, m->end(), kvm::slots_for(*m, pages)); !r) {
            // Put back the mappings already changed.
            for (const MemoryRegion* done : touched) {
                if (done == m) break;
                (void)impl_->replace_slots(done->gpa, done->end(),
                                           kvm::slots_for(*done, impl_->pages));
            }
            return r;
        }
    }
    impl_->pages = std::move(pages);
    return {};
}

const HostCapabilities& Vm::capabilities() const {
    return impl_->caps;
}

}  // namespace hvgdb::vcpu
