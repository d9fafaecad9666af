// The adapter: gdbstub's Target implemented over vcpu's Machine.  The one place where both
// layers are known.  Thread ids are vCPU index + 1.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/register_bindings.hpp"
#include "gdbstub/target.hpp"
#include "vcpu/machine.hpp"

namespace hvgdb::app {

class MachineTarget final : public gdbstub::Target {
  public:
    // Fails when a row of `arch` has no binding (a table mismatch, caught by a unit test).
    // `log` receives one line for each fault that stops the guest (what happened).
    static Result<std::unique_ptr<MachineTarget>> create(
        vcpu::Machine& machine, const gdbstub::arch::Arch& arch,
        std::function<void(const std::string&)> log = {});

    const gdbstub::arch::Arch& arch() const override { return arch_; }
    std::vector<gdbstub::ThreadId> threads() const override;
    Result<void> read_register(gdbstub::ThreadId, std::size_t regno,
                               std::span<std::uint8_t> out) override;
    Result<void> write_register(gdbstub::ThreadId, std::size_t regno,
                                std::span<const std::uint8_t> value) override;
    Result<std::size_t> read_memory(std::uint64_t addr, std::span<std::uint8_t> out) override;
    Result<void> write_memory(std::uint64_t addr, std::span<const std::uint8_t> data) override;
    Result<void> insert_breakpoint(gdbstub::BreakpointType, std::uint64_t addr,
                                   std::uint64_t kind) override;
    Result<void> remove_breakpoint(gdbstub::BreakpointType, std::uint64_t addr,
                                   std::uint64_t kind) override;
    Result<void> resume(std::span<const gdbstub::ThreadAction> actions) override;
    void interrupt() override;
    void detach() override;
    void kill() override;
    void set_stop_sink(std::function<void(const gdbstub::StopEvent&)> sink) override;

    // The stop as gdb sees it (public for tests).
    static gdbstub::StopEvent to_stop_event(const vcpu::VcpuStop&);

    // The PC as gdb sees it: the linear address of the next instruction, CS.base + IP
    // outside long mode, so breakpoints, memory and disassembly at $pc agree (public for
    // tests).  Setting it moves IP, and in real mode also CS when the address is outside
    // the current 64 KiB code segment.
    static std::uint64_t linear_pc(const vcpu::VcpuSnapshot&);
    static void set_linear_pc(vcpu::VcpuSnapshot&, std::uint64_t linear);

  private:
    MachineTarget(vcpu::Machine& machine, const gdbstub::arch::Arch& arch,
                  std::vector<const RegisterBinding*> rows,
                  std::function<void(const std::string&)> log);
    Result<unsigned> vcpu_of(gdbstub::ThreadId) const;

    vcpu::Machine& machine_;
    const gdbstub::arch::Arch& arch_;
    std::vector<const RegisterBinding*> rows_;  // by register number
    std::optional<std::size_t> pc_row_;         // the row gdb uses as the PC
    std::function<void(const std::string&)> log_;
    std::mutex sink_mutex_;
    std::function<void(const gdbstub::StopEvent&)> sink_;
};

}  // namespace hvgdb::app
