// Glue between loader/ and vcpu/: guest RAM as the loader's GuestMemory, the loader's starting
// CPU state as a vCPU snapshot, and the image's ROM as machine ROM.
#pragma once

#include <span>

#include "loader/loader.hpp"
#include "vcpu/machine.hpp"

namespace hvgdb::app {

class RamMemory final : public loader::GuestMemory {
  public:
    explicit RamMemory(std::span<std::uint8_t> ram) : ram_(ram) {}
    std::uint64_t size() const override { return ram_.size(); }
    Result<void> write(std::uint64_t gpa, std::span<const std::uint8_t> bytes) override;
    Result<void> fill(std::uint64_t gpa, std::uint8_t value, std::uint64_t length) override;

  private:
    std::span<std::uint8_t> ram_;
};

// Loads `image` into the machine's RAM, which holds zeros (a new machine, or one reset()
// cleared): what start-up does, and `monitor reset` again.
Result<loader::LoadedImage> load_into_ram(vcpu::Machine&, std::span<const std::uint8_t> image,
                                          const loader::LoadOptions&);

vcpu::VcpuSnapshot initial_snapshot(const loader::CpuState&);
// The state INIT leaves a processor in, which the APs wait for SIPI in
// (Machine::set_init_state): the loader's reset state (loader::reset_state).
vcpu::VcpuSnapshot init_snapshot(std::uint32_t processor_signature);

// Puts the image's read-only memory (a firmware ROM) into the machine, before it starts.
Result<void> add_rom(vcpu::Machine&, const loader::LoadedImage::Rom&);

}  // namespace hvgdb::app
