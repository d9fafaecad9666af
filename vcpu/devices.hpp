// The small port-I/O device bus: a table of port ranges -> devices.  COM1 16550 subset,
// the 0xe9 debug console and the isa-debug-exit compatible exit port.  Depends on std only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace hvgdb::vcpu {

using ConsoleSink = std::function<void(std::string_view)>;

// What a port write asks of the machine beyond the device itself.
struct PortEffect {
    std::optional<int> exit_code;  // the guest asked to end the run with this code
};

// One register of a device as a debugger shows it.
struct DeviceRegister {
    std::string_view name;
    std::uint32_t value;
};

class PortDevice {
  public:
    virtual ~PortDevice() = default;
    // `offset` is relative to the device's first port; `size` is 1, 2 or 4 bytes.
    virtual std::uint32_t read(std::uint16_t offset, unsigned size) = 0;
    virtual PortEffect write(std::uint16_t offset, unsigned size, std::uint32_t value) = 0;
    // For the debugger: what the device is, and the state it holds, without the side effects
    // a guest read may have.
    virtual std::string_view name() const = 0;
    virtual std::vector<DeviceRegister> registers() const { return {}; }
    // Back to the state the device powers up in.
    virtual void reset() {}
};

// A device on the bus and its ports, as the debugger sees it.
struct PortDeviceState {
    std::uint16_t first, count;
    std::string_view name;
    std::vector<DeviceRegister> registers;
};

class PortBus {
  public:
    void add(std::uint16_t first, std::uint16_t count, std::shared_ptr<PortDevice> device);

    // One access; unclaimed ports read as all ones and ignore writes, like an empty ISA bus.
    std::uint32_t read(std::uint16_t port, unsigned size);
    PortEffect write(std::uint16_t port, unsigned size, std::uint32_t value);

    // A KVM-style I/O exit: `count` accesses of `size` bytes in `data`.
    void read_string(std::uint16_t port, unsigned size, std::span<std::uint8_t> data);
    PortEffect write_string(std::uint16_t port, unsigned size, std::span<const std::uint8_t> data);

    // Every device in port order, for the debugger; nullopt when a vCPU holds the bus longer
    // than `wait`, e.g. blocked writing to a console whose reader does not read.
    std::optional<std::vector<PortDeviceState>> devices(
        std::chrono::milliseconds wait = std::chrono::milliseconds(200)) const;
    // Every device reset.
    void reset();

  private:
    struct Range {
        std::uint16_t first, count;
        std::shared_ptr<PortDevice> device;
    };
    const Range* find(std::uint16_t port) const;
    std::vector<Range> ranges_;
    mutable std::timed_mutex mutex_;  // vCPU threads share the bus
};

// A console sink shared by several devices, serialized.
class Console {
  public:
    explicit Console(ConsoleSink sink) : sink_(std::move(sink)) {}
    void put(char c);

  private:
    ConsoleSink sink_;
    std::mutex mutex_;
};

// 16550 UART subset (registers as in the PC16550D data sheet): the transmitter writes to the
// console, the line status always says "transmitter empty", the rest are plain storage.
class Uart16550 final : public PortDevice {
  public:
    explicit Uart16550(std::shared_ptr<Console> console) : console_(std::move(console)) {}
    std::uint32_t read(std::uint16_t offset, unsigned size) override;
    PortEffect write(std::uint16_t offset, unsigned size, std::uint32_t value) override;
    std::string_view name() const override { return "COM1, 16550 UART"; }
    // IER IIR LCR MCR LSR MSR SCR, and the divisor latch DLL DLM.
    std::vector<DeviceRegister> registers() const override;
    void reset() override;

  private:
    std::shared_ptr<Console> console_;
    std::uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scratch_ = 0, dll_ = 1, dlm_ = 0;
};

// Port 0xe9 (Bochs/QEMU debugcon): a written byte is printed; a read returns 0xe9 so guests
// can detect it.
class DebugConsole final : public PortDevice {
  public:
    explicit DebugConsole(std::shared_ptr<Console> console) : console_(std::move(console)) {}
    std::uint32_t read(std::uint16_t, unsigned) override { return 0xe9; }
    PortEffect write(std::uint16_t offset, unsigned size, std::uint32_t value) override;
    std::string_view name() const override { return "debug console (a byte written is printed)"; }

  private:
    std::shared_ptr<Console> console_;
};

// QEMU's isa-debug-exit: writing V ends the run with exit code (V << 1) | 1.
class ExitPort final : public PortDevice {
  public:
    std::uint32_t read(std::uint16_t, unsigned) override { return 0xffffffff; }
    PortEffect write(std::uint16_t, unsigned, std::uint32_t value) override {
        return {static_cast<int>(((value << 1) | 1) & 0xff)};
    }
    std::string_view name() const override {
        return "exit port (isa-debug-exit: writing V ends the run with (V << 1) | 1)";
    }
};

// The PC platform's standard ports: COM1 at 0x3f8, debugcon at 0xe9, exit at 0xf4.
std::unique_ptr<PortBus> make_pc_port_bus(ConsoleSink sink);

}  // namespace hvgdb::vcpu
