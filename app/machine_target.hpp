// The adapter: gdbstub's Target implemented over vcpu's Machine.  The one place where both
// layers are known.  Thread ids are vCPU index + 1.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app/console_router.hpp"
#include "app/options.hpp"
#include "app/register_bindings.hpp"
#include "gdbstub/target.hpp"
#include "vcpu/machine.hpp"
#include "vcpu/x86/paging.hpp"

namespace hvgdb::app {

class MachineTarget final : public gdbstub::Target {
  public:
    // Fails when a row of a register view has no binding (a table mismatch, caught by a unit
    // test).  `forced_view`: the view every debugger gets whatever the CPU mode (--arch);
    // nullptr to start each debugger with the view of the mode the vCPU is in.  `log`
    // receives one line for each fault that stops the guest (what happened).
    static Result<std::unique_ptr<MachineTarget>> create(
        vcpu::Machine& machine, const gdbstub::arch::Arch* forced_view = nullptr,
        std::function<void(const std::string&)> log = {});

    const gdbstub::arch::Arch& arch() const override { return *view_->arch; }
    std::vector<gdbstub::ThreadId> threads() const override;
    std::string thread_description(gdbstub::ThreadId) const override;  // monitor.cpp
    Result<void> read_register(gdbstub::ThreadId, std::size_t regno,
                               std::span<std::uint8_t> out) override;
    // Every row from one snapshot.
    Result<void> read_registers(gdbstub::ThreadId, std::span<std::uint8_t> all,
                                std::vector<std::size_t>& unavailable) override;
    Result<void> write_register(gdbstub::ThreadId, std::size_t regno,
                                std::span<const std::uint8_t> value) override;
    Result<void> write_registers(gdbstub::ThreadId, std::span<const std::uint8_t> all) override;
    Result<std::size_t> read_memory(std::uint64_t addr, std::span<std::uint8_t> out) override;
    Result<void> write_memory(std::uint64_t addr, std::span<const std::uint8_t> data) override;
    Result<void> insert_breakpoint(gdbstub::BreakpointType, std::uint64_t addr,
                                   std::uint64_t kind) override;
    Result<void> remove_breakpoint(gdbstub::BreakpointType, std::uint64_t addr,
                                   std::uint64_t kind) override;
    // Every watch is listed with the page watches, also one a debug register holds.
    std::size_t watchpoint_slots() const override { return vcpu::PageWatches::max_watches; }
    Result<void> resume(std::span<const gdbstub::ThreadAction> actions) override;
    void interrupt() override;
    bool supports_non_stop() const override { return true; }
    Result<void> set_non_stop(bool on) override;
    bool thread_running(gdbstub::ThreadId) const override;
    void select_thread(gdbstub::ThreadId) override;
    bool detach(gdbstub::AfterDetach after) override;
    void kill() override;
    void set_stop_sink(std::function<void(const gdbstub::StopEvent&)> sink) override;
    void attached() override;
    Result<std::string> monitor(std::string_view command) override;  // monitor.cpp
    std::string stop_notice(const gdbstub::StopEvent& event) override;
    void set_console_sink(std::function<void(std::string_view)> sink) override;
    std::vector<gdbstub::MemoryRange> memory_map() const override;

    // The map memory_map() gives (--memory-map); paged unless set.  Before a debugger comes.
    void set_memory_map_mode(MemoryMapMode mode) { memory_map_mode_ = mode; }
    // The guest console, for `monitor console` and for forwarding its text to the debugger.
    // Before a debugger comes; without one the target forwards nothing.
    void set_console(std::shared_ptr<ConsoleRouter> console);

    // The register view that suits a CPU state: x86-64 for 64-bit code, i386 for 32-bit code
    // (protected or compatibility mode), i8086 for real mode and 16-bit protected mode.
    static const gdbstub::arch::Arch& natural_view(const vcpu::x86::SystemRegisters&);

    // The stop as gdb sees it (public for tests).
    static gdbstub::StopEvent to_stop_event(const vcpu::VcpuStop&);

    // The PC as gdb sees it: the linear address of the next instruction, CS.base + IP
    // outside long mode, so breakpoints, memory and disassembly at $pc agree (public for
    // tests).  Setting it moves IP, and in real mode also CS when the address is outside
    // the current 64 KiB code segment.  An address the mode's CS:IP cannot reach (above
    // FFFF:FFFF in real mode, beyond a 16-bit segment) is an error and changes nothing.
    static std::uint64_t linear_pc(const vcpu::VcpuSnapshot&);
    static Result<void> set_linear_pc(vcpu::VcpuSnapshot&, std::uint64_t linear);

