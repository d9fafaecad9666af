// Fake guest RAM for the loader tests: a plain vector, and a sparse map of pages for RAM sizes
// too large to allocate (page-table tests with more than 4 GiB).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "loader/loader.hpp"

namespace hvgdb::loader::test {

class VectorMemory : public GuestMemory {
  public:
    explicit VectorMemory(std::uint64_t size, std::uint8_t initial = 0) : bytes_(size, initial) {}

    std::uint64_t size() const override { return bytes_.size(); }

    Result<void> write(std::uint64_t gpa, std::span<const std::uint8_t> bytes) override {
        if (gpa > bytes_.size() || bytes.size() > bytes_.size() - gpa)
            return make_error(ErrorKind::target, "write outside RAM");
        std::copy(bytes.begin(), bytes.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(gpa));
        ++writes;
        return {};
    }

    Result<void> fill(std::uint64_t gpa, std::uint8_t value, std::uint64_t length) override {
        if (gpa > bytes_.size() || length > bytes_.size() - gpa)
            return make_error(ErrorKind::target, "fill outside RAM");
        std::fill_n(bytes_.begin() + static_cast<std::ptrdiff_t>(gpa), length, value);
        ++writes;
        return {};
    }

    std::vector<std::uint8_t> read(std::uint64_t gpa, std::size_t length) const {
        return {bytes_.begin() + static_cast<std::ptrdiff_t>(gpa),
                bytes_.begin() + static_cast<std::ptrdiff_t>(gpa + length)};
    }

    std::uint8_t at(std::uint64_t gpa) const { return bytes_.at(gpa); }

    std::uint64_t u64(std::uint64_t gpa) const {
        std::uint64_t value = 0;
        for (int i = 7; i >= 0; --i) value = (value << 8) | bytes_.at(gpa + i);
        return value;
    }

    int writes = 0;  // write() and fill() calls that succeeded

  private:
    std::vector<std::uint8_t> bytes_;
};

class SparseMemory : public GuestMemory {
  public:
    explicit SparseMemory(std::uint64_t size) : size_(size) {}

    std::uint64_t size() const override { return size_; }

    Result<void> write(std::uint64_t gpa, std::span<const std::uint8_t> bytes) override {
        if (gpa > size_ || bytes.size() > size_ - gpa)
            return make_error(ErrorKind::target, "write outside RAM");
        for (std::size_t i = 0; i < bytes.size(); ++i) byte(gpa + i) = bytes[i];
        return {};
    }

    Result<void> fill(std::uint64_t gpa, std::uint8_t value, std::uint64_t length) override {
        if (gpa > size_ || length > size_ - gpa)
            return make_error(ErrorKind::target, "fill outside RAM");
        for (std::uint64_t i = 0; i < length; ++i) byte(gpa + i) = value;
        return {};
    }

    std::uint64_t u64(std::uint64_t gpa) {
        std::uint64_t value = 0;
        for (int i = 7; i >= 0; --i) value = (value << 8) | byte(gpa + i);
        return value;
    }

  private:
    std::uint8_t& byte(std::uint64_t gpa) { return pages_[gpa / 4096][gpa % 4096]; }

    std::uint64_t size_;
    std::map<std::uint64_t, std::array<std::uint8_t, 4096>> pages_;  // value-initialized: zero
};

}  // namespace hvgdb::loader::test
