// Watchpoints by page protection on the real KVM: Vm::protect and the memory slots it makes,
// PageWatches over a real VM, and the machine's write, read and access watches on real-mode
// guests (stops after the instruction, accesses beside the watched bytes, software
// breakpoints on watched pages, instructions fetched from them, more watches than the debug
// registers hold).  Part of the hvgdb_machine_tests binary, whose main says SKIPPED without
// /dev/kvm.
#include <doctest/doctest.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/vcpu/machine_harness.hpp"
#include "vcpu/kvm/vm_impl.hpp"
#include "vcpu/page_watches.hpp"

using namespace hvgdb::vcpu;
using testing::code;
using testing::Harness;

namespace {

constexpr std::uint64_t page = 4096;

std::uint16_t word_at(Machine& m, std::uint64_t gpa) {
    std::uint16_t v = 0;
    REQUIRE(m.read_physical(gpa, {reinterpret_cast<std::uint8_t*>(&v), 2}));
    return v;
}

// A guest-physical watch in real mode, where linear and physical addresses are the same.
hvgdb::Result<void> watch(Machine& m, WatchKind kind, std::uint64_t at, std::uint64_t length) {
    return m.insert_watchpoint({kind, at, length},
                               std::vector<PhysicalRange>{PhysicalRange{at, length}});
}

// A watchpoint's stop for `access` at `address`, with the vCPU after the instruction, at `rip`.
void check_watch_stop(Harness& h, const VcpuStop& s, VcpuStop::Access access, std::uint64_t address,
                      std::uint64_t rip) {
    CHECK(s.cause == StopCause::watchpoint);
    CHECK(s.access == access);
    CHECK(s.address == address);
    CHECK(h.machine->snapshot(0).regs.rip == rip);
}

// Lets the guest run a while, then stops it; the stop.
VcpuStop run_a_while(Harness& h) {
    VcpuAction a{0, RunMode::cont};
    h.stop.reset();
    h.machine->resume({&a, 1});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(h.machine->running());
    h.machine->request_stop();
    return h.wait();
}

// Page protection even where the debug registers could take a watch.
void no_data_breakpoints(MachineConfig& c) {
    c.data_breakpoints = false;
}

// A VM with 64 KiB of RAM at 0 and one real-mode vCPU, driven directly.
struct BareVm {
    static constexpr std::uint64_t size = 0x10000;
    std::uint8_t* ram = nullptr;
    std::unique_ptr<Vm> vm;
    std::unique_ptr<Vcpu> vcpu;

    BareVm() {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(p != MAP_FAILED);
        ram = static_cast<std::uint8_t*>(p);
        std::memset(ram, 0xf4, size);  // anything that runs away halts
        auto v = Vm::create();
        REQUIRE(v);
        vm = std::move(*v);
        REQUIRE(vm->map({ram, size}, 0, MemoryPermissions::read_write_execute));
        auto c = Vcpu::create(*vm, 0);
        REQUIRE(c);
        vcpu = std::move(*c);
    }
    ~BareVm() {
        vcpu.reset();
        vm.reset();
        ::munmap(ram, size);
    }

    Exit run_at(std::uint64_t ip, const std::vector<std::uint8_t>& program) {
        std::memcpy(ram + ip, program.data(), program.size());
        auto s = testing::real_mode(0, 0, ip);
        REQUIRE(vcpu->set_system_registers(s.sregs));
        REQUIRE(vcpu->set_registers(s.regs));
        auto exit = vcpu->run();
        REQUIRE(exit);
        return *exit;
    }
    std::uint64_t rip() { return vcpu->get_registers()->rip; }

    std::vector<kvm::MemorySlot> slots() {
        std::vector<kvm::MemorySlot> out;
        for (const auto& s : vm->impl().slots) out.push_back(s.shape);
        std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.gpa < b.gpa; });
        return out;
    }
};

}  // namespace

