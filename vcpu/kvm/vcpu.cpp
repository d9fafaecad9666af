// Vcpu on KVM: KVM_CREATE_VCPU, the kvm_run area, KVM_RUN and its exits, register get/set,
// KVM_SET_GUEST_DEBUG, and the immediate_exit + signal kick (KVM API doc 4.4, 5).
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "vcpu/kvm/cpuid.hpp"
#include "vcpu/kvm/vm_impl.hpp"

namespace hvgdb::vcpu {

namespace {

// The kick signal: a handler that does nothing, installed without SA_RESTART, so that a
// thread blocked in KVM_RUN returns with EINTR.
constexpr int kick_signal = SIGUSR1;

void install_kick_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa {};
        sa.sa_handler = [](int) {};
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        ::sigaction(kick_signal, &sa, nullptr);
    });
}

class KvmKick final : public VcpuKick {
  public:
    KvmKick(pthread_t thread, kvm_run* run) : thread_(thread), run_(run) {}
    void kick() override {
        // immediate_exit makes the next (or current) KVM_RUN return EINTR at once, so a kick
        // that lands between two KVM_RUN calls is not lost (KVM API 5, immediate_exit).
        std::atomic_ref<std::uint8_t>(run_->immediate_exit).store(1);
        ::pthread_kill(thread_, kick_signal);
    }

  private:
    pthread_t thread_;
    kvm_run* run_;
};

x86::Segment from_kvm(const kvm_segment& k) {
    return {k.base,    k.limit,  k.selector, k.type,   k.present != 0, k.dpl,
            k.db != 0, k.s != 0, k.l != 0,   k.g != 0, k.avl != 0,     k.unusable != 0};
}

kvm_segment to_kvm(const x86::Segment& s) {
    kvm_segment k{};
    k.base = s.base;
    k.limit = s.limit;
    k.selector = s.selector;
    k.type = s.type;
    k.present = s.present;
    k.dpl = s.dpl;
    k.db = s.db;
    k.s = s.s;
    k.l = s.l;
    k.g = s.g;
    k.avl = s.avl;
    k.unusable = s.unusable;
    return k;
}

// Full x87 tag word from FXSAVE's abridged one and the register contents (SDM vol. 1,
// 8.1.7 and 10.5.1.1): 00 valid, 01 zero, 10 special, 11 empty, per physical register.
std::uint16_t full_tag_word(std::uint8_t abridged, std::uint16_t fsw,
                            const std::uint8_t (&fpr)[8][16]) {
    unsigned top = (fsw >> 11) & 7;
    std::uint16_t tags = 0;
    for (unsigned phys = 0; phys < 8; ++phys) {
        unsigned tag = 3;
        if (abridged & (1u << phys)) {
            const std::uint8_t* st = fpr[(phys - top) & 7];  // fpr[] is in ST(i) order
            unsigned exponent = (st[9] & 0x7f) << 8 | st[8];
            bool integer_bit = st[7] & 0x80;
            bool mantissa_zero = std::all_of(st, st + 8, [](std::uint8_t b) { return b == 0; });
            if (exponent == 0x7fff)
                tag = 2;
            else if (exponent == 0)
                tag = mantissa_zero ? 1 : 2;
            else
                tag = integer_bit ? 0 : 2;
        }
        tags |= tag << (2 * phys);
    }
    return tags;
}

std::uint8_t abridged_tag_word(std::uint16_t full) {
    std::uint8_t abridged = 0;
    for (unsigned phys = 0; phys < 8; ++phys)
        if (((full >> (2 * phys)) & 3) != 3) abridged |= 1u << phys;
    return abridged;
}

// KVM_GET/SET_MSRS take a kvm_msrs header followed by its entries (KVM API 4.18); a batch
// holds up to msr_batch of them.
constexpr std::size_t msr_batch = 16;
struct MsrBatch {
    std::uint32_t nmsrs = 0, pad = 0;
    kvm_msr_entry entries[msr_batch]{};
};
// The kernel ABI puts the entries at offset 8; g++ pads the header's flexible-array union
// differently, so the layout is spelled out here rather than taken from kvm_msrs.
static_assert(offsetof(MsrBatch, entries) == 8);
// The request numbers encode sizeof(struct kvm_msrs), which is 8 in the kernel's C but not in
// C++ for the same reason; so they are built here from the ABI size.
constexpr unsigned long kvm_get_msrs = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, 8);
constexpr unsigned long kvm_set_msrs = _IOC(_IOC_WRITE, KVMIO, 0x89, 8);

