#include "app/initial_state.hpp"

#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace hvgdb::app {

namespace {
bool fits(std::uint64_t gpa, std::uint64_t length, std::uint64_t size) {
    return gpa <= size && length <= size - gpa;
}

vcpu::x86::Segment to_vcpu(const loader::Segment& s) {
    vcpu::x86::Segment v;
    v.selector = s.selector;
    v.base = s.base;
    v.limit = s.limit;
    v.type = s.type;
    v.s = s.s;
    v.dpl = s.dpl;
    v.present = s.present;
    v.db = s.db;
    v.l = s.l;
    v.g = s.g;
    return v;
}
}  // namespace

Result<void> RamMemory::write(std::uint64_t gpa, std::span<const std::uint8_t> bytes) {
    if (!fits(gpa, bytes.size(), ram_.size()))
        return make_error(ErrorKind::invalid,
                          fmt::format("{} bytes at {:#x} do not fit in RAM", bytes.size(), gpa));
    std::memcpy(ram_.data() + gpa, bytes.data(), bytes.size());
    return {};
}

Result<void> RamMemory::fill(std::uint64_t gpa, std::uint8_t value, std::uint64_t length) {
    if (!fits(gpa, length, ram_.size()))
        return make_error(ErrorKind::invalid,
                          fmt::format("{} bytes at {:#x} do not fit in RAM", length, gpa));
    std::memset(ram_.data() + gpa, value, length);
    return {};
}

Result<loader::LoadedImage> load_into_ram(vcpu::Machine& machine,
                                          std::span<const std::uint8_t> image,
                                          const loader::LoadOptions& options) {
    RamMemory ram(machine.ram());
    return loader::load(image, ram, options);
}

vcpu::VcpuSnapshot initial_snapshot(const loader::CpuState& c) {
    vcpu::VcpuSnapshot s;
    s.regs.rip = c.rip;
    s.regs.rsp = c.rsp;
    s.regs.rflags = c.rflags;
    s.regs.rdx = c.rdx;
    s.regs.rax = c.rax;  // Multiboot: the boot loader's magic
    s.regs.rbx = c.rbx;  // Multiboot: the boot information's address
    auto& r = s.sregs;
    r.cs = to_vcpu(c.cs);
    r.ds = to_vcpu(c.ds);
    r.es = to_vcpu(c.es);
    r.fs = to_vcpu(c.fs);
    r.gs = to_vcpu(c.gs);
    r.ss = to_vcpu(c.ss);
    // A task register and LDT that pass VM-entry checks in every mode (SDM vol. 3C, 26.3.1.2):
    // TR a busy TSS, LDTR unusable.
    r.tr = vcpu::x86::Segment{.base = 0,
                              .limit = 0xffff,
                              .selector = 0,
                              .type = 0xb,
                              .present = true,
                              .dpl = 0,
                              .db = false,
                              .s = false};
    r.ldt = vcpu::x86::Segment{.base = 0,
                               .limit = 0xffff,
                               .selector = 0,
                               .type = 0x2,
                               .present = true,
                               .dpl = 0,
                               .db = false,
                               .s = false};
    r.gdt = {c.gdt_base, c.gdt_limit};
    r.idt = {c.idt_base, c.idt_limit};
    r.cr0 = c.cr0;
    r.cr3 = c.cr3;
    r.cr4 = c.cr4;
    r.efer = c.efer;
    return s;
}

vcpu::VcpuSnapshot init_snapshot(std::uint32_t processor_signature) {
    return initial_snapshot(loader::reset_state(processor_signature));
}

Result<void> add_rom(vcpu::Machine& machine, const loader::LoadedImage::Rom& rom) {
    std::vector<vcpu::RomWindow> windows;
    for (const auto& w : rom.windows) windows.push_back({w.gpa, w.offset, w.size});
    return machine.add_rom(rom.bytes, windows);
}

}  // namespace hvgdb::app
