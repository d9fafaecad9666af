// Reads an image or module file into memory for load(), refusing before it reads what load()
// could not use.  The one part of loader/ that does file I/O; depends on the standard library
// and POSIX.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "loader/loader.hpp"

namespace hvgdb::loader {

// Bare-metal images are small; a bigger file is more likely a mistake (a disk, a core file).
inline constexpr std::uint64_t kMaxImageFileBytes = std::uint64_t{1} << 30;  // 1 GiB

// What the file is, for the messages ("image file 'k.elf': ...", "module file 'initrd': ...")
// and the rules: an image may not be empty, a module may (the kernel sees mod_start ==
// mod_end).
enum class FileRole { image, module };

// The most bytes a file may have, and what that is, for the message.
struct SizeLimit {
    std::uint64_t bytes = kMaxImageFileBytes;
    std::string what = "the 1 GiB limit for an image file";
};

// Known before the file is read: a raw image (--format raw, or a load address with the
// format left to detection) or a module goes into RAM whole, so RAM (and for a module 4 GiB,
// where Multiboot's 32-bit addresses end) bounds it; a firmware ROM has kMaxFirmwareBytes.
// Other formats may be larger than what they load (an ELF file's debug information, a disk
// image behind a boot sector), so only kMaxImageFileBytes bounds them.
SizeLimit image_size_limit(const LoadOptions& options, std::uint64_t ram_size);
SizeLimit module_size_limit(std::uint64_t ram_size);

// The whole file: a regular file (its size checked before reading) or a pipe (read until the
// limit).  ErrorKind::invalid (with errno where a call failed) when the file is missing,
// unreadable, a directory or device, empty (an image), or larger than the limit.
Result<std::vector<std::uint8_t>> read_image_file(const std::string& path,
                                                  const SizeLimit& limit = {},
                                                  FileRole role = FileRole::image);

}  // namespace hvgdb::loader
