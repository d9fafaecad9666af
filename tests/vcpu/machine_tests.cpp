// Machine on the real KVM: run control, stops and debug traps on tiny real-mode guests.
// Needs /dev/kvm; the test binary says SKIPPED (exit 77) when it is not there.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vcpu/machine.hpp"
#include "vcpu/probe.hpp"

using namespace hvgdb::vcpu;

namespace {

constexpr std::uint64_t code = 0x7c00;
using vcpu_regs_view = hvgdb::vcpu::x86::Registers;

struct Harness {
    std::unique_ptr<Machine> machine;
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<VcpuStop> stop;
    std::string console;
    bool data_breakpoints = true;

    explicit Harness(const std::vector<std::uint8_t>& program) {
        auto probe = probe_host();
        REQUIRE(probe);
        MachineConfig config;
        config.ram_bytes = 1 << 20;
        config.mechanism = probe->mechanism;
        config.data_breakpoints = probe->data_breakpoints;
        data_breakpoints = probe->data_breakpoints;
        config.console = [this](std::string_view s) { console += s; };
        auto m = Machine::create(config);
        REQUIRE(m);
        machine = std::move(*m);
        std::memcpy(machine->ram().data() + code, program.data(), program.size());
        VcpuSnapshot s;  // real mode, CS=0
        s.sregs.cs.type = 0xb;
        s.sregs.ds.type = s.sregs.es.type = s.sregs.ss.type = s.sregs.fs.type = s.sregs.gs.type = 3;
        s.sregs.tr.type = 0xb;
        s.sregs.tr.s = false;
        s.sregs.ldt.type = 2;
        s.sregs.ldt.s = false;
        s.regs.rip = code;
        s.regs.rsp = 0x7000;
        machine->set_initial_state(0, s);
        machine->set_stop_handler([this](const VcpuStop& st) {
            std::lock_guard lock(mutex);
            stop = st;
            cv.notify_all();
        });
        REQUIRE(machine->start());
    }

    VcpuStop run(RunMode mode) {
        {
            std::lock_guard lock(mutex);
            stop.reset();
        }
        VcpuAction a{0, mode};
        machine->resume({&a, 1});
        return wait();
    }

    VcpuStop wait() {
        std::unique_lock lock(mutex);
        REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return stop.has_value(); }));
        return *stop;
    }
};

// mov dx,0xe9; mov al,'A'; out dx,al; mov al,'B'; out dx,al; mov al,5; out 0xf4,al
const std::vector<std::uint8_t> prints_and_exits = {0xba, 0xe9, 0x00, 0xb0, 'A',  0xee, 0xb0,
                                                    'B',  0xee, 0xb0, 0x05, 0xe6, 0xf4};
// jmp $
const std::vector<std::uint8_t> spins = {0xeb, 0xfe};
// inc word [0x500]; jmp short -6
const std::vector<std::uint8_t> counts = {0xff, 0x06, 0x00, 0x05, 0xeb, 0xfa};

}  // namespace

TEST_CASE("the guest prints and exits through the exit port") {
    Harness h(prints_and_exits);
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 11);
    CHECK(h.console == "AB");
}

TEST_CASE("the guest's own int3 goes to the guest's handler") {
    // int3 at 0x7c00; IVT vector 3 -> 0000:7c40, which exits with value 9.
    std::vector<std::uint8_t> program(0x44, 0x90);
    program[0] = 0xcc;
    program[0x40] = 0xb0;  // mov al, 9
    program[0x41] = 0x09;
    program[0x42] = 0xe6;  // out 0xf4, al
    program[0x43] = 0xf4;
    Harness h(program);
    const std::uint8_t vector3[] = {0x40, 0x7c, 0x00, 0x00};
    REQUIRE(h.machine->write_physical(3 * 4, vector3));
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 19);
}

TEST_CASE("single step advances one instruction and publishes registers") {
    Harness h(prints_and_exits);
    auto s = h.run(RunMode::step);
    CHECK(s.cause == StopCause::step);
    CHECK(h.machine->snapshot(0).regs.rip == code + 3);
    CHECK(h.machine->snapshot(0).regs.rdx == 0xe9);
}

TEST_CASE("every general register written while stopped reaches the vCPU unchanged") {
    Harness h(spins);
    auto snap = h.machine->snapshot(0);
    std::uint64_t* fields[] = {&snap.regs.rax, &snap.regs.rbx, &snap.regs.rcx, &snap.regs.rdx,
                               &snap.regs.rsi, &snap.regs.rdi, &snap.regs.rbp, &snap.regs.rsp,
                               &snap.regs.r8,  &snap.regs.r9,  &snap.regs.r10, &snap.regs.r11,
                               &snap.regs.r12, &snap.regs.r13, &snap.regs.r14, &snap.regs.r15};
    std::uint64_t value = 0x1111;
    for (auto* f : fields) *f = value++;
    h.machine->write_snapshot(0, snap);
    auto s = h.run(RunMode::step);  // jmp $ changes none of them
    CHECK(s.cause == StopCause::step);
    auto after = h.machine->snapshot(0);
    CHECK(after.regs.rbp == snap.regs.rbp);
    CHECK(after.regs.rsp == snap.regs.rsp);
    CHECK(std::memcmp(&after.regs, &snap.regs, offsetof(vcpu_regs_view, rip)) == 0);
}