// One KVM_GET_MSRS or KVM_SET_MSRS call on `count` (at most msr_batch) entries of `list` from
// `first`.  KVM handles entries in order and returns how many it did before one it refused.
Result<std::size_t> msr_ioctl(int fd, bool write, std::span<x86::MsrEntry> list, std::size_t first,
                              std::size_t count) {
    MsrBatch batch;
    batch.nmsrs = static_cast<std::uint32_t>(count);
    for (std::uint32_t i = 0; i < batch.nmsrs; ++i) {
        batch.entries[i].index = list[first + i].index;
        batch.entries[i].data = list[first + i].value;
    }
    auto rc = write ? kvm::kvm_ioctl(fd, kvm_set_msrs, &batch, "KVM_SET_MSRS")
                    : kvm::kvm_ioctl(fd, kvm_get_msrs, &batch, "KVM_GET_MSRS");
    if (!rc) return std::unexpected(rc.error());
    auto done = static_cast<std::size_t>(*rc);
    if (!write)
        for (std::size_t i = 0; i < done; ++i) list[first + i].value = batch.entries[i].data;
    return done;
}

// Which KVM field holds which of ours: one table per struct pair, read in both directions.
// By name, because the orders differ (kvm_regs has rsp before rbp).
template <typename Kvm, typename KvmField, typename Ours, typename OurField>
struct FieldPair {
    KvmField Kvm::*kvm;
    OurField Ours::*ours;
};

using x86::Registers;
using x86::SystemRegisters;
using GprPair = FieldPair<kvm_regs, __u64, Registers, std::uint64_t>;
constexpr GprPair gpr_fields[] = {
    {&kvm_regs::rax, &Registers::rax}, {&kvm_regs::rbx, &Registers::rbx},
    {&kvm_regs::rcx, &Registers::rcx}, {&kvm_regs::rdx, &Registers::rdx},
    {&kvm_regs::rsi, &Registers::rsi}, {&kvm_regs::rdi, &Registers::rdi},
    {&kvm_regs::rsp, &Registers::rsp}, {&kvm_regs::rbp, &Registers::rbp},
    {&kvm_regs::r8, &Registers::r8},   {&kvm_regs::r9, &Registers::r9},
    {&kvm_regs::r10, &Registers::r10}, {&kvm_regs::r11, &Registers::r11},
    {&kvm_regs::r12, &Registers::r12}, {&kvm_regs::r13, &Registers::r13},
    {&kvm_regs::r14, &Registers::r14}, {&kvm_regs::r15, &Registers::r15},
    {&kvm_regs::rip, &Registers::rip}, {&kvm_regs::rflags, &Registers::rflags},
};

using SegmentPair = FieldPair<kvm_sregs, kvm_segment, SystemRegisters, x86::Segment>;
constexpr SegmentPair segment_fields[] = {
    {&kvm_sregs::cs, &SystemRegisters::cs}, {&kvm_sregs::ds, &SystemRegisters::ds},
    {&kvm_sregs::es, &SystemRegisters::es}, {&kvm_sregs::fs, &SystemRegisters::fs},
    {&kvm_sregs::gs, &SystemRegisters::gs}, {&kvm_sregs::ss, &SystemRegisters::ss},
    {&kvm_sregs::tr, &SystemRegisters::tr}, {&kvm_sregs::ldt, &SystemRegisters::ldt},
};

using TablePair = FieldPair<kvm_sregs, kvm_dtable, SystemRegisters, x86::DescriptorTable>;
constexpr TablePair table_fields[] = {
    {&kvm_sregs::gdt, &SystemRegisters::gdt},
    {&kvm_sregs::idt, &SystemRegisters::idt},
};

