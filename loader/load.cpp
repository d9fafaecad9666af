// load(): picks the image format from the bytes or the options, checks that the options fit
// the format, and dispatches to the format's loader; check_image(): the same into RAM that
// keeps nothing.  Depends on {fmt}.
#include "loader/bytes.hpp"
#include "loader/cpu_tables.hpp"
#include "loader/errors.hpp"
#include "loader/formats.hpp"
#include "loader/multiboot.hpp"

namespace hvgdb::loader {
namespace {

// A Multiboot header first: a Multiboot kernel is often also an ELF file, and started without
// its boot information it would fail.  Then ELF magic (unambiguous); then a load address means
// "put these bytes there"; then the boot signature, which any 512-byte blob can carry by chance.
Result<Format> detect_format(std::span<const std::uint8_t> image, const LoadOptions& options) {
    if (has_multiboot_header(image)) return Format::multiboot;
    if (has_elf_magic(image)) return Format::elf;
    if (options.load_addr) return Format::raw;
    if (has_boot_signature(image)) return Format::boot_sector;
    return invalid(
        "cannot tell the image format of {} bytes: not ELF, no boot signature; use --format raw "
        "--load-addr ADDR",
        image.size());
}

std::string_view cpu_mode_note(Format format) {
    switch (format) {
        case Format::elf:
            return "ELF64 starts in long mode, ELF32 in protected";
        case Format::multiboot:
            return "Multiboot kernels start in protected mode";
        case Format::firmware:
            return "firmware starts in real mode at the reset vector";
        default:
            return "it starts in real mode";
    }
}

std::string_view format_noun(Format format) {
    switch (format) {
        case Format::elf:
            return "an ELF image";
        case Format::multiboot:
            return "a Multiboot kernel";
        case Format::raw:
            return "a raw image";
        case Format::firmware:
            return "a firmware image";
        default:
            return "a boot sector";
    }
}

// load_addr and mode belong to raw images, cmdline and modules to Multiboot kernels; elsewhere
// they would be silently ignored.
Result<void> check_options(Format format, const LoadOptions& options) {
    if (format != Format::multiboot && (!options.cmdline.empty() || !options.modules.empty()))
        return invalid("--cmdline and --module apply to Multiboot kernels only, and this is {}",
                       format_noun(format));
    if (format == Format::raw) return {};
    const std::string_view name = format_noun(format);
    if (format == Format::firmware && options.entry)
        return invalid(
            "--entry does not apply to a firmware image: the CPU starts at the reset vector "
            "F000:FFF0 (linear 0xfffffff0)");
    if (options.load_addr)
        return invalid(
            "--load-addr applies only to raw images, and this is {} (use --format raw "
            "to load its bytes as they are)",
            name);
    if (options.mode)
        return invalid("--mode applies only to raw images, and this is {} ({})", name,
                       cpu_mode_note(format));
    return {};
}

Result<void> check_cpus(unsigned cpus) {
    if (cpus == 0) return invalid("--cpus 0: the machine needs at least 1 CPU");
    if (cpus > kMaxCpus)
        return invalid(
            "--cpus {}: at most {} CPUs, as xAPIC IDs are 8 bits and ID 0xff addresses them all",
            cpus, kMaxCpus);
    return {};
}

// ELF, raw and boot sector images tell the guest nothing but what is in memory: the CPU tables
// go beside the image and the loader's own set-up.  (Multiboot kernels place them before their
// boot information, which points at them; firmware brings its own.)
Result<LoadedImage> with_cpu_tables(Result<LoadedImage> loaded, GuestMemory& memory,
                                    const LoadOptions& options) {
    if (!loaded) return loaded;
    std::vector<LoadedImage::Range> occupied = loaded->loaded;
    for (const auto& r : loaded->setup) occupied.push_back({r.gpa, r.size});
    const CpuTables tables = place_cpu_tables(options.cpus, memory.size(), occupied);
    if (auto ok = write_cpu_tables(tables, options.processor_signature, memory, *loaded); !ok)
        return std::unexpected(ok.error());
    return loaded;
}

// Guest memory that checks each write against its size and keeps nothing.
class DiscardingMemory final : public GuestMemory {
  public:
    explicit DiscardingMemory(std::uint64_t size) : size_(size) {}
    std::uint64_t size() const override { return size_; }
    Result<void> write(std::uint64_t gpa, std::span<const std::uint8_t> bytes) override {
        return fill(gpa, 0, bytes.size());
    }
    Result<void> fill(std::uint64_t gpa, std::uint8_t, std::uint64_t length) override {
        if (!fits_below(gpa, length, size_))
            return invalid("the loader wrote {:#x} bytes at {:#x}, outside RAM ({})", length, gpa,
                           describe_size(size_));
        return {};
    }

  private:
    std::uint64_t size_;
};

}  // namespace

Result<LoadedImage> check_image(std::span<const std::uint8_t> image, std::uint64_t ram_size,
                                const LoadOptions& options) {
    DiscardingMemory memory(ram_size);
    return load(image, memory, options);
}

Result<LoadedImage> load(std::span<const std::uint8_t> image, GuestMemory& memory,
                         const LoadOptions& options) {
    if (image.empty()) return invalid("the image is empty (0 bytes)");
    if (auto ok = check_cpus(options.cpus); !ok) return std::unexpected(ok.error());
    Format format = options.format;
    if (format == Format::automatic) {
        auto detected = detect_format(image, options);
        if (!detected) return std::unexpected(detected.error());
        format = *detected;
    }
    if (auto ok = check_options(format, options); !ok) return std::unexpected(ok.error());

    switch (format) {
        case Format::elf:
            return with_cpu_tables(load_elf(image, memory, options), memory, options);
        case Format::boot_sector:
            return with_cpu_tables(load_boot_sector(image, memory, options), memory, options);
        case Format::raw:
            return with_cpu_tables(load_raw(image, memory, options), memory, options);
        case Format::multiboot:
            return load_multiboot(image, memory, options);
        case Format::firmware:
            return load_firmware(image, memory, options);
        case Format::automatic:
            break;
    }
    return invalid("unknown image format {}", static_cast<int>(format));
}

}  // namespace hvgdb::loader