TEST_CASE("a software breakpoint stops at its address and hides its byte") {
    Harness h(prints_and_exits);
    REQUIRE(h.machine->sw_breakpoints().insert(code + 9, code + 9));
    std::uint8_t byte = 0;
    REQUIRE(h.machine->read_physical(code + 9, {&byte, 1}));
    CHECK(byte == 0xb0);
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::sw_breakpoint);
    CHECK(s.address == code + 9);
    CHECK(h.machine->snapshot(0).regs.rip == code + 9);
    CHECK(h.console == "AB");
    REQUIRE(h.machine->sw_breakpoints().remove(code + 9, code + 9));
    s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::exited);
}

TEST_CASE("write watchpoints stop the store, or are refused where the host cannot report them") {
    Harness h(counts);
    auto inserted = h.machine->insert_hw_breakpoint({HwKind::write, 0x500, 2});
    if (!h.data_breakpoints) {
        // kvm_pvm: the probe found that data breakpoints never trap.
        REQUIRE_FALSE(inserted);
        CHECK(inserted.error().kind == hvgdb::ErrorKind::unsupported);
        return;
    }
    REQUIRE(inserted);
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::watchpoint);
    CHECK(s.address == 0x500);
    CHECK(s.access == VcpuStop::Access::write);
}

TEST_CASE("hardware breakpoints use the debug registers") {
    Harness h(counts);
    REQUIRE(h.machine->insert_hw_breakpoint({HwKind::execute, code + 4, 1}));
    auto s = h.run(RunMode::cont);
    CHECK(s.cause == StopCause::hw_breakpoint);
    CHECK(h.machine->snapshot(0).regs.rip == code + 4);
    std::uint16_t counter = 0;
    REQUIRE(h.machine->read_physical(0x500, {reinterpret_cast<std::uint8_t*>(&counter), 2}));
    CHECK(counter == 1);
    s = h.run(RunMode::cont);  // once around the loop
    CHECK(s.cause == StopCause::hw_breakpoint);
    REQUIRE(h.machine->read_physical(0x500, {reinterpret_cast<std::uint8_t*>(&counter), 2}));
    CHECK(counter == 2);
    REQUIRE(h.machine->remove_hw_breakpoint({HwKind::execute, code + 4, 1}));
    CHECK_FALSE(h.machine->remove_hw_breakpoint({HwKind::execute, code + 4, 1}));
}

TEST_CASE("a hardware breakpoint removed while the guest runs is gone at once") {
    // Spin until [0x600] != 0, then exit with 3; the breakpoint sits on the exit path.
    const std::vector<std::uint8_t> waits = {0x80, 0x3e, 0x00, 0x06, 0x00,  // cmp byte [0x600], 0
                                             0x74, 0xf9,                    // je 0x7c00
                                             0xb0, 0x03, 0xe6, 0xf4};       // mov al,3; out 0xf4,al
    Harness h(waits);
    REQUIRE(h.machine->insert_hw_breakpoint({HwKind::execute, code + 7, 1}));
    VcpuAction a{0, RunMode::cont};
    h.machine->resume({&a, 1});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    h.machine->clear_breakpoints();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::uint8_t go = 1;
    REQUIRE(h.machine->write_physical(0x600, {&go, 1}));
    auto s = h.wait();
    CHECK(s.cause == StopCause::exited);
    CHECK(s.exit_code == 7);
}

TEST_CASE("only four debug registers") {
    Harness h(spins);
    for (std::uint64_t i = 0; i < 4; ++i)
        REQUIRE(h.machine->insert_hw_breakpoint({HwKind::execute, 0x1000 + i, 1}));
    auto fifth = h.machine->insert_hw_breakpoint({HwKind::execute, 0x2000, 1});
    REQUIRE_FALSE(fifth);
    CHECK(fifth.error().kind == hvgdb::ErrorKind::target);
}

TEST_CASE("request_stop interrupts a spinning guest and a halted one") {
    Harness h(spins);
    VcpuAction a{0, RunMode::cont};
    h.machine->resume({&a, 1});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(h.machine->running());
    h.machine->request_stop();
    auto s = h.wait();
    CHECK(s.cause == StopCause::interrupted);
    CHECK_FALSE(h.machine->running());

    // A register write is staged and applied before the next run: jump to a hlt.
    h.machine->ram()[0x9000] = 0xf4;
    auto snap = h.machine->snapshot(0);
    snap.regs.rip = 0x9000;
    h.machine->write_snapshot(0, snap);
    h.stop.reset();
    h.machine->resume({&a, 1});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    h.machine->request_stop();
    s = h.wait();
    CHECK(s.cause == StopCause::interrupted);
    CHECK(h.machine->snapshot(0).regs.rip == 0x9001);
}

int main(int argc, char** argv) {
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        std::printf("SKIPPED: /dev/kvm is not available (%s)\n", std::strerror(errno));
        return 77;
    }
    ::close(fd);
    doctest::Context context(argc, argv);
    return context.run();
}