using ControlPair = FieldPair<kvm_sregs, __u64, SystemRegisters, std::uint64_t>;
constexpr ControlPair control_fields[] = {
    {&kvm_sregs::cr0, &SystemRegisters::cr0},
    {&kvm_sregs::cr2, &SystemRegisters::cr2},
    {&kvm_sregs::cr3, &SystemRegisters::cr3},
    {&kvm_sregs::cr4, &SystemRegisters::cr4},
    {&kvm_sregs::cr8, &SystemRegisters::cr8},
    {&kvm_sregs::efer, &SystemRegisters::efer},
    {&kvm_sregs::apic_base, &SystemRegisters::apic_base},
};

std::string internal_error_text(const kvm_run& run) {
    const char* what = "unknown";
    switch (run.internal.suberror) {
        case KVM_INTERNAL_ERROR_EMULATION:
            what = "instruction emulation failed";
            break;
        case KVM_INTERNAL_ERROR_SIMUL_EX:
            what = "exception while delivering an exception";
            break;
        case KVM_INTERNAL_ERROR_DELIVERY_EV:
            what = "event delivery failed";
            break;
        default:
            break;
    }
    std::string text = fmt::format("KVM internal error {} ({})", run.internal.suberror, what);
    unsigned n = std::min<unsigned>(run.internal.ndata, 16);
    for (unsigned i = 0; i < n; ++i) text += fmt::format(" {:#x}", run.internal.data[i]);
    return text;
}

}  // namespace

struct Vcpu::Impl {
    unsigned id = 0;
    kvm::Fd fd;
    kvm_run* run = nullptr;
    std::size_t run_size = 0;
    std::shared_ptr<KvmKick> kick;
    bool block_irq = false;
    // KVM_INTERRUPT, or a change hvgdb made itself (registers, an injected exception), since
    // the last exit: ready_for_interrupt_injection no longer says whether IF and the event
    // slot allow an interrupt, so none is queued until the next exit refreshes it.
    bool interrupt_queued = false;
    // The run area holds the general registers as the last exit left them (KVM API 5,
    // kvm_valid_regs and kvm_sync_regs): true from a KVM_RUN that exited until hvgdb changes
    // the vCPU.  Not the system registers: on kvm_pvm a KVM_RUN that stored them
    // (KVM_SYNC_X86_SREGS) left the next single step without its trap.
    bool sync_regs = false;
    bool synced = false;

    // Before an ioctl that changes the vCPU's registers or events (any other change clears
    // `synced` alone): what the run area holds may no longer be so.
    void changing() {
        interrupt_queued = true;  // the interrupt window is unknown until the next exit
        synced = false;
    }

    ~Impl() {
        if (run) ::munmap(run, run_size);
    }
};

