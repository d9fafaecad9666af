// Fuzz target: an image file as hvgdb loads it by default: the format picked from the bytes
// (Multiboot 1 or 2, ELF32/ELF64, boot sector), into 128 MiB of RAM with one CPU.  Input: the
// image.  Checked: see load_checks.hpp.
#include "load_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hvgdb::fuzz::check_load({data, size}, std::uint64_t{128} << 20, {});
    return 0;
}