TEST_CASE("Vm::protect splits the RAM slot, coalesces pages, and gives the slot back") {
    BareVm b;
    const auto original = b.slots();
    REQUIRE(original.size() == 1);

    REQUIRE(b.vm->protect(0x5000, page, MemoryPermissions::read_execute));
    REQUIRE(b.vm->protect(0x6000, page, MemoryPermissions::read_execute));  // joins 0x5000
    REQUIRE(b.vm->protect(0x8000, page, MemoryPermissions::none));
    auto slots = b.slots();
    REQUIRE(slots.size() == 4);
    CHECK(slots[0] == kvm::MemorySlot{0, 0x5000, b.ram, false});
    CHECK(slots[1] == kvm::MemorySlot{0x5000, 0x2000, b.ram + 0x5000, true});
    CHECK(slots[2] == kvm::MemorySlot{0x7000, 0x1000, b.ram + 0x7000, false});
    CHECK(slots[3] == kvm::MemorySlot{0x9000, 0x7000, b.ram + 0x9000, false});

    // A store to a read-only page exits as an MMIO write after the instruction; a load from a
    // page without access exits before it; a fetch there cannot be emulated.
    auto exit = b.run_at(0x1000, {0xa3, 0x10, 0x50, 0xf4});  // mov [0x5010], ax; hlt
    auto* mmio = std::get_if<MmioAccess>(&exit);
    REQUIRE(mmio);
    CHECK(mmio->is_write);
    CHECK(mmio->gpa == 0x5010);
    CHECK(b.rip() == 0x1003);
    auto done = b.vcpu->finish_instruction();
    REQUIRE(done);
    CHECK(std::holds_alternative<Kicked>(*done));  // nothing after the store ran
    CHECK(b.rip() == 0x1003);

    exit = b.run_at(0x1100, {0xa1, 0x10, 0x80, 0xf4});  // mov ax, [0x8010]; hlt
    mmio = std::get_if<MmioAccess>(&exit);
    REQUIRE(mmio);
    CHECK_FALSE(mmio->is_write);
    CHECK(b.rip() == 0x1100);
    std::memset(mmio->data.data(), 0x42, mmio->data.size());
    done = b.vcpu->finish_instruction();
    REQUIRE(done);
    CHECK(std::holds_alternative<Kicked>(*done));
    CHECK(b.rip() == 0x1103);
    CHECK((b.vcpu->get_registers()->rax & 0xffff) == 0x4242);

    exit = b.run_at(0x8000, {0x90});
    auto* failed = std::get_if<InternalError>(&exit);
    REQUIRE(failed);
    CHECK(failed->emulation);
    CHECK(b.rip() == 0x8000);

    // Every page back: the one slot as it was, and stores reach RAM without an exit.
    REQUIRE(b.vm->protect(0x5000, 0x2000, MemoryPermissions::read_write_execute));
    REQUIRE(b.vm->protect(0x8000, page, MemoryPermissions::read_write_execute));
    CHECK(b.slots() == original);
    exit = b.run_at(0x1200, {0xb8, 0x34, 0x12, 0xa3, 0x10, 0x50, 0xf4});  // mov [0x5010], 0x1234
    CHECK(std::holds_alternative<Halt>(exit));
    CHECK(b.ram[0x5010] == 0x34);
}

TEST_CASE("Vm::protect refuses bad ranges and needing more slots than KVM has") {
    BareVm b;
    CHECK(b.vm->protect(0x5001, page, MemoryPermissions::none).error().kind ==
          hvgdb::ErrorKind::invalid);
    CHECK(b.vm->protect(0x5000, 100, MemoryPermissions::none).error().kind ==
          hvgdb::ErrorKind::invalid);
    CHECK(b.vm->protect(BareVm::size, page, MemoryPermissions::none).error().kind ==
          hvgdb::ErrorKind::invalid);
    const auto before = b.slots();
    b.vm->impl().max_slots = 2;  // a page in the middle needs three
    auto r = b.vm->protect(0x5000, page, MemoryPermissions::read_execute);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == hvgdb::ErrorKind::target);
    CHECK(b.slots() == before);
    CHECK(b.vm->protect(0, page, MemoryPermissions::read_execute));  // at the edge: two
}