Vcpu::Vcpu(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vcpu::~Vcpu() = default;

Result<std::unique_ptr<Vcpu>> Vcpu::create(Vm& vm, unsigned id) {
    install_kick_handler();
    auto impl = std::make_unique<Impl>();
    impl->id = id;
    auto fd = HVGDB_KVM(vm.impl().vm.get(), KVM_CREATE_VCPU, id);
    if (!fd) return std::unexpected(fd.error());
    impl->fd = kvm::Fd(*fd);
    impl->run_size = static_cast<std::size_t>(vm.impl().run_mmap_size);
    void* p = ::mmap(nullptr, impl->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    if (p == MAP_FAILED) return errno_error("mmap kvm_run");
    impl->run = static_cast<kvm_run*>(p);  // the vCPU's shared run area (KVM API 5)
    if (auto cpuid = kvm::set_guest_cpuid(vm.impl().kvm.get(), *fd, id); !cpuid)
        return std::unexpected(cpuid.error());
    impl->kick = std::make_shared<KvmKick>(::pthread_self(), impl->run);
    impl->block_irq = vm.capabilities().block_irq_when_stepping;
    impl->sync_regs = vm.impl().sync_regs;
    if (impl->sync_regs) impl->run->kvm_valid_regs = KVM_SYNC_X86_REGS;  // read at every exit
    return std::unique_ptr<Vcpu>(new Vcpu(std::move(impl)));
}

unsigned Vcpu::id() const {
    return impl_->id;
}

std::shared_ptr<VcpuKick> Vcpu::kick_handle() {
    return impl_->kick;
}

Result<Exit> Vcpu::run() {
    kvm_run& run = *impl_->run;
    int rc = ::ioctl(impl_->fd.get(), KVM_RUN, 0);
    impl_->interrupt_queued = false;  // ready_for_interrupt_injection is fresh again
    impl_->synced = impl_->sync_regs && rc == 0;
    if (rc < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            std::atomic_ref<std::uint8_t>(run.immediate_exit).store(0);
            return Kicked{};
        }
        return errno_error("KVM_RUN");
    }
    // The I/O and MMIO data live inside the run area, at offsets KVM gives (KVM API 5).
    auto* base = reinterpret_cast<std::uint8_t*>(&run);
    switch (run.exit_reason) {
        case KVM_EXIT_IO: {
            std::span<std::uint8_t> data(base + run.io.data_offset,
                                         std::size_t{run.io.size} * run.io.count);
            if (run.io.direction == KVM_EXIT_IO_OUT)
                return IoOut{run.io.port, run.io.size, run.io.count, data};
            return IoIn{run.io.port, run.io.size, run.io.count, data};
        }
        case KVM_EXIT_MMIO:
            return MmioAccess{run.mmio.phys_addr,
                              std::span<std::uint8_t>(run.mmio.data, std::min(run.mmio.len, 8u)),
                              run.mmio.is_write != 0};
        case KVM_EXIT_HLT:
            return Halt{};
        case KVM_EXIT_DEBUG:
            return DebugTrap{static_cast<std::uint8_t>(run.debug.arch.exception), run.debug.arch.pc,
                             run.debug.arch.dr6};
        case KVM_EXIT_INTR:
            return Kicked{};
        case KVM_EXIT_IRQ_WINDOW_OPEN:
            return InterruptWindow{};
        case KVM_EXIT_SHUTDOWN:
            return Shutdown{};
        case KVM_EXIT_INTERNAL_ERROR:
            return InternalError{run.internal.suberror, internal_error_text(run),
                                 run.internal.suberror == KVM_INTERNAL_ERROR_EMULATION};
        case KVM_EXIT_FAIL_ENTRY:
            return EntryFailed{run.fail_entry.hardware_entry_failure_reason};
        default:
            return UnknownExit{run.exit_reason};
    }
}

Result<Exit> Vcpu::finish_instruction() {
    // With immediate_exit set, KVM_RUN first completes the pending MMIO or port I/O operation,
    // and the emulated instruction behind it, then returns EINTR instead of entering the guest
    // (KVM API 5, immediate_exit, KVM_EXIT_IO and KVM_EXIT_MMIO).  An instruction that needs
    // another access exits for it first.
    std::atomic_ref<std::uint8_t> immediate(impl_->run->immediate_exit);
    immediate.store(1);
    auto exit = run();
    if (exit && !std::holds_alternative<Kicked>(*exit)) immediate.store(0);
    return exit;
}

Result<x86::Registers> Vcpu::get_registers() {
    kvm_regs k{};
    if (impl_->synced) {
        k = impl_->run->s.regs.regs;
    } else if (auto rc = HVGDB_KVM(impl_->fd.get(), KVM_GET_REGS, &k); !rc) {
        return std::unexpected(rc.error());
    }
    x86::Registers r;
    for (const auto& f : gpr_fields) r.*f.ours = k.*f.kvm;
    return r;
}

Result<void> Vcpu::set_registers(const x86::Registers& r) {
    impl_->changing();
    kvm_regs k{};
    for (const auto& f : gpr_fields) k.*f.kvm = r.*f.ours;
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_SET_REGS, &k);
    if (!rc) return std::unexpected(rc.error());
    return {};
}

