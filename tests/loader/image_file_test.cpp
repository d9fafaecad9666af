// read_image_file: contents, and clear errors for missing, directory, device, unreadable, empty,
// too large (by size before reading, or by the bytes a pipe brings); the size limits.
#include <cerrno>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "loader/image_file.hpp"

namespace hvgdb::loader::test {
namespace {

// A fresh directory under the system temp dir, removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("hvgdb_loader_test_" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }

    std::string file(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
        const auto p = path / name;
        std::ofstream out(p, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()),  // ofstream writes chars
                  static_cast<std::streamsize>(bytes.size()));
        return p.string();
    }
};

}  // namespace

TEST_CASE("read_image_file") {
    TempDir dir;
    std::vector<std::uint8_t> bytes(100000);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 13);

    SUBCASE("whole file") {
        auto read = read_image_file(dir.file("image.bin", bytes));
        REQUIRE(read.has_value());
        CHECK(*read == bytes);
    }
    SUBCASE("missing") {
        const std::string path = (dir.path / "missing.bin").string();
        auto read = read_image_file(path);
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().kind == ErrorKind::invalid);
        CHECK(read.error().err_no == ENOENT);
        CHECK(read.error().message() ==
              "image file '" + path + "': cannot open: No such file or directory");
    }
    SUBCASE("directory") {
        auto read = read_image_file(dir.path.string());
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().message() == "image file '" + dir.path.string() + "': is a directory");
    }
    SUBCASE("empty") {
        const std::string path = dir.file("empty.bin", {});
        auto read = read_image_file(path);
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().kind == ErrorKind::invalid);
        CHECK(read.error().message() == "image file '" + path + "': is empty");
    }
    SUBCASE("too large") {
        const std::string path = dir.file("big.bin", bytes);
        auto read = read_image_file(path, {4096, "the test's 4 KiB"});
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().kind == ErrorKind::invalid);
        CHECK(read.error().message() ==
              "image file '" + path + "': 100000 bytes is more than the test's 4 KiB");
        CHECK(read_image_file(path, {bytes.size(), "x"}).has_value());
    }
    SUBCASE("a huge sparse file is refused by its size, unread") {
        const std::string path = (dir.path / "sparse.bin").string();
        std::filesystem::resize_file(dir.file("sparse.bin", {}), std::uint64_t{100} << 30);
        auto read = read_image_file(path);
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().message() ==
              "image file '" + path + "': 100 GiB is more than the 1 GiB limit for an image file");
    }
    SUBCASE("a character device") {
        auto read = read_image_file("/dev/zero");
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().kind == ErrorKind::invalid);
        CHECK(read.error().message() ==
              "image file '/dev/zero': is a character device, not a file");
    }
    SUBCASE("a read that fails") {
        // /proc/self/mem opens as a regular file of size 0; reading at offset 0, where nothing
        // is mapped, fails with EIO.
        auto read = read_image_file("/proc/self/mem");
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().err_no == EIO);
        CHECK(read.error().message() ==
              "image file '/proc/self/mem': cannot read: Input/output error");
    }
    SUBCASE("a FIFO with no writer: an error at once, no wait for one") {
        const std::string path = (dir.path / "fifo").string();
        REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
        auto read = read_image_file(path);
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().message() == "image file '" + path + "': is empty");
        auto module = read_image_file(path, {}, FileRole::module);
        REQUIRE(module.has_value());
        CHECK(module->empty());
    }
    SUBCASE("a pipe: read to its end, and only up to the limit") {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        const std::vector<std::uint8_t> small(5000, 7);
        REQUIRE(::write(fds[1], small.data(), small.size()) == 5000);
        ::close(fds[1]);
        const std::string path = "/proc/self/fd/" + std::to_string(fds[0]);
        auto read = read_image_file(path, {4096, "the test's 4 KiB"});
        ::close(fds[0]);
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().message() ==
              "image file '" + path + "': more data than the test's 4 KiB");

        REQUIRE(::pipe(fds) == 0);
        REQUIRE(::write(fds[1], small.data(), small.size()) == 5000);
        ::close(fds[1]);
        auto whole = read_image_file("/proc/self/fd/" + std::to_string(fds[0]));
        ::close(fds[0]);
        REQUIRE(whole.has_value());
        CHECK(*whole == small);
    }
    SUBCASE("modules: named as such, and may be empty") {
        const std::string path = dir.file("empty.mod", {});
        auto read = read_image_file(path, {}, FileRole::module);
        REQUIRE(read.has_value());
        CHECK(read->empty());
        const std::string missing = (dir.path / "missing.mod").string();
        auto error = read_image_file(missing, {}, FileRole::module);
        REQUIRE_FALSE(error.has_value());
        CHECK(error.error().message() ==
              "module file '" + missing + "': cannot open: No such file or directory");
    }
}

TEST_CASE("image and module size limits, known before reading") {
    const std::uint64_t mib = 1 << 20;
    auto image_size_limit = [](Format format, std::uint64_t ram_size) {
        LoadOptions options;
        options.format = format;
        return loader::image_size_limit(options, ram_size);
    };
    SUBCASE("raw images and modules go into RAM whole") {
        const SizeLimit raw = image_size_limit(Format::raw, 128 * mib);
        CHECK(raw.bytes == 128 * mib);
        CHECK(raw.what == "the guest's RAM (128 MiB), which a raw image must fit in");
        const SizeLimit module = module_size_limit(16 * mib);
        CHECK(module.bytes == 16 * mib);
        CHECK(module.what == "the guest's RAM (16 MiB), which a module must fit in");
    }
    SUBCASE("firmware: the ROM limit, whatever the RAM") {
        const SizeLimit rom = image_size_limit(Format::firmware, 1024 * mib);
        CHECK(rom.bytes == 16 * mib);
        CHECK(rom.what == "the 16 MiB limit for a firmware ROM");
    }
    SUBCASE("other formats may be larger than RAM (debug information, a disk image)") {
        for (Format f : {Format::automatic, Format::elf, Format::multiboot, Format::boot_sector}) {
            const SizeLimit limit = image_size_limit(f, 16 * mib);
            CHECK(limit.bytes == kMaxImageFileBytes);
            CHECK(limit.what == "the 1 GiB limit for an image file");
        }
    }
    SUBCASE("a load address with the format left to detection: raw, bounded by RAM") {
        LoadOptions options;
        options.load_addr = 0x7c00;
        const SizeLimit raw = loader::image_size_limit(options, 64 * mib);
        CHECK(raw.bytes == 64 * mib);
        CHECK(raw.what == "the guest's RAM (64 MiB), which a raw image must fit in");
    }
    SUBCASE("large RAM: the general limit still holds, named for the file") {
        const SizeLimit raw = image_size_limit(Format::raw, 8192 * mib);
        CHECK(raw.bytes == kMaxImageFileBytes);
        CHECK(raw.what == "the 1 GiB limit for an image file");
        const SizeLimit module = module_size_limit(2048 * mib);
        CHECK(module.bytes == kMaxImageFileBytes);
        CHECK(module.what == "the 1 GiB limit for a module file");
    }
}

}  // namespace hvgdb::loader::test