TEST_CASE("page watches protect the pages they need and restore them when removed") {
    BareVm b;
    PhysicalMemory memory({b.ram, BareVm::size});
    SwBreakpoints breakpoints(memory, SwBreakpointMechanism::int3);
    PageWatches watches(*b.vm, memory, breakpoints);
    const auto original = b.slots();

    REQUIRE(watches.insert({WatchKind::write, 0x5010, 2, {{0x5010, 2}}}));
    CHECK(b.slots().size() == 3);  // RAM, the read-only page, RAM
    REQUIRE(watches.insert({WatchKind::access, 0x5020, 4, {{0x5020, 4}}}));
    CHECK(b.slots().size() == 2);  // the page has no slot now
    // A watch across a page boundary protects both pages, as one range.
    REQUIRE(watches.insert({WatchKind::write, 0x6ff0, 0x20, {{0x6ff0, 0x20}}}));
    CHECK(b.slots().size() == 3);
    CHECK(b.slots()[1] == kvm::MemorySlot{0x6000, 0x2000, b.ram + 0x6000, true});

    // Accesses complete on RAM; only the watched bytes count.
    std::uint8_t data[2] = {0x11, 0x22};
    CHECK_FALSE(watches.complete_access({0x5030, data, true}));
    CHECK(b.ram[0x5030] == 0x11);
    auto hit = watches.complete_access({0x5021, data, false});
    REQUIRE(hit);
    CHECK(hit->linear == 0x5020);
    CHECK(hit->kind == WatchKind::access);
    CHECK_FALSE(watches.complete_access({0x5010, data, false}));  // a write watch: reads pass
    CHECK(watches.complete_access({0x7000, data, true}));

    // A removal takes effect at apply() (the machine's next resume), and only for pages no
    // watch wants by then: gdb removes its watches at each stop and inserts them again.
    const auto three_watches = b.slots();
    REQUIRE(watches.remove(WatchKind::write, 0x6ff0, 0x20));
    REQUIRE(watches.insert({WatchKind::write, 0x6ff0, 0x20, {{0x6ff0, 0x20}}}));
    REQUIRE(watches.remove(WatchKind::access, 0x5020, 4));
    CHECK(b.slots() == three_watches);
    watches.apply();
    CHECK(b.slots().size() == 3);  // 0x5000 read-only again, one range with 0x6000 and 0x7000
    CHECK(b.slots()[1] == kvm::MemorySlot{0x5000, 0x3000, b.ram + 0x5000, true});
    CHECK_FALSE(watches.remove(WatchKind::access, 0x5020, 4));
    REQUIRE(watches.remove(WatchKind::write, 0x5010, 2));
    watches.clear();  // at once
    CHECK(b.slots() == original);
    CHECK(watches.empty());

    // Refused: too long, outside memory, pieces that do not add up.
    CHECK_FALSE(watches.insert({WatchKind::write,
                                0x100,
                                PageWatches::max_length + 1,
                                {{0x100, PageWatches::max_length + 1}}}));
    CHECK_FALSE(watches.insert({WatchKind::read, 0x100000, 4, {{0x100000, 4}}}));
    CHECK_FALSE(watches.insert({WatchKind::read, 0x100, 4, {{0x100, 2}}}));
    CHECK(b.slots() == original);
}

TEST_CASE("a write watch stops after the store, which has reached memory") {
    // inc word [0x500]; jmp short -6
    Harness h({0xff, 0x06, 0x00, 0x05, 0xeb, 0xfa}, no_data_breakpoints);
    REQUIRE(watch(*h.machine, WatchKind::write, 0x500, 2));
    for (std::uint16_t n = 1; n <= 2; ++n) {
        check_watch_stop(h, h.run(RunMode::cont), VcpuStop::Access::write, 0x500, code + 4);
        CHECK(word_at(*h.machine, 0x500) == n);
    }
    REQUIRE(h.machine->remove_watchpoint({WatchKind::write, 0x500, 2}));
    CHECK_FALSE(h.machine->remove_watchpoint({WatchKind::write, 0x500, 2}));
}

TEST_CASE("writes beside the watched bytes complete and do not stop") {
    Harness h(
        {
            0xc7, 0x06, 0x00, 0x06, 0x34, 0x12,  // mov word [0x600], 0x1234
            0xc7, 0x06, 0x02, 0x05, 0x78, 0x56,  // mov word [0x502], 0x5678 (just after)
            0xff, 0x06, 0x00, 0x05,              // inc word [0x500]
            0xeb, 0xfe,                          // jmp $
        },
        no_data_breakpoints);
    REQUIRE(watch(*h.machine, WatchKind::write, 0x500, 2));
    check_watch_stop(h, h.run(RunMode::cont), VcpuStop::Access::write, 0x500, code + 16);
    CHECK(word_at(*h.machine, 0x600) == 0x1234);
    CHECK(word_at(*h.machine, 0x502) == 0x5678);
    CHECK(word_at(*h.machine, 0x500) == 1);
}

TEST_CASE("a read watch stops after the load with the value from memory") {
    Harness h({
        0xc7, 0x06, 0x10, 0x05, 0x07, 0x00,  // mov word [0x510], 7 (same page, not watched)
        0xa1, 0x00, 0x05,                    // mov ax, [0x500]
        0xa3, 0x02, 0x06,                    // mov [0x602], ax
        0xeb, 0xfe,                          // jmp $
    });
    const std::uint16_t value = 0x4242;
    REQUIRE(h.machine->write_physical(0x500, {reinterpret_cast<const std::uint8_t*>(&value), 2}));
    REQUIRE(watch(*h.machine, WatchKind::read, 0x500, 2));
    check_watch_stop(h, h.run(RunMode::cont), VcpuStop::Access::read, 0x500, code + 9);
    CHECK((h.machine->snapshot(0).regs.rax & 0xffff) == 0x4242);
    CHECK(word_at(*h.machine, 0x510) == 7);
    // The store of the value is no read: the guest runs on until stopped.
    CHECK(run_a_while(h).cause == StopCause::interrupted);
    CHECK(word_at(*h.machine, 0x602) == 0x4242);
}

