// read_image_file: open, fstat, read to the end (also for pipes, whose size fstat cannot tell).
#include "loader/image_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "loader/bytes.hpp"

namespace hvgdb::loader {
namespace {

// Closes the descriptor on every return path.
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

std::unexpected<Error> file_error(const std::string& path, std::string_view what, int err = 0) {
    return make_error(ErrorKind::invalid, fmt::format("image file '{}': {}", path, what), err);
}

std::unexpected<Error> too_large(const std::string& path, std::uint64_t max_bytes) {
    return file_error(
        path, fmt::format("larger than the {} limit for an image", describe_size(max_bytes)));
}

}  // namespace

Result<std::vector<std::uint8_t>> read_image_file(const std::string& path,
                                                  std::uint64_t max_bytes) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return file_error(path, "cannot open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return file_error(path, "cannot stat", errno);
    if (S_ISDIR(st.st_mode)) return file_error(path, "is a directory");
    if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_bytes)
        return too_large(path, max_bytes);

    std::vector<std::uint8_t> bytes;
    if (S_ISREG(st.st_mode)) bytes.reserve(static_cast<std::size_t>(st.st_size));
    std::uint8_t chunk[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return file_error(path, "cannot read", errno);
        if (n == 0) break;
        if (bytes.size() + static_cast<std::uint64_t>(n) > max_bytes)
            return too_large(path, max_bytes);
        bytes.insert(bytes.end(), chunk, chunk + n);
    }
    if (bytes.empty()) return file_error(path, "is empty");
    return bytes;
}

}  // namespace hvgdb::loader
