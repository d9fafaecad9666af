// The hypervisor layer's VM and vCPU, shaped on Hypervisor.framework (hv_vm_*, hv_vcpu_*).
// The backend (kvm/ on Linux) is picked by the build and implements these classes.
// Depends on common/ and the x86 state types.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/error.hpp"
#include "vcpu/exit.hpp"
#include "vcpu/x86/state.hpp"

namespace hvgdb::vcpu {

// What the guest may do with a range of guest-physical memory (hv_memory_flags_t).  The host
// (the debugger) may always read and write it.  Ordered from most to least allowed.
enum class MemoryPermissions : std::uint8_t { read_write_execute, read_execute, none };

// Debug controls of one vCPU (hv_vcpu_set_trap_debug_exceptions and the debug registers the
// debugger owns).  Applied with Vcpu::set_debug on the vCPU's own thread.
struct DebugControl {
    bool single_step = false;
    bool block_interrupts_while_stepping = true;  // where the host supports it
    bool trap_software_breakpoints = false;       // #BP exits to the host
    std::array<std::uint64_t, 4> dr{};            // DR0-DR3
    std::uint64_t dr7 = 0;                        // enables, R/W and LEN bits
    bool any_enabled() const { return single_step || trap_software_breakpoints || (dr7 & 0xff); }
    bool operator==(const DebugControl&) const = default;
};

// What the host hypervisor supports, as far as debugging needs it.
struct HostCapabilities {
    unsigned max_vcpus = 1;
    bool block_irq_when_stepping = false;  // KVM_GUESTDBG_BLOCKIRQ
    // The processor signature the guest's CPUID leaf 1 reports in EAX (family, model,
    // stepping), which a CPU also leaves in EDX after RESET.  0x600 (family 6) when unknown.
    std::uint32_t processor_signature = 0x600;
    std::string name;  // e.g. "KVM (API 12)"
};

class Vcpu;

// Handle by which another thread can make a vCPU leave the guest.
class VcpuKick {
  public:
    virtual ~VcpuKick() = default;
    virtual void kick() = 0;  // async-signal-safe enough: sets a flag, signals the thread
};

class Vm {
  public:
    // hv_vm_create: one VM.
    static Result<std::unique_ptr<Vm>> create();
    ~Vm();
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    // hv_vm_map: host memory [host.data(), +size) appears at guest-physical gpa.
    Result<void> map(std::span<std::uint8_t> host, std::uint64_t gpa, MemoryPermissions);
    Result<void> unmap(std::uint64_t gpa, std::uint64_t size);
    // hv_vm_protect: what the guest may do in [gpa, gpa + size), whole 4 KiB pages of memory
    // that map() placed; giving pages their mapping's own permissions restores them.  Guest
    // reads and writes that the permissions forbid exit as MmioAccess, for the host to
    // complete; an instruction fetch from a page with no access ends in an InternalError
    // (emulation).  ErrorKind::invalid for pages outside the mappings, ErrorKind::target when
    // the hypervisor would need more memory slots than it has (nothing is changed then).
    // While vCPUs run, a changed page may be briefly absent (its accesses exit as MMIO).
    Result<void> protect(std::uint64_t gpa, std::uint64_t size, MemoryPermissions);

    const HostCapabilities& capabilities() const;

    struct Impl;
    Impl& impl() { return *impl_; }

  private:
    explicit Vm(std::unique_ptr<Impl>);
    std::unique_ptr<Impl> impl_;
};

// One vCPU, bound to the thread that created it (hv_vcpu_create): every member except
// kick_handle() must be called on that thread.
class Vcpu {
  public:
    static Result<std::unique_ptr<Vcpu>> create(Vm& vm, unsigned id);
    ~Vcpu();
    Vcpu(const Vcpu&) = delete;
    Vcpu& operator=(const Vcpu&) = delete;

    unsigned id() const;

    // hv_vcpu_run: enters the guest until it exits.
    Result<Exit> run();

    Result<x86::Registers> get_registers();
    Result<void> set_registers(const x86::Registers&);
    Result<x86::SystemRegisters> get_system_registers();
    Result<void> set_system_registers(const x86::SystemRegisters&);
    Result<x86::FpuState> get_fpu();
    Result<void> set_fpu(const x86::FpuState&);
    // The guest's own DR0-DR3, DR6 and DR7; the debugger's breakpoints (set_debug) are apart.
    Result<x86::DebugRegisters> get_debug_registers();
    Result<void> set_debug_registers(const x86::DebugRegisters&);
    // hv_vcpu_read_msr / hv_vcpu_write_msr over a list.  get_msrs fills every entry it can and
    // fails naming the first MSR the hypervisor would not read; set_msrs writes in order and
    // stops at the first it refuses (ErrorKind::target).
    Result<void> get_msrs(std::span<x86::MsrEntry>);
    Result<void> set_msrs(std::span<const x86::MsrEntry>);

    Result<void> set_debug(const DebugControl&);
    // After an MmioAccess, IoIn or IoOut exit (its data filled in for a read): completes that
    // access and the instruction that made it without running any further instruction.
    // Returns Kicked once the instruction is done, or the exit it still needs first (the next
    // access of the same instruction, a DebugTrap when single-stepping).
    Result<Exit> finish_instruction();
    // Delivers exception `vector` to the guest at the next entry (used to hand a #BP that
    // is not the debugger's back to the guest).
    Result<void> inject_exception(std::uint8_t vector);
    // External interrupts from an interrupt controller the host program emulates
    // (hv_vcpu_set_pending_interrupt).  Whether the guest takes one at the next entry
    // (RFLAGS.IF set, no interrupt shadow, nothing queued), as of the last exit.
    bool interrupt_window_open() const;
    // While on, run() returns InterruptWindow as soon as the guest can take an interrupt.
    void request_interrupt_window(bool on);
    // Queues external interrupt `vector` for the next entry; false when the one queued before
    // has not gone in yet (nothing is queued then).
    Result<bool> inject_interrupt(std::uint8_t vector);
    // Queues a non-maskable interrupt.
    Result<void> inject_nmi();

    // The handle another thread uses to make run() return with Exit Kicked.
    std::shared_ptr<VcpuKick> kick_handle();

    struct Impl;

  private:
    explicit Vcpu(std::unique_ptr<Impl>);
    std::unique_ptr<Impl> impl_;
};

}  // namespace hvgdb::vcpu