TEST_CASE("an access watch stops after a read-modify-write has completed") {
    Harness h({0xff, 0x06, 0x00, 0x05, 0xeb, 0xfa});  // inc word [0x500]; jmp short -6
    REQUIRE(watch(*h.machine, WatchKind::access, 0x500, 2));
    check_watch_stop(h, h.run(RunMode::cont), VcpuStop::Access::access, 0x500, code + 4);
    CHECK(word_at(*h.machine, 0x500) == 1);
}

TEST_CASE("a single step over a store to a watched page runs one instruction") {
    // mov [0x600], ax; nop; nop; jmp $ -- with the page of 0x600 read-only for a watch
    Harness h({0xa3, 0x00, 0x06, 0x90, 0x90, 0xeb, 0xfe}, no_data_breakpoints);
    REQUIRE(watch(*h.machine, WatchKind::write, 0x500, 2));
    auto s = h.run(RunMode::step);
    CHECK(s.cause == StopCause::step);
    CHECK(h.machine->snapshot(0).regs.rip == code + 3);
    CHECK(h.run(RunMode::step).cause == StopCause::step);
    CHECK(h.machine->snapshot(0).regs.rip == code + 4);
}

TEST_CASE("more watches than debug registers, of any length, across a page boundary") {
    std::vector<std::uint8_t> program;
    const std::uint64_t targets[] = {0x500, 0x510, 0x520, 0x530, 0x540, 0x550, 0xffe};
    for (std::uint64_t t : targets) {  // mov word [t], 1
        const std::uint8_t store[] = {0xc7, 0x06, std::uint8_t(t), std::uint8_t(t >> 8), 1, 0};
        program.insert(program.end(), std::begin(store), std::end(store));
    }
    program.insert(program.end(), {0xeb, 0xfe});
    Harness h(program);  // the host's own choice: debug registers first where they work
    for (std::uint64_t t : targets) REQUIRE(watch(*h.machine, WatchKind::write, t, 2));
    // 0xffe..0x1001 across pages 0 and 1, watched by one 4-byte watch at 0xffe as well.
    REQUIRE(watch(*h.machine, WatchKind::access, 0xffe, 4));
    for (std::size_t i = 0; i < std::size(targets); ++i) {
        auto s = h.run(RunMode::cont);
        check_watch_stop(h, s, VcpuStop::Access::write, targets[i], code + 6 * (i + 1));
    }
    auto unmapped = h.machine->insert_watchpoint(
        {WatchKind::read, 0x700, 2}, hvgdb::make_error(hvgdb::ErrorKind::target, "not mapped"));
    REQUIRE_FALSE(unmapped);
    CHECK(unmapped.error().context == "not mapped");
    h.machine->clear_breakpoints();
    CHECK_FALSE(h.machine->remove_watchpoint({WatchKind::write, 0x500, 2}));
}

TEST_CASE("a software breakpoint on a watched page, and the guest writing its byte") {
    // The code's page (0x7000) holds the watched word at 0x7e00 too.
    std::vector<std::uint8_t> program(0x24, 0x90);
    const std::uint8_t head[] = {
        0xc6, 0x06, 0x20, 0x7c, 0x48,        // mov byte [0x7c20], 0x48 (dec ax over inc ax)
        0xc7, 0x06, 0x00, 0x7e, 0x01, 0x00,  // mov word [0x7e00], 1
        0xeb, 0x13,                          // jmp 0x7c20
    };
    std::memcpy(program.data(), head, sizeof head);
    program[0x20] = 0x40;  // inc ax
    program[0x21] = 0xeb;  // jmp $
    program[0x22] = 0xfe;
    Harness h(program, no_data_breakpoints);
    REQUIRE(h.machine->sw_breakpoints().insert(code + 0x20, code + 0x20));
    REQUIRE(watch(*h.machine, WatchKind::write, 0x7e00, 2));

    // The write over the breakpoint byte does not stop.
    check_watch_stop(h, h.run(RunMode::cont), VcpuStop::Access::write, 0x7e00, code + 11);
    std::uint8_t byte = 0;
    REQUIRE(h.machine->read_physical(code + 0x20, {&byte, 1}));
    CHECK(byte == 0x48);  // the guest's byte, as the original under the breakpoint
    CHECK(h.machine->ram()[code + 0x20] ==
          breakpoint_opcode(h.machine->sw_breakpoints().mechanism()));

    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::sw_breakpoint);
    CHECK(s.address == code + 0x20);
    const auto rax = h.machine->snapshot(0).regs.rax;
    REQUIRE(h.machine->sw_breakpoints().remove(code + 0x20, code + 0x20));
    CHECK(h.machine->ram()[code + 0x20] == 0x48);
    CHECK(h.run(RunMode::step).cause == StopCause::step);
    CHECK((h.machine->snapshot(0).regs.rax & 0xffff) == ((rax - 1) & 0xffff));
}

