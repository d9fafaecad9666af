// load(): picks the image format from the bytes or the options, checks that the options fit
// the format, and dispatches to the format's loader.  Depends on {fmt}.
#include "loader/errors.hpp"
#include "loader/formats.hpp"

namespace hvgdb::loader {
namespace {

// ELF magic first (unambiguous); then a load address means "put these bytes there"; then the
// boot signature, which any 512-byte blob can carry by chance.
Result<Format> detect_format(std::span<const std::uint8_t> image, const LoadOptions& options) {
    if (has_elf_magic(image)) return Format::elf;
    if (options.load_addr) return Format::raw;
    if (has_boot_signature(image)) return Format::boot_sector;
    return invalid(
        "cannot tell the image format of {} bytes: not ELF, no boot signature; use --format raw "
        "--load-addr ADDR",
        image.size());
}

// load_addr and mode belong to raw images; elsewhere they would be silently ignored.
Result<void> check_options(Format format, const LoadOptions& options) {
    if (format == Format::raw) return {};
    const char* name = format == Format::elf ? "an ELF image" : "a boot sector";
    if (options.load_addr)
        return invalid(
            "--load-addr applies only to raw images, and this is {} (use --format raw "
            "to load its bytes as they are)",
            name);
    if (options.mode)
        return invalid("--mode applies only to raw images, and this is {} ({})", name,
                       format == Format::elf ? "ELF64 starts in long mode, ELF32 in protected"
                                             : "it starts in real mode");
    return {};
}

}  // namespace

Result<LoadedImage> load(std::span<const std::uint8_t> image, GuestMemory& memory,
                         const LoadOptions& options) {
    if (image.empty()) return invalid("the image is empty (0 bytes)");
    Format format = options.format;
    if (format == Format::automatic) {
        auto detected = detect_format(image, options);
        if (!detected) return std::unexpected(detected.error());
        format = *detected;
    }
    if (auto ok = check_options(format, options); !ok) return std::unexpected(ok.error());

    switch (format) {
        case Format::elf:
            return load_elf(image, memory, options);
        case Format::boot_sector:
            return load_boot_sector(image, memory, options);
        case Format::raw:
            return load_raw(image, memory, options);
        case Format::automatic:
            break;
    }
    return invalid("unknown image format {}", static_cast<int>(format));
}

}  // namespace hvgdb::loader