    // Memory addresses (m, M, X, software breakpoints) are linear, as the guest's code uses
    // them, and go through the page tables of the debugger's current thread's vCPU (SDM
    // vol. 3A, chapter 4), as it was at its last stop.  In physical mode
    // they are guest-physical addresses, used as they are.  Session thread only.
    void set_physical_memory(bool on) { physical_memory_ = on; }
    bool physical_memory() const { return physical_memory_; }
    // The guest-physical root table to translate with instead of CR3's (a kernel's tables
    // while the guest is stopped in user code, say); nullopt for CR3's.
    void set_page_table_root(std::optional<std::uint64_t> root) { page_table_root_ = root; }
    std::optional<std::uint64_t> page_table_root() const { return page_table_root_; }
    // Where `linear` leads through those page tables, whether or not physical mode is on.
    Result<vcpu::x86::Translation> translate(std::uint64_t linear) const;

    // How `monitor reset` writes the image into the cleared RAM again: the load start-up did
    // (main).  Without it `monitor reset` is refused.  Before a debugger comes.
    void set_reload(std::function<Result<void>()> reload) { reload_ = std::move(reload); }
    // `monitor quit` asked to end hvgdb.
    bool end_requested() const override { return end_requested_; }

  private:
    // A register table and the snapshot fields its rows are bound to.
    struct View {
        const gdbstub::arch::Arch* arch;
        std::vector<const RegisterBinding*> rows;  // by register number
        std::optional<std::size_t> pc_row;         // the row gdb uses as the PC
        vcpu::SnapshotParts parts;                 // what its rows need of a snapshot
    };

    MachineTarget(vcpu::Machine& machine, std::vector<View> views,
                  const gdbstub::arch::Arch* forced_view,
                  std::function<void(const std::string&)> log);
    Result<unsigned> vcpu_of(gdbstub::ThreadId) const;
    // Register `regno` of the current view (a row that exists, `out` its size) from `s`.
    void read_row(std::size_t regno, vcpu::VcpuSnapshot& s, std::span<std::uint8_t> out) const;
    // Register `regno` of the current view set to `value` in `s` (not yet applied).
    Result<void> set_row(vcpu::VcpuSnapshot& s, std::size_t regno,
                         std::span<const std::uint8_t> value) const;
    const View& view_of(const gdbstub::arch::Arch&) const;
    // The vCPU whose mode picks the view: the one that stopped last.
    vcpu::VcpuSnapshot reporting_snapshot() const;
    Result<std::string> monitor_view(std::string_view argument);  // monitor.cpp

    // monitor_machine.cpp: the commands about the machine's state.  Those that read gdb's
    // current thread's registers refuse while it runs (non-stop mode); reset needs every
    // vCPU stopped.
    Result<void> require_stopped(std::string_view command) const;
    std::string run_state(unsigned vcpu) const;  // "stopped", "running, waiting for SIPI"...
    Result<std::string> monitor_regs() const;
    Result<std::string> monitor_walk(std::span<const std::string_view> arguments) const;
    Result<std::string> monitor_xp(std::span<const std::string_view> arguments) const;
    std::string monitor_devices() const;
    Result<std::string> monitor_reset();
    std::string monitor_quit();
    std::function<Result<void>()> reload_;
    bool end_requested_ = false;

    vcpu::Machine& machine_;
    std::vector<View> views_;  // one per x86 register table
    const View* view_;         // what the debugger sees now
    const gdbstub::arch::Arch* forced_view_;
    // Session thread only: the debugger follows mode changes itself (it asked for the view
    // by mode), or was already told about this mismatch.
    bool following_ = false;
    const gdbstub::arch::Arch* noticed_ = nullptr;
    std::atomic<unsigned> last_stopped_vcpu_{0};
    unsigned selected_vcpu_ = 0;  // session thread only: whose page tables memory uses
    bool non_stop_ = false;       // session thread only: set_non_stop's mode
    std::function<void(const std::string&)> log_;
    std::mutex sink_mutex_;
    std::function<void(const gdbstub::StopEvent&)> sink_;

    // Memory addressing (see set_physical_memory); session thread only.
    Result<vcpu::x86::Translation> memory_translation(std::uint64_t address) const;
    // What page walks read paging structures with: guest-physical memory, whole or not at all.
    vcpu::x86::PhysicalReader page_table_reader() const;
    // Where `length` bytes from `address` are in guest-physical memory, page by page
    // (adjacent pieces joined); the translation's error when a page is not mapped.
    Result<std::vector<vcpu::PhysicalRange>> physical_ranges(std::uint64_t address,
                                                             std::uint64_t length) const;
    bool physical_memory_ = false;
    std::optional<std::uint64_t> page_table_root_;
    // Software breakpoints by linear address -> the guest-physical address they were inserted
    // at, so one is removed where it was even after the guest changed its page tables.
    std::map<std::uint64_t, std::uint64_t> sw_breakpoint_gpa_;

    MemoryMapMode memory_map_mode_ = MemoryMapMode::paged;
    std::shared_ptr<ConsoleRouter> console_;
    Result<std::string> monitor_console(
        std::span<const std::string_view> arguments);  // monitor.cpp
};

}  // namespace hvgdb::app