Result<x86::SystemRegisters> Vcpu::get_system_registers() {
    kvm_sregs k{};
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_GET_SREGS, &k);
    if (!rc) return std::unexpected(rc.error());
    x86::SystemRegisters s;
    for (const auto& f : segment_fields) s.*f.ours = from_kvm(k.*f.kvm);
    for (const auto& f : table_fields) s.*f.ours = {(k.*f.kvm).base, (k.*f.kvm).limit};
    for (const auto& f : control_fields) s.*f.ours = k.*f.kvm;
    return s;
}

Result<void> Vcpu::set_system_registers(const x86::SystemRegisters& s) {
    impl_->changing();
    kvm_sregs k{};
    // Start from the current state so the interrupt bitmap is kept.
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_GET_SREGS, &k);
    if (!rc) return std::unexpected(rc.error());
    for (const auto& f : segment_fields) k.*f.kvm = to_kvm(s.*f.ours);
    for (const auto& f : table_fields) {
        (k.*f.kvm).base = (s.*f.ours).base;
        (k.*f.kvm).limit = (s.*f.ours).limit;
    }
    for (const auto& f : control_fields) k.*f.kvm = s.*f.ours;
    rc = HVGDB_KVM(impl_->fd.get(), KVM_SET_SREGS, &k);
    if (!rc) return std::unexpected(rc.error());
    return {};
}

Result<x86::FpuState> Vcpu::get_fpu() {
    kvm_fpu k{};
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_GET_FPU, &k);
    if (!rc) return std::unexpected(rc.error());
    x86::FpuState f;
    for (unsigned i = 0; i < 8; ++i) std::memcpy(f.st[i].data(), k.fpr[i], 10);
    f.fcw = k.fcw;
    f.fsw = k.fsw;
    f.ftw = full_tag_word(k.ftwx, k.fsw, k.fpr);
    f.fop = k.last_opcode;
    f.fip = k.last_ip;
    f.fdp = k.last_dp;
    for (unsigned i = 0; i < 16; ++i) std::memcpy(f.xmm[i].data(), k.xmm[i], 16);
    f.mxcsr = k.mxcsr;
    return f;
}

Result<void> Vcpu::set_fpu(const x86::FpuState& f) {
    impl_->synced = false;
    kvm_fpu k{};
    for (unsigned i = 0; i < 8; ++i) std::memcpy(k.fpr[i], f.st[i].data(), 10);
    k.fcw = f.fcw;
    k.fsw = f.fsw;
    k.ftwx = abridged_tag_word(f.ftw);
    k.last_opcode = f.fop;
    k.last_ip = f.fip;
    k.last_dp = f.fdp;
    for (unsigned i = 0; i < 16; ++i) std::memcpy(k.xmm[i], f.xmm[i].data(), 16);
    k.mxcsr = f.mxcsr;
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_SET_FPU, &k);
    if (!rc) return std::unexpected(rc.error());
    return {};
}

Result<x86::DebugRegisters> Vcpu::get_debug_registers() {
    kvm_debugregs k{};
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_GET_DEBUGREGS, &k);
    if (!rc) return std::unexpected(rc.error());
    x86::DebugRegisters d;
    std::copy(std::begin(k.db), std::end(k.db), d.dr.begin());
    d.dr6 = k.dr6;
    d.dr7 = k.dr7;
    return d;
}

Result<void> Vcpu::set_debug_registers(const x86::DebugRegisters& d) {
    impl_->synced = false;
    // KVM keeps these as the guest's view even while set_debug's breakpoints are in the
    // hardware, and loads them again once those are gone (KVM API, KVM_SET_GUEST_DEBUG).  It
    // refuses DR6 and DR7 values with bits set above bit 31.
    kvm_debugregs k{};
    std::copy(d.dr.begin(), d.dr.end(), std::begin(k.db));
    k.dr6 = d.dr6;
    k.dr7 = d.dr7;
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_SET_DEBUGREGS, &k);
    if (!rc) return std::unexpected(rc.error());
    return {};
}

Result<void> Vcpu::get_msrs(std::span<x86::MsrEntry> list) {
    std::optional<std::uint32_t> refused;
    for (std::size_t next = 0; next < list.size();) {
        std::size_t count = std::min(msr_batch, list.size() - next);
        auto done = msr_ioctl(impl_->fd.get(), false, list, next, count);
        if (!done) return std::unexpected(done.error());
        next += *done;
        if (*done < count) {  // KVM stopped at this one: go on after it
            if (!refused) refused = list[next].index;
            ++next;
        }
    }
    if (refused)
        return make_error(ErrorKind::target, fmt::format("MSR {:#x} is not readable", *refused));
    return {};
}

