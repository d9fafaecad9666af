// What the loader fuzz targets check: loader::load() into a guest memory that holds nothing
// but asserts that every write lands inside RAM, and the promises of loader.hpp about the
// result.  Depends on loader/loader.hpp.
#pragma once

#include <cstdint>
#include <vector>

#include "fuzz.hpp"
#include "loader/loader.hpp"

namespace hvgdb::fuzz {

// Guest RAM of any size, kept nowhere: the loader never reads guest memory back, so checking
// each write's range and reading its source bytes (which AddressSanitizer then checks) is all
// a fake RAM has to do.  (tests/loader's VectorMemory allocates its size; the targets load
// into up to 64 GiB.)
class CheckedMemory final : public loader::GuestMemory {
  public:
    explicit CheckedMemory(std::uint64_t size) : size_(size) {}

    std::uint64_t size() const override { return size_; }

    Result<void> write(std::uint64_t gpa, std::span<const std::uint8_t> bytes) override {
        check(inside(gpa, bytes.size()), "the loader writes inside RAM");
        for (std::uint8_t b : bytes) sum_ += b;
        return {};
    }

    Result<void> fill(std::uint64_t gpa, std::uint8_t, std::uint64_t length) override {
        check(inside(gpa, length), "the loader fills inside RAM");
        return {};
    }

    bool inside(std::uint64_t gpa, std::uint64_t length) const {
        return gpa <= size_ && length <= size_ - gpa;
    }

  private:
    std::uint64_t size_;
    std::uint64_t sum_ = 0;  // of every byte written, so that each one is read
};

inline bool overlap(const loader::LoadedImage::Range& a, const loader::LoadedImage::Range& b) {
    return a.size != 0 && b.size != 0 && a.gpa < b.gpa + b.size && b.gpa < a.gpa + a.size;
}

// A firmware image is ROM: its windows show parts of the image below 4 GiB.
inline void check_rom(const loader::LoadedImage& loaded, std::span<const std::uint8_t> image) {
    check(loaded.rom.has_value(), "a firmware image has ROM windows");
    const auto& rom = *loaded.rom;
    check(rom.bytes.data() >= image.data() &&
              rom.bytes.data() + rom.bytes.size() <= image.data() + image.size(),
          "the ROM is a part of the image");
    for (const auto& window : rom.windows) {
        check(window.offset <= rom.bytes.size() && window.size <= rom.bytes.size() - window.offset,
              "a ROM window shows bytes of the ROM");
        check(window.gpa + window.size <= (std::uint64_t{1} << 32) &&
                  window.gpa + window.size > window.gpa,
              "a ROM window lies below 4 GiB");
    }
}

// Loads `image` and checks the result: on success the image and the loader's own tables lie
// in RAM (firmware in its ROM windows) and the tables overlap nothing; on failure one line
// that says why, as ErrorKind::invalid (hvgdb prints it and exits with code 2).
inline void check_load(std::span<const std::uint8_t> image, std::uint64_t ram_size,
                       const loader::LoadOptions& options) {
    CheckedMemory memory(ram_size);
    auto loaded = loader::load(image, memory, options);
    if (!loaded) {
        const Error& error = loaded.error();
        check(error.kind == ErrorKind::invalid, "a bad image is ErrorKind::invalid");
        check(!error.context.empty(), "a bad image's error says why");
        check(error.message().find('\n') == std::string::npos, "a bad image's error is one line");
        return;
    }
    check(!loaded->description.empty(), "a loaded image is described");
    if (loaded->format == loader::Format::firmware) {
        check_rom(*loaded, image);
    } else {
        for (const auto& range : loaded->loaded)
            check(memory.inside(range.gpa, range.size), "the image lies in RAM");
    }
    std::vector<loader::LoadedImage::Range> placed = loaded->loaded;
    for (const auto& region : loaded->setup) {
        const loader::LoadedImage::Range range{region.gpa, region.size};
        check(memory.inside(range.gpa, range.size), "the loader's tables lie in RAM");
        for (const auto& other : placed)
            check(!overlap(range, other), "the loader's tables overlap nothing");
        placed.push_back(range);
    }
}

}  // namespace hvgdb::fuzz
