// Interprocessor interrupts: each vCPU's xAPIC page (vcpu/x86/lapic.hpp), the IPIs its
// interrupt command register sends, and how every vCPU takes them on its own thread: INIT and
// SIPI (multiprocessor start-up, Intel SDM vol. 3A, 8.4), fixed interrupts through the
// xAPIC's IRR and ISR, and NMI (10.6).  Machine::Impl members; see vcpu_loop.hpp.
#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vcpu/vcpu_loop.hpp"

namespace hvgdb::vcpu {

namespace {

VcpuStop startup_stop(unsigned id, StopCause cause, std::string detail = {}) {
    VcpuStop s;
    s.vcpu = id;
    s.cause = cause;
    if (cause == StopCause::fault) s.fault = FaultKind::host_error;
    s.detail = std::move(detail);
    return s;
}

// Under the machine's mutex: makes the target's thread look at its messages now, woken from
// hlt or from its wait for SIPI, or kicked out of the guest.  The sender's own thread is
// between two runs and looks before the next.  One the debugger holds stopped looks when it
// is resumed.
void alert(VcpuThread& target, unsigned sender) {
    target.wake.notify_all();
    if (target.running && target.id != sender && target.kick) target.kick->kick();
}

// Under the mutex.  A SIPI latched before the INIT is forgotten.
void deliver_init(VcpuThread& target, unsigned sender) {
    target.init_pending = true;
    target.sipi_vector.reset();
    alert(target, sender);
}

// Under the mutex.  A SIPI starts a processor only while it waits for one (SDM vol. 3A,
// 8.4): the second SIPI of INIT-SIPI-SIPI finds the AP started and is ignored.  An INIT on its
// way counts, as the target takes it first.  One stopped by the debugger keeps the SIPI until
// it is resumed.
void deliver_sipi(VcpuThread& target, std::uint8_t vector) {
    if (!(target.waiting_for_sipi || target.init_pending) || target.sipi_vector) return;
    target.sipi_vector = vector;
    target.wake.notify_all();
}

// Under the mutex.  A fixed interrupt: the target's xAPIC requests it (a software-disabled
// one rejects it), and its thread injects it when the guest can take it.
void deliver_fixed(VcpuThread& target, const x86::Ipi& ipi, unsigned sender) {
    if (!target.lapic.request(ipi.vector, ipi.level_triggered)) return;
    target.interrupts_changed = true;
    alert(target, sender);
}

// Under the mutex.  NMI bypasses IRR and ISR (SDM vol. 3A, 10.8.4 note).
void deliver_nmi(VcpuThread& target, unsigned sender) {
    target.nmi_pending = true;
    alert(target, sender);
}

std::string_view delivery_mode_name(x86::DeliveryMode mode) {
    switch (mode) {
        case x86::DeliveryMode::fixed:
            return "fixed";
        case x86::DeliveryMode::lowest_priority:
            return "lowest priority";
        case x86::DeliveryMode::smi:
            return "SMI";
        case x86::DeliveryMode::nmi:
            return "NMI";
        case x86::DeliveryMode::init:
            return "INIT";
        case x86::DeliveryMode::startup:
            return "start-up";
        case x86::DeliveryMode::reserved_3:
        case x86::DeliveryMode::reserved_7:
            break;
    }
    return "reserved";
}

// The state after INIT (SDM vol. 3A, 9.1 and table 9-1): `init`'s general, segment, control
// and debug registers.  IA32_APIC_BASE, the x87/SSE state and the other MSRs stay as they are.
Result<void> load_init_state(Vcpu& vcpu, VcpuSnapshot init) {
    auto now = vcpu.get_system_registers();
    if (!now) return std::unexpected(now.error());
    init.sregs.apic_base = now->apic_base;
    if (auto r = vcpu.set_system_registers(init.sregs); !r) return r;
    if (auto r = vcpu.set_registers(init.regs); !r) return r;
    return vcpu.set_debug_registers(init.debug);
}

// A SIPI with vector V: real mode at CS selector V << 8, base V << 12, IP 0, the rest as INIT
// (or the debugger, while the AP waited) left it (SDM vol. 3A, 8.4.3 and 10.6.1).
Result<void> load_sipi_state(Vcpu& vcpu, std::uint8_t vector) {
    auto sregs = vcpu.get_system_registers();
    if (!sregs) return std::unexpected(sregs.error());
    auto regs = vcpu.get_registers();
    if (!regs) return std::unexpected(regs.error());
    sregs->cs.selector = static_cast<std::uint16_t>(vector << 8);
    sregs->cs.base = std::uint64_t{vector} << 12;
    regs->rip = 0;
    if (auto r = vcpu.set_system_registers(*sregs); !r) return r;
    return vcpu.set_registers(*regs);
}

}  // namespace

Machine::Impl::Startup Machine::Impl::take_startup(Vcpu& vcpu, VcpuThread& self, bool step) {
    Startup result;
    // The published snapshot follows the new state: a step plans from it (plan_step), and a
    // vCPU waiting for SIPI shows the INIT state.
    auto republish = [&] {
        if (auto snap = take_snapshot(vcpu)) {
            std::lock_guard lock(mutex);
            self.snapshot = *snap;
            self.snapshot_partial = false;
        }
    };
    auto failed = [&](const Error& e) {
        result.stop = startup_stop(self.id, StopCause::fault, "INIT or SIPI: " + e.message());
        return result;
    };
    std::unique_lock lock(mutex);
    for (;;) {
        if (self.init_pending) {
            const bool parked = self.waiting_for_sipi;
            lock.unlock();
            if (!parked) {
                // The access the guest made last completes first, without running on: KVM
                // ends it at the next KVM_RUN (KVM API 5, KVM_EXIT_MMIO), and would then
                // write its result over the INIT state.
                VcpuStop done = finish_instruction(vcpu, self.id, std::nullopt);
                if (done.cause != StopCause::step) {
                    result.stop = std::move(done);  // the INIT stays pending
                    return result;
                }
            }
            VcpuSnapshot init;
            {
                std::lock_guard guard(mutex);
                init = init_state;
            }
            if (auto r = load_init_state(vcpu, init); !r) return failed(r.error());
            result.changed = true;
            lock.lock();
            // After INIT the BSP runs from the reset vector and the APs wait for SIPI (SDM
            // vol. 3A, 8.4.2: each looks at the BSP flag of its IA32_APIC_BASE).
            self.init_pending = false;
            self.nmi_pending = false;  // INIT resets the processor: nothing older is pending
            self.lapic.reset();
            self.waiting_for_sipi = !self.lapic.bsp();
            if (self.lapic.bsp()) self.sipi_vector.reset();
            lock.unlock();
            republish();
            lock.lock();
            continue;
        }
        if (!self.waiting_for_sipi) return result;
        if (self.sipi_vector) {
            const std::uint8_t vector = *self.sipi_vector;
            self.sipi_vector.reset();
            lock.unlock();
            if (auto r = load_sipi_state(vcpu, vector); !r) return failed(r.error());
            lock.lock();
            self.waiting_for_sipi = false;
            lock.unlock();
            result.changed = true;
            republish();
            return result;
        }
        // A processor waiting for SIPI executes nothing: a step has nothing to do.
        if (step) {
            result.stop = startup_stop(self.id, StopCause::step);
            return result;
        }
        if (self.stop_requested || self.command == VcpuThread::Command::quit) {
            result.stop = startup_stop(self.id, StopCause::interrupted);
            return result;
        }
        self.wake.wait(lock, [&] {
            return self.init_pending || self.sipi_vector || self.stop_requested ||
                   self.command == VcpuThread::Command::quit;
        });
    }
}

std::optional<WatchHit> Machine::Impl::complete_mmio(Vcpu& vcpu, VcpuThread& self,
                                                     const MmioAccess& access) {
    if (memory.region_at(access.gpa)) return page_watches.complete_access(access);
    // Outside guest memory.  IA32_APIC_BASE is read at each such access: the guest may have
    // moved its APIC's page or disabled it since.
    auto sregs = vcpu.get_system_registers();
    {
        std::lock_guard lock(mutex);
        if (sregs) self.lapic.set_base(sregs->apic_base);
        if (self.lapic.claims(access.gpa)) {
            const std::uint64_t offset = access.gpa & (x86::apic_page_size - 1);
            if (!access.is_write) {
                self.lapic.read(offset, access.data);
                return std::nullopt;
            }
            // EOI, TPR and SVR writes change what the xAPIC delivers.
            self.interrupts_changed = true;
            if (auto ipi = self.lapic.write(offset, access.data)) send_ipi(self.id, *ipi);
            return std::nullopt;
        }
    }
    return page_watches.complete_access(access);  // the empty bus
}

void Machine::Impl::send_ipi(unsigned from, const x86::Ipi& ipi) {
    // The INIT level de-assert only synchronised the P6 family's APIC bus; later processors
    // ignore it (SDM vol. 3A, 10.6.1).
    if (x86::is_init_deassert(ipi)) return;
    std::vector<x86::ApicAddress> apics;
    apics.reserve(vcpus.size());
    for (const auto& v : vcpus) apics.push_back(v->lapic.address());
    const std::vector<unsigned> targets = x86::ipi_destinations(ipi, from, apics);
    switch (ipi.mode) {
        case x86::DeliveryMode::init:
            for (unsigned t : targets) deliver_init(*vcpus[t], from);
            return;
        case x86::DeliveryMode::startup:
            for (unsigned t : targets) deliver_sipi(*vcpus[t], ipi.vector);
            return;
        case x86::DeliveryMode::fixed:
            for (unsigned t : targets) deliver_fixed(*vcpus[t], ipi, from);
            return;
        case x86::DeliveryMode::lowest_priority: {
            // To one of them: the lowest arbitration priority, the lowest index on a tie (SDM
            // vol. 3A, 10.6.2.4; how a system picks is model specific).
            auto lowest = std::ranges::min_element(
                targets, {}, [&](unsigned t) { return vcpus[t]->lapic.arbitration_priority(); });
            if (lowest != targets.end()) deliver_fixed(*vcpus[*lowest], ipi, from);
            return;
        }
        case x86::DeliveryMode::nmi:
            for (unsigned t : targets) deliver_nmi(*vcpus[t], from);
            return;
        default:
            break;  // SMI (no system-management mode here) and the reserved modes
    }
    const unsigned bit = 1u << static_cast<unsigned>(ipi.mode);
    if (reported_ipi_modes & bit) return;
    reported_ipi_modes |= bit;
    if (log)
        log(fmt::format(
            "vCPU {} sent an IPI with delivery mode {} (vector {:#04x}); hvgdb does not deliver "
            "those, so this one and any more are dropped",
            from, delivery_mode_name(ipi.mode), ipi.vector));
}

Result<void> Machine::Impl::deliver_interrupts(Vcpu& vcpu, VcpuThread& self, bool step) {
    if (step) {
        vcpu.request_interrupt_window(false);
        return {};
    }
    if (self.nmi_pending.exchange(false))
        if (auto r = vcpu.inject_nmi(); !r) return r;
    std::optional<std::uint8_t> vector;
    if (self.interrupts_changed.load()) {
        std::lock_guard lock(mutex);
        vector = self.lapic.deliverable();
        if (!vector) self.interrupts_changed = false;  // until the next change
    }
    if (!vector) {
        vcpu.request_interrupt_window(false);
        return {};
    }
    if (vcpu.interrupt_window_open()) {
        // The interrupt is taken: the xAPIC moves it to in-service (SDM vol. 3A, 10.8.4).
        auto queued = vcpu.inject_interrupt(*vector);
        if (!queued) return std::unexpected(queued.error());
        if (*queued) {
            std::lock_guard lock(mutex);
            self.lapic.acknowledge(*vector);
        }
    }
    // This one, if it could not go in, or the next: an exit as soon as the guest can take it.
    vcpu.request_interrupt_window(true);
    return {};
}

}  // namespace hvgdb::vcpu
