// Image formats -> guest memory contents and the initial CPU state.  Pure: parses bytes and
// writes through GuestMemory; knows nothing of vcpu/ or gdbstub/.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace hvgdb::loader {

// Where the loader puts bytes: guest-physical memory.  write() fails outside RAM.
class GuestMemory {
  public:
    virtual ~GuestMemory() = default;
    virtual std::uint64_t size() const = 0;  // RAM is [0, size())
    virtual Result<void> write(std::uint64_t gpa, std::span<const std::uint8_t> bytes) = 0;
    virtual Result<void> fill(std::uint64_t gpa, std::uint8_t value, std::uint64_t length) = 0;
};

enum class Format { automatic, elf, boot_sector, raw, multiboot, firmware };
enum class CpuMode { real, protected32, long64 };

std::string_view to_string(Format);
std::string_view to_string(CpuMode);
// "auto", "elf", "bootsector", "raw", "multiboot", "firmware"
Result<Format> parse_format(std::string_view);
Result<CpuMode> parse_mode(std::string_view);  // "real", "protected", "long"

// A Multiboot boot module: the bytes the kernel finds in memory, and its string (conventionally
// the module's file name followed by its arguments).
struct Module {
    std::string name_and_args;
    std::vector<std::uint8_t> bytes;
};

struct LoadOptions {
    Format format = Format::automatic;
    std::optional<std::uint64_t> load_addr;  // raw: where the bytes go
    std::optional<std::uint64_t> entry;      // raw: first instruction (default load_addr);
                                             // others: overrides the image's entry
    std::optional<CpuMode> mode;             // raw: CPU mode (default real below 1 MiB... see docs)
    std::string cmdline;          // multiboot: the kernel's command line, passed verbatim (by
                                  // convention the kernel's name followed by its arguments)
    std::vector<Module> modules;  // multiboot: boot modules, in order
    // firmware: EDX after RESET, the processor signature (CPUID leaf 1 EAX) of the machine's
    // CPU; others: the CPU signature in the MP table.  Family 6, model 0, stepping 0 unless the
    // machine says otherwise.
    std::uint32_t processor_signature = 0x600;
    // The machine's vCPUs, 1..255: every format but firmware gets ACPI and MP tables listing
    // them (local APIC ID = vCPU index), which a kernel finds by scanning 0xe0000..0xfffff.
    unsigned cpus = 1;
};
// Option rules (load() enforces them with ErrorKind::invalid):
// - automatic format: a valid Multiboot 1 or 2 header -> multiboot (even when the file is also
//   ELF; --format elf loads such a kernel as plain ELF); else ELF magic -> elf; else a load
//   address -> raw; else bytes 510-511 = 55 AA -> boot_sector; else an error.  Firmware is
//   never detected: only Format::firmware loads an image as firmware.
// - load_addr and mode apply only to raw images; cmdline and modules only to Multiboot kernels;
//   entry applies to every format except firmware, which starts at the reset vector.
// - raw real mode: entry < 0x10000 starts at 0000:entry, else at (entry >> 4):(entry & 0xf);
//   entry must lie below 1 MiB.
// - cpus: 1 to 255 for every format.

// A segment register as the CPU holds it (hidden part included).  `limit` is in bytes (the
// scaled value: 0xffffffff for a flat 4 GiB segment with g = true).
struct Segment {
    std::uint16_t selector = 0;
    std::uint64_t base = 0;
    std::uint32_t limit = 0xffff;
    std::uint8_t type = 0;  // 4-bit type field
    bool s = true;          // code/data (not system)
    std::uint8_t dpl = 0;
    bool present = true;
    bool db = false;  // default operation size 32-bit
    bool l = false;   // 64-bit code
    bool g = false;   // limit in 4 KiB units
};

// The CPU state the image starts with.  The loader also writes whatever tables this state
// needs (GDT, page tables) into guest memory, at the addresses it reports here.
struct CpuState {
    CpuMode mode = CpuMode::real;
    std::uint64_t rip = 0;
    std::uint64_t rsp = 0;
    std::uint64_t rflags = 0x2;
    std::uint64_t rax = 0;  // multiboot: the boot loader magic
    std::uint64_t rbx = 0;  // multiboot: physical address of the boot information
    std::uint64_t rdx = 0;  // boot sector: boot drive in DL
    std::uint64_t cr0 = 0x60000010;
    std::uint64_t cr3 = 0;
    std::uint64_t cr4 = 0;
    std::uint64_t efer = 0;
    Segment cs, ds, es, fs, gs, ss;
    std::uint64_t gdt_base = 0;
    std::uint16_t gdt_limit = 0xffff;
    std::uint64_t idt_base = 0;
    std::uint16_t idt_limit = 0xffff;
};

struct LoadedImage {
    Format format = Format::raw;
    std::string description;  // e.g. "ELF64 x86-64, 3 PT_LOAD segments"
    CpuState cpu;
    std::uint64_t entry = 0;  // linear address of the first instruction
    // Guest-physical ranges the image occupies, for the banner and overlap checks.
    struct Range {
        std::uint64_t gpa, size;
    };
    std::vector<Range> loaded;
    // Guest-physical ranges the loader itself set up outside the image ("gdt", "page tables",
    // "stack", "ACPI tables", "MP tables"), for the banner.  A boot sector gets only the CPU
    // tables (its stack is the real-mode convention below 0x7c00).
    struct SetupRegion {
        std::string_view what;
        std::uint64_t gpa, size;
    };
    std::vector<SetupRegion> setup;
    // Read-only memory the image becomes (firmware): `bytes` (a part of the image given to
    // load(), valid while it is) shown at each window, `size` bytes from `offset` at `gpa`.
    // Nothing of it is in RAM; the caller maps it.
    struct RomWindow {
        std::uint64_t gpa, offset, size;
    };
    struct Rom {
        std::span<const std::uint8_t> bytes;
        std::vector<RomWindow> windows;
    };
    std::optional<Rom> rom;
};

// True when the image starts with the ELF magic 7f 45 4c 46 (plain ELF or a Multiboot
// kernel in ELF form: a file gdb can take symbols from).
bool has_elf_magic(std::span<const std::uint8_t> image);

// The processor's state after RESET (Intel SDM vol. 3A, 9.1.1, table 9-1): real mode at the
// reset vector, CS F000 with base FFFF0000 and IP FFF0, EDX the processor signature (CPUID
// leaf 1 EAX).  INIT leaves the same registers; a firmware image starts in it.
CpuState reset_state(std::uint32_t processor_signature);

// Loads `image` into `memory` and returns the starting CPU state.  Malformed images return
// ErrorKind::invalid with one clear sentence.
Result<LoadedImage> load(std::span<const std::uint8_t> image, GuestMemory& memory,
                         const LoadOptions& options);

// Everything load() checks, before a machine exists: load() into RAM of `ram_size` bytes that
// keeps nothing.  An image that passes loads into real RAM of that size with the same options
// (the processor signature aside, which changes only table contents).
Result<LoadedImage> check_image(std::span<const std::uint8_t> image, std::uint64_t ram_size,
                                const LoadOptions& options);

}  // namespace hvgdb::loader
