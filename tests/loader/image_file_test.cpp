// read_image_file: contents, and clear errors for missing, directory, empty, too large.
#include <cerrno>
#include <filesystem>
#include <fstream>

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
        auto read = read_image_file(path, 4096);
        REQUIRE_FALSE(read.has_value());
        CHECK(read.error().message() ==
              "image file '" + path + "': larger than the 4 KiB limit for an image");
        CHECK(read_image_file(path, bytes.size()).has_value());
    }
}

}  // namespace hvgdb::loader::test
