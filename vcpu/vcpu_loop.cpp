// The vCPU thread: wait for a command, apply staged state, run until something the debugger
// must see, publish a snapshot, report the stop.  Plus the all-stop bookkeeping around it.
#include "vcpu/vcpu_loop.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "vcpu/faults.hpp"
#include "vcpu/x86/paging.hpp"

namespace hvgdb::vcpu {

namespace {

constexpr std::uint64_t dr7_fixed = 0x400;  // bit 10 reads as 1
constexpr std::uint64_t dr7_ge = 0x200;     // exact breakpoint match
constexpr std::uint64_t rflags_if = 0x200;  // interrupts enabled
std::uint64_t dr7_bits(unsigned slot, const HwBreakpoint& bp) {
    // R/W: 00 execute, 01 write, 11 read/write.  LEN: 00 1, 01 2, 11 4, 10 8 bytes.
    std::uint64_t rw = bp.kind == HwKind::execute ? 0 : bp.kind == HwKind::write ? 1 : 3;
    std::uint64_t len = 0;
    if (bp.kind != HwKind::execute) len = bp.len == 2 ? 1 : bp.len == 4 ? 3 : bp.len == 8 ? 2 : 0;
    return (2ull << (2 * slot)) | (rw << (16 + 4 * slot)) | (len << (18 + 4 * slot));
}

// Where the vCPU will fetch its next instruction.
// The guest-physical address `linear` leads to under the vCPU's own page tables (the
// breakpoint table knows bytes, gdb's addresses are linear); nullopt when nothing maps it.
std::optional<std::uint64_t> physical_of(const PhysicalMemory& memory,
                                         const x86::SystemRegisters& sregs, std::uint64_t linear) {
    auto read = [&memory](std::uint64_t gpa, std::span<std::uint8_t> out) {
        return memory.read_raw(gpa, out);
    };
    auto t = x86::translate(x86::paging_control(sregs), linear, read);
    if (!t) return std::nullopt;
    return t->physical;
}

// IP one byte back (onto a one-byte breakpoint), wrapping as the mode's IP does.
std::uint64_t instruction_pointer_before(const x86::SystemRegisters& sregs, std::uint64_t ip) {
    switch (x86::cpu_mode(sregs)) {
        case x86::CpuMode::long64:
            return ip - 1;
        case x86::CpuMode::protected32:
            return (ip - 1) & 0xffffffffu;
        default:
            return (ip - 1) & 0xffffu;
    }
}

Result<std::uint64_t> next_instruction(Vcpu& vcpu) {
    auto regs = vcpu.get_registers();
    if (!regs) return std::unexpected(regs.error());
    auto sregs = vcpu.get_system_registers();
    if (!sregs) return std::unexpected(sregs.error());
    return x86::code_linear_address(*sregs, regs->rip);
}

// The MSRs of x86::msr_fields.  One the host will not read keeps the value it has in `msrs`.
void read_msrs(Vcpu& vcpu, x86::ModelSpecificRegisters& msrs) {
    std::array<x86::MsrEntry, std::size(x86::msr_fields)> list;
    for (std::size_t i = 0; i < list.size(); ++i)
        list[i] = {x86::msr_fields[i].index, msrs.*x86::msr_fields[i].field};
    (void)vcpu.get_msrs(list);  // the entries it could read are filled either way
    for (std::size_t i = 0; i < list.size(); ++i) msrs.*x86::msr_fields[i].field = list[i].value;
}

}  // namespace

namespace {

// The general and system registers into `s`.
Result<void> take_cpu(Vcpu& vcpu, VcpuSnapshot& s) {
    auto regs = vcpu.get_registers();
    if (!regs) return std::unexpected(regs.error());
    auto sregs = vcpu.get_system_registers();
    if (!sregs) return std::unexpected(sregs.error());
    s.regs = *regs;
    s.sregs = *sregs;
    return {};
}

}  // namespace

Result<void> take_rest(Vcpu& vcpu, VcpuSnapshot& s) {
    auto fpu = vcpu.get_fpu();
    if (!fpu) return std::unexpected(fpu.error());
    s.fpu = *fpu;
    // Debug registers and MSRs are shown as far as the host lets us read them; the guest runs
    // and is debugged without them.
    if (auto debug = vcpu.get_debug_registers()) s.debug = *debug;
    read_msrs(vcpu, s.msrs);
    return {};
}

Result<VcpuSnapshot> take_snapshot(Vcpu& vcpu) {
    VcpuSnapshot s;
    if (auto r = take_cpu(vcpu, s); !r) return std::unexpected(r.error());
    if (auto r = take_rest(vcpu, s); !r) return std::unexpected(r.error());
    return s;
}

// The initial state: what a loader sets (debug registers and MSRs keep their reset values).
Result<void> load_snapshot(Vcpu& vcpu, const VcpuSnapshot& s) {
    // System registers first: KVM derives the mode that RIP and RFLAGS are checked against.
    if (auto r = vcpu.set_system_registers(s.sregs); !r) return r;
    if (auto r = vcpu.set_registers(s.regs); !r) return r;
    return vcpu.set_fpu(s.fpu);
}

namespace {

// The MSRs that differ between `from` and `to`, set to their values in `to`; nothing is
// written when one of them is read-only.
Result<void> set_changed_msrs(Vcpu& vcpu, const VcpuSnapshot& to, const VcpuSnapshot& from) {
    std::vector<x86::MsrEntry> changed;
    for (const x86::MsrField& f : x86::msr_fields) {
        if (to.msrs.*f.field == from.msrs.*f.field) continue;
        if (!f.writable)
            return make_error(ErrorKind::target, fmt::format("MSR {:#x} is read-only", f.index));
        changed.push_back({f.index, to.msrs.*f.field});
    }
    return vcpu.set_msrs(changed);
}

// One part of the vCPU state as the hypervisor sets it, for writes that change only some.
struct StatePart {
    bool (*differs)(const VcpuSnapshot&, const VcpuSnapshot&);
    Result<void> (*apply)(Vcpu&, const VcpuSnapshot& to, const VcpuSnapshot& from);
};
using S = const VcpuSnapshot&;
constexpr StatePart state_parts[] = {
    // System registers first, as in load_snapshot.
    {[](S a, S b) { return a.sregs != b.sregs; },
     [](Vcpu& v, S to, S) { return v.set_system_registers(to.sregs); }},
    {[](S a, S b) { return a.regs != b.regs; },
     [](Vcpu& v, S to, S) { return v.set_registers(to.regs); }},
    {[](S a, S b) { return a.fpu != b.fpu; }, [](Vcpu& v, S to, S) { return v.set_fpu(to.fpu); }},
    {[](S a, S b) { return a.debug != b.debug; },
     [](Vcpu& v, S to, S) { return v.set_debug_registers(to.debug); }},
    {[](S a, S b) { return a.msrs != b.msrs; }, set_changed_msrs},
};

// Takes the vCPU from `from` (its current state) to `to`, setting only the parts that differ.
// When the hypervisor refuses one, the parts already set go back to `from`: a refused write
// leaves the vCPU as it was.
Result<void> apply_changes(Vcpu& vcpu, const VcpuSnapshot& from, const VcpuSnapshot& to) {
    for (std::size_t i = 0; i < std::size(state_parts); ++i) {
        if (!state_parts[i].differs(from, to)) continue;
        auto r = state_parts[i].apply(vcpu, to, from);
        if (r) continue;
        for (std::size_t j = 0; j <= i; ++j)
            if (state_parts[j].differs(from, to)) (void)state_parts[j].apply(vcpu, from, to);
        Error e = r.error();
        e.kind = ErrorKind::target;  // the debugger's write is refused, the machine goes on
        return std::unexpected(e);
    }
    return {};
}

VcpuStop stop_of(unsigned id, StopCause cause, std::uint64_t address = 0) {
    VcpuStop s;
    s.vcpu = id;
    s.cause = cause;
    s.address = address;
    return s;
}

VcpuStop fault(unsigned id, std::string detail, FaultKind kind = FaultKind::host_error) {
    VcpuStop s = stop_of(id, StopCause::fault);
    s.fault = kind;
    s.detail = std::move(detail);
    return s;
}

VcpuStop exited(unsigned id, int code) {
    VcpuStop s = stop_of(id, StopCause::exited);
    s.exit_code = code;
    return s;
}

VcpuStop watchpoint(unsigned id, const HwBreakpoint& bp) {
    VcpuStop s = stop_of(id, StopCause::watchpoint, bp.linear);
    s.access = bp.kind == HwKind::write ? VcpuStop::Access::write : VcpuStop::Access::access;
    return s;
}

// The stop for an exit the vCPU cannot go on from, in words that say where it happened.
VcpuStop fault_stop(Vcpu& vcpu, unsigned id, const Exit& exit, const PhysicalMemory& memory) {
    auto regs = vcpu.get_registers();
    auto sregs = vcpu.get_system_registers();
    if (!regs || !sregs)
        return fault(id, "a fault stopped the vCPU, and its registers cannot be read: " +
                             (regs ? sregs.error() : regs.error()).message());
    auto report = describe_fault(exit, *regs, *sregs, memory);
    if (!report) return fault(id, "a fault stopped the vCPU");
    return fault(id, std::move(report->text), report->kind);
}

// Whether the debugger left the CPU state as the fault did (memory aside).
bool same_cpu_state(const VcpuSnapshot& a, const VcpuSnapshot& b) {
    return a.regs == b.regs && a.sregs == b.sregs && a.fpu == b.fpu;
}

}  // namespace

Machine::Impl::Impl(std::unique_ptr<Vm> vm_, std::span<std::uint8_t> ram_,
                    const MachineConfig& config)
    : vm(std::move(vm_)),
      ram(ram_),
      memory(ram_),
      ports(make_pc_port_bus(config.console)),
      breakpoints(memory, config.mechanism),
      page_watches(*vm, memory, breakpoints),
      data_breakpoints(config.data_breakpoints),
      log(config.log) {
    for (unsigned i = 0; i < config.cpus; ++i) {
        vcpus.push_back(std::make_unique<VcpuThread>());
        auto& v = *vcpus.back();
        v.id = i;
        // vCPU 0 is the bootstrap processor; the others are APs and wait for INIT and SIPI
        // (SDM vol. 3A, 8.4.1), unless set_initial_state gives them a state to run from.
        v.lapic = x86::Lapic(static_cast<std::uint8_t>(i), x86::reset_apic_base(i == 0));
        v.waiting_for_sipi = i != 0;
    }
}

Machine::Impl::~Impl() {
    shutdown();
    vm.reset();  // slots go before the memory behind them
    ::munmap(ram.data(), ram.size());
    for (auto rom : roms) ::munmap(rom.data(), rom.size());
}

Result<void> Machine::Impl::start() {
    for (auto& v : vcpus) v->thread = std::thread([this, &v = *v] { thread_main(v); });
    std::unique_lock lock(mutex);
    started = true;
    start_done.wait(lock, [&] { return threads_ready == vcpus.size(); });
    if (start_error) {
        Error e = *start_error;
        lock.unlock();
        shutdown();
        return std::unexpected(e);
    }
    return {};
}

void Machine::Impl::report_ready(std::optional<Error> error) {
    std::lock_guard lock(mutex);
    if (error && !start_error) start_error = std::move(error);
    ++threads_ready;
    start_done.notify_all();
}

Result<void> Machine::Impl::apply_debug(Vcpu& vcpu, VcpuThread& self, bool step) {
    self.debug_dirty = false;  // before reading: a change after this read sets it again
    DebugControl debug;
    {
        std::lock_guard lock(mutex);
        debug = debug_control(step);
    }
    if (step && self.step_plan && self.step_plan->entry)
        add_step_catch(debug, self.step_plan->entry->handler);
    // A step sets the controls again even when they are the same: KVM sets RFLAGS.TF only
    // while RIP is where the controls were last set, and drops it when RFLAGS is written
    // elsewhere (the debugger's register write, an instruction KVM emulated), so the next
    // step would run free.
    if (self.applied_debug == debug && !step) return {};
    if (auto r = vcpu.set_debug(debug); !r) {
        self.applied_debug.reset();
        return r;
    }
    self.applied_debug = debug;
    return {};
}

void Machine::Impl::debug_state_changed() {
    // Running vCPUs take the new debug registers at once: a kick makes them re-apply them at
    // the top of their run loop and go on (see run_until_stop).
    for (auto& v : vcpus) {
        if (!v->running) continue;
        v->debug_dirty = true;
        if (v->kick) v->kick->kick();
    }
}

DebugControl Machine::Impl::debug_control(bool step) const {
    DebugControl d;
    d.single_step = step;
    d.trap_software_breakpoints = breakpoints.mechanism() == SwBreakpointMechanism::int3;
    bool any = false;
    for (unsigned i = 0; i < hw_slots.size(); ++i) {
        if (!hw_slots[i]) continue;
        d.dr[i] = hw_slots[i]->linear;
        d.dr7 |= dr7_bits(i, *hw_slots[i]);
        any = true;
    }
    if (any) d.dr7 |= dr7_fixed | dr7_ge;
    return d;
}

void Machine::Impl::thread_main(VcpuThread& self) {
    // "vcpu<N>", for thread lists (top -H, ps -L, a debugger on hvgdb itself).
    ::pthread_setname_np(::pthread_self(), fmt::format("vcpu{}", self.id).c_str());
    auto created = Vcpu::create(*vm, self.id);
    if (!created) return report_ready(created.error());
    Vcpu& vcpu = **created;
    // Load the initial state and publish it before start() returns, so the first snapshot
    // anyone reads is the real one and a write staged after start() is never overwritten.
    // An AP waiting for SIPI holds the INIT state.
    VcpuSnapshot initial;
    {
        std::lock_guard lock(mutex);
        initial = self.waiting_for_sipi ? init_state : self.snapshot;
        self.snapshot_dirty = false;
        initial.sregs.apic_base = self.lapic.base();
    }
    auto loaded = load_snapshot(vcpu, initial);
    auto published = loaded ? take_snapshot(vcpu) : std::unexpected(loaded.error());
    if (!published) return report_ready(published.error());
    if (published->sregs.apic_base != initial.sregs.apic_base)
        return report_ready(
            Error{ErrorKind::fatal, 0,
                  fmt::format("vCPU {}: KVM keeps IA32_APIC_BASE at {:#x}, not {:#x}", self.id,
                              published->sregs.apic_base, initial.sregs.apic_base)});
    {
        std::lock_guard lock(mutex);
        self.snapshot = *published;
        self.reset_state = *published;
        self.reset_waits_for_sipi = self.waiting_for_sipi;
        self.kick = vcpu.kick_handle();  // only now: others may kick a vCPU that can run
    }
    report_ready(std::nullopt);

    // The last stop was this vCPU's instruction breakpoint at this address.
    bool hw_breakpoint_hit = false;
    std::uint64_t hw_breakpoint_address = 0;
    // A fault (triple fault, internal error, failed entry) stopped the vCPU in this state.  It
    // does not enter the guest again from there: it would fault again, or run on from a state
    // the hardware leaves undefined.  Resuming reports the same fault again, until the
    // debugger writes the registers or guest memory (repairs an IDT, say); then the vCPU runs
    // from what it holds.
    struct StuckFault {
        VcpuStop stop;
        VcpuSnapshot state;
        std::uint64_t memory_writes;  // the debugger's memory writes so far
    };
    std::optional<StuckFault> stuck;
    auto finish = [&](VcpuStop stop) {
        std::optional<VcpuStop> sticks;
        if (stop.cause == StopCause::fault && stop.fault != FaultKind::host_error) sticks = stop;
        finish_stop(vcpu, self, std::move(stop));
        if (!sticks) return;
        std::lock_guard lock(mutex);  // the snapshot finish_stop published
        stuck = StuckFault{std::move(*sticks), self.snapshot, debugger_memory_writes.load()};
    };
    for (;;) {
        VcpuThread::Command command;
        std::optional<VcpuSnapshot> staged;
        {
            std::unique_lock lock(mutex);
            self.wake.wait(lock, [&] { return self.command != VcpuThread::Command::none; });
            command = self.command;
            self.command = VcpuThread::Command::none;
            if (self.snapshot_dirty) {
                staged = self.snapshot;
                self.snapshot_dirty = false;
            }
        }
        if (command == VcpuThread::Command::quit) {
            std::lock_guard lock(mutex);
            self.kick.reset();
            return;
        }
        if (command == VcpuThread::Command::write) {
            apply_write(vcpu, self);
            // The debugger wrote registers (perhaps the same values, after repairing memory):
            // a faulted vCPU runs again from what it holds now.
            stuck.reset();
            continue;
        }
        if (command == VcpuThread::Command::read_rest) {
            read_rest(vcpu, self);
            continue;
        }
        const bool step = command == VcpuThread::Command::step;

        if (staged) {
            if (auto r = load_snapshot(vcpu, *staged); !r) {
                finish_stop(vcpu, self,
                            fault(self.id, "cannot load registers: " + r.error().message()));
                continue;
            }
        }
        // An INIT or SIPI that came while the vCPU was stopped, and the wait for SIPI.
        auto startup = take_startup(vcpu, self, step);
        if (startup.changed) {
            stuck.reset();
            hw_breakpoint_hit = false;
        }
        if (startup.stop) {
            finish_stop(vcpu, self, std::move(*startup.stop));
            continue;
        }
        if (stuck) {
            VcpuSnapshot now;
            {
                std::lock_guard lock(mutex);
                now = self.snapshot;
            }
            if (same_cpu_state(now, stuck->state) &&
                debugger_memory_writes.load() == stuck->memory_writes) {
                VcpuStop again = stuck->stop;
                again.detail = repeated_fault_text(stuck->stop.detail);
                finish_stop(vcpu, self, std::move(again));
                continue;
            }
            stuck.reset();
        }
        if (hw_breakpoint_hit) {
            // Resuming at the instruction breakpoint that just hit would hit it again at once.
            // The CPU's answer, RFLAGS.RF, is not honoured by every host (kvm_pvm ignores it),
            // so step over the instruction with the debug registers off, then go on.
            auto at = next_instruction(vcpu);
            if (at && *at == hw_breakpoint_address) {
                plan_step(self);
                VcpuStop first;
                if (auto r = arm_step_over(vcpu, self, /*catch_interrupt_entry=*/true); !r)
                    first = fault(self.id, r.error().message());
                else
                    first = run_until_stop(vcpu, self, true, /*debug_registers_off=*/true);
                first = finish_step(vcpu, self, std::move(first), /*debug_registers_off=*/true);
                if (first.cause != StopCause::step || step) {
                    // Stopped before the instruction ran (Ctrl-C): still at the breakpoint.
                    hw_breakpoint_hit = first.cause == StopCause::interrupted;
                    finish(std::move(first));
                    continue;
                }
            }
        }
        if (step) plan_step(self);
        if (auto r = apply_debug(vcpu, self, step); !r) {
            self.step_plan.reset();
            finish_stop(vcpu, self,
                        fault(self.id, "cannot set debug state: " + r.error().message()));
            continue;
        }
        VcpuStop stop = run_until_stop(vcpu, self, step, false);
        if (step) stop = finish_step(vcpu, self, std::move(stop), false);
        hw_breakpoint_hit = stop.cause == StopCause::hw_breakpoint;
        hw_breakpoint_address = stop.address;
        finish(std::move(stop));
    }
}

void Machine::Impl::finish_stop(Vcpu& vcpu, VcpuThread& self, VcpuStop stop) {
    // The general and system registers only, which KVM_RUN has left in the run area where the
    // host can (no ioctl); the rest when asked for (snapshot()), as each ioctl costs a vCPU
    // load, dear on a nested host.  A fault's state is read whole: thread_main keeps it to
    // compare.
    const bool whole = stop.cause == StopCause::fault;
    VcpuSnapshot snap;
    {
        std::lock_guard lock(mutex);
        snap = self.snapshot;
    }
    auto read = take_cpu(vcpu, snap);
    if (read && whole) read = take_rest(vcpu, snap);
    if (read) {
        std::lock_guard lock(mutex);
        self.snapshot = snap;
        self.snapshot_partial = !whole;
        self.lapic.set_base(snap.sregs.apic_base);
    } else if (!whole) {
        stop = fault(self.id, "cannot read registers: " + read.error().message());
    }
    publish_stop(self, std::move(stop));
}

void Machine::Impl::read_rest(Vcpu& vcpu, VcpuThread& self) {
    VcpuSnapshot snap;
    {
        std::lock_guard lock(mutex);
        snap = self.snapshot;
    }
    // What the host will not read keeps its earlier value, as at a whole read.
    (void)take_rest(vcpu, snap);
    {
        std::lock_guard lock(mutex);
        self.snapshot = snap;
        self.snapshot_partial = false;
    }
    self.write_done.notify_all();
}

VcpuSnapshot Machine::Impl::snapshot(unsigned id, SnapshotParts parts) {
    std::unique_lock lock(mutex);
    VcpuThread& v = *vcpus.at(id);
    // The rest is read on the vCPU's thread while it waits for a command: not before it has
    // loaded its state, not while it runs (non-stop mode), not from that thread itself.
    if (parts == SnapshotParts::all && v.snapshot_partial && v.kick && !v.running && !shut_down &&
        v.command == VcpuThread::Command::none && std::this_thread::get_id() != v.thread.get_id()) {
        v.command = VcpuThread::Command::read_rest;
        v.wake.notify_all();
        v.write_done.wait(lock, [&] { return !v.snapshot_partial || shut_down; });
    }
    return v.snapshot;
}

void Machine::Impl::apply_write(Vcpu& vcpu, VcpuThread& self) {
    VcpuSnapshot before, after;
    bool partial = false;
    {
        std::lock_guard lock(mutex);
        before = self.snapshot;
        partial = self.snapshot_partial;
        after = std::move(*self.write_request);
        self.write_request.reset();
    }
    // What the vCPU holds, to compare with (the write itself starts from snapshot(all)).
    if (partial) (void)take_rest(vcpu, before);
    Result<void> result = apply_changes(vcpu, before, after);
    // Publish what the vCPU holds now, which may differ from what was asked (KVM sets
    // CR0.ET and EFER.LMA itself, for one).  The TSC stays the one read at the stop, so that
    // writing back every register unchanged (gdb's 'G') does not see a read-only row move.
    auto fresh = take_snapshot(vcpu);
    if (fresh)
        fresh->msrs.tsc = before.msrs.tsc;
    else if (result)
        result = make_error(ErrorKind::target,
                            "cannot read registers after a write: " + fresh.error().message());
    {
        std::lock_guard lock(mutex);
        if (fresh) {
            self.snapshot = *fresh;
            self.snapshot_partial = false;
            self.lapic.set_base(fresh->sregs.apic_base);
        }
        self.write_result = std::move(result);
    }
    self.write_done.notify_all();
}

Result<void> Machine::Impl::write_snapshot(unsigned id, const VcpuSnapshot& s) {
    std::unique_lock lock(mutex);
    VcpuThread& v = *vcpus.at(id);
    if (shut_down) return make_error(ErrorKind::target, "the machine has shut down");
    if (!v.kick) {  // the thread has not loaded its initial state yet: stage it
        v.snapshot = s;
        v.snapshot_dirty = true;
        return {};
    }
    if (v.running) return make_error(ErrorKind::target, fmt::format("vCPU {} is running", id));
    if (std::this_thread::get_id() == v.thread.get_id())  // it would wait for itself
        return make_error(ErrorKind::target, "a vCPU thread cannot write its own registers");
    v.write_request = s;
    v.write_result.reset();
    v.command = VcpuThread::Command::write;
    v.wake.notify_all();
    v.write_done.wait(lock, [&] { return v.write_result.has_value() || shut_down; });
    if (!v.write_result) return make_error(ErrorKind::target, "the machine has shut down");
    Result<void> result = std::move(*v.write_result);
    v.write_result.reset();
    return result;
}

Result<void> Machine::Impl::arm_step_over(Vcpu& vcpu, VcpuThread& self,
                                          bool catch_interrupt_entry) {
    DebugControl over;
    {
        std::lock_guard lock(mutex);
        over = debug_control(true);
    }
    over.dr7 = 0;
    if (catch_interrupt_entry && self.step_plan && self.step_plan->entry)
        add_step_catch(over, self.step_plan->entry->handler);
    self.applied_debug.reset();
    if (auto r = vcpu.set_debug(over); !r)
        return make_error(r.error().kind, "cannot step over a breakpoint: " + r.error().message());
    return {};
}

std::optional<VcpuStop> Machine::Impl::step_original(Vcpu& vcpu, VcpuThread& self, bool step,
                                                     std::uint64_t gpa) {
    self.debug_dirty = true;  // the run loop puts the debugger's own state back afterwards
    if (auto r = arm_step_over(vcpu, self, /*catch_interrupt_entry=*/false); !r)
        return fault(self.id, r.error().message());
    VcpuStop first;
    breakpoints.with_original(gpa, [&] { first = run_until_stop(vcpu, self, true, true); });
    if (first.cause != StopCause::step || step) return first;
    return std::nullopt;
}

VcpuStop Machine::Impl::run_until_stop(Vcpu& vcpu, VcpuThread& self, bool step,
                                       bool debug_registers_off) {
    const unsigned id = self.id;
    // A breakpoint's hlt byte at the step's start (plan_step): the stop an int3 there makes
    // before anything runs.  Run, the hlt would be completed by KVM and reported as the step's
    // trap, with the PC past the byte, inside the instruction it stands for.
    if (step && self.step_plan && self.step_plan->on_breakpoint)
        return stop_of(id, StopCause::sw_breakpoint, self.step_plan->pc);
    for (;;) {
        if (self.stop_requested.load()) return stop_of(id, StopCause::interrupted);
        if (startup_pending(self)) {  // an INIT from another vCPU, or from this one
            auto startup = take_startup(vcpu, self, step);
            if (startup.stop) return *startup.stop;
            if (startup.changed && step) return stop_of(id, StopCause::step);
            if (startup.changed) self.debug_dirty = true;
        }
        if (auto r = deliver_interrupts(vcpu, self, step); !r)
            return fault(id, "cannot inject an interrupt: " + r.error().message());
        if (self.debug_dirty.load() && !debug_registers_off) {
            if (auto r = apply_debug(vcpu, self, step); !r)
                return fault(id, "cannot set debug state: " + r.error().message());
        }
        auto exit = vcpu.run();
        if (!exit) return fault(id, exit.error().message());

        if (auto* out = std::get_if<IoOut>(&*exit)) {
            PortEffect e = ports->write_string(out->port, out->size, out->data);
            if (e.exit_code) return exited(id, *e.exit_code);
            // A step ends with the instruction: kvm_pvm would run the next one too before its
            // trap when the port access was an OUT.
            if (step) return finish_instruction(vcpu, id, std::nullopt);
        } else if (auto* in = std::get_if<IoIn>(&*exit)) {
            ports->read_string(in->port, in->size, in->data);
            if (step) return finish_instruction(vcpu, id, std::nullopt);
        } else if (auto* mmio = std::get_if<MmioAccess>(&*exit)) {
            // Guest memory exits only where it is protected (ROM, watched pages); elsewhere
            // the xAPIC page answers, or reads see an empty bus and writes are dropped.
            auto hit = complete_mmio(vcpu, self, *mmio);
            if (hit || step) return finish_instruction(vcpu, id, hit);
        } else if (auto* trap = std::get_if<DebugTrap>(&*exit)) {
            if (trap->vector == 3) {
                auto sregs = vcpu.get_system_registers();
                if (!sregs) return fault(id, "cannot read registers after int3");
                const auto gpa = physical_of(memory, *sregs, trap->pc);
                switch (breakpoints.classify(trap->pc, gpa)) {
                    case SwBreakpoints::Trap::breakpoint:
                        return stop_of(id, StopCause::sw_breakpoint, trap->pc);
                    case SwBreakpoints::Trap::removed:  // RIP is still at it: run the original
                        continue;
                    case SwBreakpoints::Trap::alias:
                        if (auto stop = step_original(vcpu, self, step, *gpa)) return *stop;
                        continue;
                    case SwBreakpoints::Trap::guest:
                        // The guest's own int3: hand it back (the CPU advances past it).
                        if (auto r = vcpu.inject_exception(3); !r)
                            return fault(id, r.error().message());
                        continue;
                }
            }
            // The catch of a step over a software interrupt (plan_step).  Off a hardware
            // breakpoint it may share a debug register with one of the debugger's.
            if (step && self.step_plan && self.step_plan->enters_handler_at(trap->pc))
                return stop_of(id, StopCause::step, trap->pc);
            bool stale = false;
            for (unsigned i = 0; i < 4; ++i) {
                if (!(trap->dr6 & (1u << i))) continue;
                std::optional<HwBreakpoint> bp;
                {
                    std::lock_guard lock(mutex);
                    bp = hw_slots[i];
                }
                if (!bp) {
                    // Removed while this vCPU ran into it: take the current debug registers
                    // and go on, instead of re-entering into the same stale trap.
                    self.debug_dirty = true;
                    stale = true;
                    continue;
                }
                if (bp->kind == HwKind::execute)
                    return stop_of(id, StopCause::hw_breakpoint, bp->linear);
                return watchpoint(id, *bp);
            }
            if (step) return stop_of(id, StopCause::step, trap->pc);
            if (stale) continue;
            // Not the debugger's: the guest's own single step (its TF), a hit in debug
            // registers it set itself, or ICEBP.  While hvgdb watches #DB every one exits
            // here; hand it back to the guest.
            if (auto r = vcpu.inject_exception(1); !r) return fault(id, r.error().message());
        } else if (std::holds_alternative<Halt>(*exit)) {
            auto regs = vcpu.get_registers();
            auto sregs = vcpu.get_system_registers();
            if (!regs || !sregs) return fault(id, "cannot read registers after hlt");
            if (breakpoints.mechanism() == SwBreakpointMechanism::hlt) {
                const std::uint64_t at = x86::code_linear_address(*sregs, regs->rip - 1);
                const auto gpa = physical_of(memory, *sregs, at);
                const auto origin = breakpoints.classify(at, gpa);
                if (origin != SwBreakpoints::Trap::guest) {
                    // Back onto the patched byte, as an int3 trap would leave it.
                    regs->rip = instruction_pointer_before(*sregs, regs->rip);
                    if (auto r = vcpu.set_registers(*regs); !r)
                        return fault(id, r.error().message());
                }
                if (origin == SwBreakpoints::Trap::breakpoint)
                    return stop_of(id, StopCause::sw_breakpoint, at);
                if (origin == SwBreakpoints::Trap::removed) continue;
                if (origin == SwBreakpoints::Trap::alias) {
                    if (auto stop = step_original(vcpu, self, step, *gpa)) return *stop;
                    continue;
                }
            }
            if (step) return stop_of(id, StopCause::step);
            if (auto stop = wait_while_halted(self, (regs->rflags & rflags_if) != 0)) return *stop;
        } else if (std::holds_alternative<Kicked>(*exit) ||
                   std::holds_alternative<InterruptWindow>(*exit)) {
            continue;  // the loop head checks why, and injects what the guest can take now
        } else if (std::holds_alternative<Shutdown>(*exit) ||
                   std::holds_alternative<InternalError>(*exit) ||
                   std::holds_alternative<EntryFailed>(*exit)) {
            if (auto* failed = std::get_if<InternalError>(&*exit); failed && failed->emulation)
                if (auto fetch = step_watched_fetch(vcpu, self, step, debug_registers_off);
                    fetch.handled) {
                    if (!fetch.stop) continue;
                    return *fetch.stop;
                }
            return fault_stop(vcpu, id, *exit, memory);
        } else if (auto* unknown = std::get_if<UnknownExit>(&*exit)) {
            return fault(id, fmt::format("unexpected KVM exit {}", unknown->reason));
        }
    }
}

std::optional<VcpuStop> Machine::Impl::wait_while_halted(VcpuThread& self, bool interruptible) {
    std::unique_lock lock(mutex);
    self.wake.wait(lock, [&] {
        return self.stop_requested.load() || self.command == VcpuThread::Command::quit ||
               self.init_pending.load() || self.nmi_pending.load() ||
               (interruptible && self.lapic.deliverable());
    });
    if (self.stop_requested.load() || self.command == VcpuThread::Command::quit)
        return stop_of(self.id, StopCause::interrupted);
    return std::nullopt;  // INIT, NMI and interrupts wake a halted processor
}

VcpuStop Machine::Impl::finish_instruction(Vcpu& vcpu, unsigned id, std::optional<WatchHit> hit) {
    // Re-entering KVM_RUN would complete the access and run on; a watchpoint stops after the
    // instruction that touched the watched bytes, as a debug-register one does (SDM vol. 3B,
    // 17.2.5: data breakpoints are traps), and a single step after its one instruction (KVM
    // would run the next one too before its trap when the access was a write).
    for (;;) {
        auto exit = vcpu.finish_instruction();
        if (!exit) return fault(id, exit.error().message());
        if (auto* mmio = std::get_if<MmioAccess>(&*exit)) {  // the same instruction goes on
            auto more = complete_mmio(vcpu, *vcpus[id], *mmio);
            if (!hit) hit = more;
        } else if (auto* out = std::get_if<IoOut>(&*exit)) {  // e.g. outs from a watched page
            PortEffect e = ports->write_string(out->port, out->size, out->data);
            if (e.exit_code) return exited(id, *e.exit_code);
        } else if (auto* in = std::get_if<IoIn>(&*exit)) {
            ports->read_string(in->port, in->size, in->data);
        } else {
            break;  // Kicked: done; a DebugTrap: the single step's, after the instruction
        }
    }
    if (!hit) return stop_of(id, StopCause::step);
    VcpuStop s = stop_of(id, StopCause::watchpoint, hit->linear);
    s.access = hit->kind == WatchKind::write  ? VcpuStop::Access::write
               : hit->kind == WatchKind::read ? VcpuStop::Access::read
                                              : VcpuStop::Access::access;
    return s;
}

Machine::Impl::FetchStep Machine::Impl::step_watched_fetch(Vcpu& vcpu, VcpuThread& self, bool step,
                                                           bool debug_registers_off) {
    // An instruction fetched from a page with no memory slot cannot be emulated: KVM reports
    // an emulation failure with RIP still at the instruction.
    auto regs = vcpu.get_registers();
    auto sregs = vcpu.get_system_registers();
    if (!regs || !sregs) return {};
    const std::uint64_t pc = x86::code_linear_address(*sregs, regs->rip);
    // An instruction is at most 15 bytes (SDM vol. 2A, 2.3.11): its first page, then maybe
    // the next; a step that still cannot fetch opens that one in a nested step.
    const auto pc_gpa = physical_of(memory, *sregs, pc);
    std::vector<std::uint64_t> pages;
    for (auto gpa : {pc_gpa, physical_of(memory, *sregs, pc + 14)})
        if (gpa) pages.push_back(*gpa & ~(PageWatches::page_size - 1));
    // Two levels: the instruction's two pages.  A failure with both open is not a fetch's.
    static thread_local unsigned depth = 0;
    static thread_local std::uint64_t layouts_seen = 0;
    if (depth >= 2) return {};
    auto opened = page_watches.open(pages);
    if (opened.empty()) {
        // Memory slots replaced while this vCPU ran (a watch removed meanwhile) leave memory
        // absent for a moment, and a fetch then fails the same way: once the change is done,
        // the instruction runs again.  A failure that repeats without a change is the host's.
        const std::uint64_t layouts = page_watches.layout_changes();
        if (layouts == layouts_seen) return {};
        layouts_seen = layouts;
        return {true, std::nullopt};
    }
    VcpuStop stop;
    std::uint8_t opcode = 0;
    if (pc_gpa && breakpoints.classify(pc, pc_gpa) == SwBreakpoints::Trap::breakpoint) {
        // Stepping a breakpoint's byte would run it: the stop it would have made instead.
        stop = stop_of(self.id, StopCause::sw_breakpoint, pc);
    } else if (auto r = step ? Result<void>() : apply_debug(vcpu, self, true); !r) {
        stop = fault(self.id, "cannot set debug state: " + r.error().message());
    } else {
        if (pc_gpa) (void)breakpoints.read(*pc_gpa, {&opcode, 1});
        ++depth;
        auto one = [&] { stop = run_until_stop(vcpu, self, true, debug_registers_off); };
        if (pc_gpa)  // a breakpoint byte reached through another address runs as the original
            breakpoints.with_original(*pc_gpa, one);
        else
            one();
        --depth;
    }
    self.debug_dirty = true;  // the run loop puts its own debug state back
    if (auto r = page_watches.close(opened); !r)
        return {true,
                fault(self.id, "cannot protect a watched page again: " + r.error().message())};
    if (step || stop.cause != StopCause::step) return {true, stop};
    // A hlt (F4) that ran in the step leaves the guest halted, as it would be without it.
    if (opcode == 0xf4) return {true, wait_while_halted(self, (regs->rflags & rflags_if) != 0)};
    return {true, std::nullopt};
}

void Machine::Impl::publish_stop(VcpuThread& self, VcpuStop stop) {
    std::function<void(const VcpuStop&)> handler;
    std::optional<VcpuStop> report;
    {
        std::lock_guard lock(mutex);
        if (!self.running) return;  // a stop nobody waits for (e.g. the initial state)
        self.running = false;
        --running_count;
        self.stop_requested = false;
        if (stop.cause == StopCause::interrupted && non_stop) {
            // Ctrl-C's SIGINT goes to one vCPU; the others it stopped report no signal.
            if (!self.quiet_stop && interrupt_owed)
                interrupt_owed = false;
            else
                stop.cause = StopCause::requested;
        }
        self.quiet_stop = false;
        if (non_stop && !primary_stop && stop.cause != StopCause::exited) {
            report = std::move(stop);  // this vCPU alone: the others run on
            handler = stop_handler;
        } else {
            if (!primary_stop) {
                primary_stop = stop;
                // All-stop, or the guest's exit: every other vCPU leaves the guest before the
                // stop is reported.
                for (auto& other : vcpus)
                    if (other->running) ask_to_stop(*other);
            } else if (stop.cause == StopCause::interrupted &&
                       primary_stop->cause == StopCause::interrupted && !self.waiting_for_sipi &&
                       vcpus[primary_stop->vcpu]->waiting_for_sipi) {
                // A Ctrl-C (or a debugger's attach) is reported on a vCPU that runs guest
                // code rather than on an AP that still waits for its SIPI, which answers first.
                primary_stop = std::move(stop);
            } else if (stop.cause != StopCause::interrupted && stop.cause != StopCause::requested &&
                       !non_stop) {
                pending_stops.push_back(std::move(stop));
            }
            if (running_count == 0) {
                report = std::move(primary_stop);
                primary_stop.reset();
                handler = stop_handler;
            }
        }
    }
    if (report && handler) handler(*report);
}

std::optional<VcpuStop> Machine::Impl::take_pending_stop(std::span<const VcpuAction> actions) {
    auto resumed = [&](unsigned id) {
        return std::ranges::any_of(actions, [id](const VcpuAction& a) { return a.vcpu == id; });
    };
    auto stands = [&](const VcpuStop& s) {
        // A breakpoint removed since: the vCPU is still at its instruction and runs it.
        if (s.cause == StopCause::sw_breakpoint) return breakpoints.contains_linear(s.address);
        if (s.cause == StopCause::hw_breakpoint)
            return std::ranges::any_of(hw_slots, [&](const std::optional<HwBreakpoint>& b) {
                return b && b->kind == HwKind::execute && b->linear == s.address;
            });
        return true;
    };
    for (auto it = pending_stops.begin(); it != pending_stops.end();) {
        if (!resumed(it->vcpu)) {
            ++it;
            continue;
        }
        if (!stands(*it)) {
            it = pending_stops.erase(it);
            continue;
        }
        VcpuStop stop = std::move(*it);
        pending_stops.erase(it);
        return stop;
    }
    return std::nullopt;
}

void Machine::Impl::resume(std::span<const VcpuAction> actions) {
    std::function<void(const VcpuStop&)> handler;
    std::vector<VcpuStop> reports;
    {
        std::lock_guard lock(mutex);
        // Nothing starts while the guest's exit waits for the vCPUs to leave (non-stop).
        if (shut_down || primary_stop || (!non_stop && running_count > 0)) return;
        // A stop that happened while another was being reported comes first.  All-stop: it
        // is the stop of this resume, and nothing runs.  Non-stop: those vCPUs report it,
        // the others run.
        while (auto pending = take_pending_stop(actions)) {
            reports.push_back(std::move(*pending));
            if (!non_stop) break;
        }
        handler = stop_handler;
        if (non_stop || reports.empty()) {
            for (const auto& a : actions) {
                if (a.vcpu >= vcpus.size()) continue;
                if (std::ranges::any_of(reports,
                                        [&](const VcpuStop& r) { return r.vcpu == a.vcpu; }))
                    continue;
                auto& v = *vcpus[a.vcpu];
                if (v.running) continue;
                v.command =
                    a.mode == RunMode::step ? VcpuThread::Command::step : VcpuThread::Command::run;
                v.running = true;
                v.stop_requested = false;
                v.quiet_stop = false;
                ++running_count;
            }
        }
    }
    // Woken once the lock is free, so that a vCPU thread does not wake only to wait for it.
    // A vCPU named here that did not start re-checks its wait and sleeps on.
    for (const auto& a : actions)
        if (a.vcpu < vcpus.size()) vcpus[a.vcpu]->wake.notify_all();
    if (handler)
        for (const auto& r : reports) handler(r);
}

void Machine::Impl::ask_to_stop(VcpuThread& v) {
    v.stop_requested = true;
    v.wake.notify_all();         // out of a wait (hlt, SIPI)
    if (v.kick) v.kick->kick();  // out of the guest
}

void Machine::Impl::request_stop() {
    std::lock_guard lock(mutex);
    for (auto& v : vcpus) {
        if (!v->running) continue;
        if (non_stop) interrupt_owed = true;
        v->quiet_stop = false;
        ask_to_stop(*v);
    }
}

void Machine::Impl::request_stop(std::span<const unsigned> ids) {
    std::lock_guard lock(mutex);
    for (unsigned id : ids) {
        if (id >= vcpus.size() || !vcpus[id]->running) continue;
        auto& v = *vcpus[id];
        if (!v.stop_requested) v.quiet_stop = true;  // a Ctrl-C under way keeps its signal
        ask_to_stop(v);
    }
}

void Machine::Impl::shutdown() {
    {
        std::lock_guard lock(mutex);
        if (shut_down || !started) {
            shut_down = true;
            return;
        }
        shut_down = true;
        for (auto& v : vcpus) {
            v->command = VcpuThread::Command::quit;
            ask_to_stop(*v);
            v->write_done.notify_all();
        }
    }
    for (auto& v : vcpus)
        if (v->thread.joinable()) v->thread.join();
}

}  // namespace hvgdb::vcpu