Result<void> Vcpu::set_msrs(std::span<const x86::MsrEntry> list) {
    impl_->synced = false;
    std::vector<x86::MsrEntry> entries(list.begin(), list.end());
    for (std::size_t next = 0; next < entries.size();) {
        std::size_t count = std::min(msr_batch, entries.size() - next);
        auto done = msr_ioctl(impl_->fd.get(), true, entries, next, count);
        if (!done) return std::unexpected(done.error());
        next += *done;
        if (*done < count)
            return make_error(ErrorKind::target,
                              fmt::format("MSR {:#x} refused the value {:#x}", entries[next].index,
                                          entries[next].value));
    }
    return {};
}

Result<void> Vcpu::set_debug(const DebugControl& d) {
    impl_->synced = false;
    kvm_guest_debug k{};
    if (d.any_enabled()) {
        k.control = KVM_GUESTDBG_ENABLE;
        if (d.single_step) {
            k.control |= KVM_GUESTDBG_SINGLESTEP;
            if (d.block_interrupts_while_stepping && impl_->block_irq)
                k.control |= KVM_GUESTDBG_BLOCKIRQ;
        }
        if (d.trap_software_breakpoints) k.control |= KVM_GUESTDBG_USE_SW_BP;
        if (d.dr7 & 0xff) {
            k.control |= KVM_GUESTDBG_USE_HW_BP;
            for (unsigned i = 0; i < 4; ++i) k.arch.debugreg[i] = d.dr[i];
            k.arch.debugreg[7] = d.dr7;
        }
    }
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_SET_GUEST_DEBUG, &k);
    if (!rc) return std::unexpected(rc.error());
    return {};
}

Result<void> Vcpu::inject_exception(std::uint8_t vector) {
    impl_->changing();
    kvm_vcpu_events ev{};
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_GET_VCPU_EVENTS, &ev);
    if (!rc) return std::unexpected(rc.error());
    ev.exception.injected = 1;
    ev.exception.nr = vector;
    ev.exception.has_error_code = 0;
    ev.exception.error_code = 0;
    ev.flags = 0;  // leave NMI, SIPI and shadow state as they are
    rc = HVGDB_KVM(impl_->fd.get(), KVM_SET_VCPU_EVENTS, &ev);
    if (!rc) return std::unexpected(rc.error());
    return {};
}

// Without an in-kernel irqchip KVM leaves the interrupt controller to user space: the run
// area says whether the vCPU can take an interrupt and asks for an exit when it can, and
// KVM_INTERRUPT queues one (KVM API: KVM_INTERRUPT, and kvm_run's request_interrupt_window and
// ready_for_interrupt_injection).  KVM refreshes the flag at every return from KVM_RUN.
bool Vcpu::interrupt_window_open() const {
    return impl_->run->ready_for_interrupt_injection != 0 && !impl_->interrupt_queued;
}

void Vcpu::request_interrupt_window(bool on) {
    impl_->run->request_interrupt_window = on ? 1 : 0;
}

Result<bool> Vcpu::inject_interrupt(std::uint8_t vector) {
    impl_->synced = false;
    kvm_interrupt irq{};
    irq.irq = vector;
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_INTERRUPT, &irq);
    if (!rc) {
        if (rc.error().err_no == EEXIST) return false;  // the last one is still queued
        return std::unexpected(rc.error());
    }
    impl_->interrupt_queued = true;
    return true;
}

Result<void> Vcpu::inject_nmi() {
    impl_->synced = false;
    // KVM API, KVM_NMI: well defined only without KVM_CREATE_IRQCHIP, as hvgdb runs.
    auto rc = HVGDB_KVM(impl_->fd.get(), KVM_NMI, 0);
    if (!rc) return std::unexpected(rc.error());
    return {};
}

}  // namespace hvgdb::vcpu
