// Number formats for the loader's messages.  Depends on {fmt}.
#include "loader/bytes.hpp"

#include <fmt/format.h>

namespace hvgdb::loader {

std::string describe_size(std::uint64_t bytes) {
    if (bytes != 0 && bytes % kGiB == 0) return fmt::format("{} GiB", bytes / kGiB);
    if (bytes != 0 && bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
    if (bytes != 0 && bytes % kKiB == 0) return fmt::format("{} KiB", bytes / kKiB);
    return fmt::format("{} bytes", bytes);
}

}  // namespace hvgdb::loader