TEST_CASE("instructions fetched from a read-watched page run; their own reads there pass") {
    // Code and the watched word share page 0x7000; more code on page 0x8000.
    std::vector<std::uint8_t> program = {
        0xa1, 0x00, 0x7e,                    // 7c00: mov ax, [0x7e00] (same page: not seen)
        0xc7, 0x06, 0x00, 0x7e, 0x05, 0x00,  // 7c03: mov word [0x7e00], 5 (a write)
        0xe9, 0xf8, 0x03,                    // 7c09: jmp 0x8004
    };
    Harness h(program, no_data_breakpoints);
    const std::uint8_t far[] = {
        0x8b, 0x1e, 0x00, 0x7e,  // 8004: mov bx, [0x7e00] (another page: seen)
        0xeb, 0xfe,              // 8008: jmp $
    };
    std::memcpy(h.machine->ram().data() + 0x8004, far, sizeof far);
    h.machine->ram()[0x7c40] = 0xf4;  // hlt, on the watched page
    const std::uint16_t value = 0x1111;
    REQUIRE(h.machine->write_physical(0x7e00, {reinterpret_cast<const std::uint8_t*>(&value), 2}));
    REQUIRE(h.machine->sw_breakpoints().insert(code + 3, code + 3));
    REQUIRE(watch(*h.machine, WatchKind::read, 0x7e00, 2));

    auto s = h.run(RunMode::cont);  // a breakpoint on the watched page
    CHECK(s.cause == StopCause::sw_breakpoint);
    CHECK(h.machine->snapshot(0).regs.rip == code + 3);
    CHECK((h.machine->snapshot(0).regs.rax & 0xffff) == 0x1111);
    REQUIRE(h.machine->sw_breakpoints().remove(code + 3, code + 3));

    check_watch_stop(h, h.run(RunMode::cont), VcpuStop::Access::read, 0x7e00, 0x8008);
    CHECK((h.machine->snapshot(0).regs.rbx & 0xffff) == 5);

    // An access watch sees the write from the watched page itself.
    REQUIRE(h.machine->remove_watchpoint({WatchKind::read, 0x7e00, 2}));
    REQUIRE(watch(*h.machine, WatchKind::access, 0x7e00, 2));
    auto snap = h.machine->snapshot(0);
    snap.regs.rip = code + 3;
    REQUIRE(h.machine->write_snapshot(0, snap));
    check_watch_stop(h, h.run(RunMode::cont), VcpuStop::Access::access, 0x7e00, code + 9);

    // A hlt fetched from the watched page halts the guest as it would without the watch.
    snap = h.machine->snapshot(0);
    snap.regs.rip = 0x7c40;
    REQUIRE(h.machine->write_snapshot(0, snap));
    CHECK(run_a_while(h).cause == StopCause::interrupted);
    CHECK(h.machine->snapshot(0).regs.rip == 0x7c41);
}

TEST_CASE("watches set and cleared while the guest runs do not stop it") {
    // Memory slots are replaced meanwhile, and RAM is briefly absent each time: the guest's
    // fetches and stores then fail or exit, and must run again or complete.
    Harness h({0xa3, 0x00, 0x06, 0x40, 0xeb, 0xfa},  // L: mov [0x600], ax; inc ax; jmp L
              no_data_breakpoints);
    VcpuAction a{0, RunMode::cont};
    h.machine->resume({&a, 1});
    for (int i = 0; i < 30; ++i) {
        REQUIRE(watch(*h.machine, WatchKind::read, 0x500, 2));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        h.machine->clear_breakpoints();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(h.machine->running());
    h.machine->request_stop();
    CHECK(h.wait().cause == StopCause::interrupted);
    CHECK(word_at(*h.machine, 0x600) != 0);
}
