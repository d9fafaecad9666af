// Reads an image file into memory for load().  The one part of loader/ that does file I/O;
// depends on the standard library and POSIX.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace hvgdb::loader {

// Bare-metal images are small; a bigger file is more likely a mistake (a disk, a core file).
inline constexpr std::uint64_t kMaxImageFileBytes = std::uint64_t{1} << 30;  // 1 GiB

// The whole file.  ErrorKind::invalid (with errno where a call failed) when the file is
// missing, unreadable, a directory, empty, or larger than max_bytes.
Result<std::vector<std::uint8_t>> read_image_file(const std::string& path,
                                                  std::uint64_t max_bytes = kMaxImageFileBytes);

}  // namespace hvgdb::loader
