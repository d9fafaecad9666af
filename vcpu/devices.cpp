// Port bus and the PC devices hvgdb emulates.
#include "vcpu/devices.hpp"

#include <algorithm>
#include <cstring>

namespace hvgdb::vcpu {

void PortBus::add(std::uint16_t first, std::uint16_t count, std::shared_ptr<PortDevice> device) {
    ranges_.push_back({first, count, std::move(device)});
}

const PortBus::Range* PortBus::find(std::uint16_t port) const {
    for (const auto& r : ranges_)
        if (port >= r.first && port - r.first < r.count) return &r;
    return nullptr;
}

std::uint32_t PortBus::read(std::uint16_t port, unsigned size) {
    std::lock_guard lock(mutex_);
    const Range* r = find(port);
    std::uint32_t all_ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (!r) return all_ones;
    return r->device->read(static_cast<std::uint16_t>(port - r->first), size) & all_ones;
}

PortEffect PortBus::write(std::uint16_t port, unsigned size, std::uint32_t value) {
    std::lock_guard lock(mutex_);
    const Range* r = find(port);
    if (!r) return {};
    return r->device->write(static_cast<std::uint16_t>(port - r->first), size, value);
}

void PortBus::read_string(std::uint16_t port, unsigned size, std::span<std::uint8_t> data) {
    if (size == 0 || size > 4) return;
    for (std::size_t at = 0; at + size <= data.size(); at += size) {
        std::uint32_t v = read(port, size);
        std::memcpy(data.data() + at, &v, size);  // x86 is little-endian, as is the host
    }
}

PortEffect PortBus::write_string(std::uint16_t port, unsigned size,
                                 std::span<const std::uint8_t> data) {
    PortEffect effect;
    if (size == 0 || size > 4) return effect;
    for (std::size_t at = 0; at + size <= data.size(); at += size) {
        std::uint32_t v = 0;
        std::memcpy(&v, data.data() + at, size);
        PortEffect e = write(port, size, v);
        if (e.exit_code) return e;  // the rest of a string write after an exit is moot
    }
    return effect;
}

std::optional<std::vector<PortDeviceState>> PortBus::devices(std::chrono::milliseconds wait) const {
    std::unique_lock lock(mutex_, wait);
    if (!lock) return std::nullopt;
    std::vector<PortDeviceState> out;
    for (const auto& r : ranges_)
        out.push_back({r.first, r.count, r.device->name(), r.device->registers()});
    std::ranges::sort(out, {}, &PortDeviceState::first);
    return out;
}

void PortBus::reset() {
    std::lock_guard lock(mutex_);
    for (const auto& r : ranges_) r.device->reset();
}

void Console::put(char c) {
    std::lock_guard lock(mutex_);
    if (sink_) sink_(std::string_view(&c, 1));
}

namespace {
// 16550 register offsets (DLAB selects the divisor latch at 0 and 1).
constexpr std::uint16_t thr_rbr = 0, ier_dlm = 1, iir_fcr = 2, lcr = 3, mcr = 4, lsr = 5, msr = 6,
                        scr = 7;
constexpr std::uint8_t lcr_dlab = 0x80;
constexpr std::uint8_t lsr_thre = 0x20, lsr_temt = 0x40;
constexpr std::uint8_t iir_no_interrupt = 0x01;
constexpr std::uint8_t msr_cts_dsr_dcd = 0xb0;
}  // namespace

std::uint32_t Uart16550::read(std::uint16_t offset, unsigned) {
    bool dlab = lcr_ & lcr_dlab;
    switch (offset) {
        case thr_rbr:
            return dlab ? dll_ : 0;  // no input yet
        case ier_dlm:
            return dlab ? dlm_ : ier_;
        case iir_fcr:
            return iir_no_interrupt;
        case lcr:
            return lcr_;
        case mcr:
            return mcr_;
        case lsr:
            return lsr_thre | lsr_temt;
        case msr:
            return msr_cts_dsr_dcd;
        case scr:
            return scratch_;
        default:
            return 0xff;
    }
}

PortEffect Uart16550::write(std::uint16_t offset, unsigned, std::uint32_t value) {
    auto byte = static_cast<std::uint8_t>(value);
    bool dlab = lcr_ & lcr_dlab;
    switch (offset) {
        case thr_rbr:
            if (dlab)
                dll_ = byte;
            else
                console_->put(static_cast<char>(byte));
            break;
        case ier_dlm:
            (dlab ? dlm_ : ier_) = byte;
            break;
        case lcr:
            lcr_ = byte;
            break;
        case mcr:
            mcr_ = byte;
            break;
        case scr:
            scratch_ = byte;
            break;
        default:
            break;  // FCR and the read-only registers
    }
    return {};
}

std::vector<DeviceRegister> Uart16550::registers() const {
    return {{"IER", ier_},
            {"IIR", iir_no_interrupt},
            {"LCR", lcr_},
            {"MCR", mcr_},
            {"LSR", lsr_thre | lsr_temt},
            {"MSR", msr_cts_dsr_dcd},
            {"SCR", scratch_},
            {"DLL", dll_},
            {"DLM", dlm_}};
}

void Uart16550::reset() {
    // PC16550D data sheet, table IV (reset configuration); the scratch register and the
    // divisor latch are not in that table and go back to the values hvgdb starts with.
    ier_ = lcr_ = mcr_ = scratch_ = 0;
    dll_ = 1;
    dlm_ = 0;
}

PortEffect DebugConsole::write(std::uint16_t, unsigned, std::uint32_t value) {
    console_->put(static_cast<char>(value & 0xff));
    return {};
}

std::unique_ptr<PortBus> make_pc_port_bus(ConsoleSink sink) {
    auto console = std::make_shared<Console>(std::move(sink));
    auto bus = std::make_unique<PortBus>();
    bus->add(0x3f8, 8, std::make_shared<Uart16550>(console));
    bus->add(0xe9, 1, std::make_shared<DebugConsole>(console));
    bus->add(0xf4, 1, std::make_shared<ExitPort>());
    return bus;
}

}  // namespace hvgdb::vcpu
