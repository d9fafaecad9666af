// read_image_file: open, fstat (kind and size checked before reading), read to the end (also
// for pipes, whose size fstat cannot tell, up to the limit).
#include "loader/image_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "loader/bytes.hpp"
#include "loader/formats.hpp"

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

std::unexpected<Error> file_error(const std::string& path, FileRole role, std::string_view what,
                                  int err = 0) {
    return make_error(
        ErrorKind::invalid,
        fmt::format("{} file '{}': {}", role == FileRole::image ? "image" : "module", path, what),
        err);
}

// What a file that is neither regular nor a pipe is; nothing for those two.
std::optional<std::string_view> unusable_kind(mode_t mode) {
    if (S_ISREG(mode) || S_ISFIFO(mode)) return std::nullopt;
    if (S_ISDIR(mode)) return "is a directory";
    if (S_ISCHR(mode)) return "is a character device, not a file";
    if (S_ISBLK(mode))
        return "is a block device, not a file (copy the sectors the guest needs into a file)";
    return "is not a regular file or a pipe";
}

// RAM bounds what goes into it whole, below the general limit (named for `role`'s file).
SizeLimit ram_limit(std::uint64_t ram_size, std::string_view what_fits, FileRole role) {
    if (ram_size >= kMaxImageFileBytes)
        return {kMaxImageFileBytes,
                fmt::format("the {} limit for {}", describe_size(kMaxImageFileBytes),
                            role == FileRole::image ? "an image file" : "a module file")};
    return {ram_size, fmt::format("the guest's RAM ({}), which {} must fit in",
                                  describe_size(ram_size), what_fits)};
}

}  // namespace

SizeLimit image_size_limit(const LoadOptions& options, std::uint64_t ram_size) {
    // A load address picks the raw format (load() refuses it for any other).
    const Format format =
        options.format == Format::automatic && options.load_addr ? Format::raw : options.format;
    if (format == Format::raw) return ram_limit(ram_size, "a raw image", FileRole::image);
    if (format == Format::firmware)
        return {kMaxFirmwareBytes,
                fmt::format("the {} limit for a firmware ROM", describe_size(kMaxFirmwareBytes))};
    return {};
}

SizeLimit module_size_limit(std::uint64_t ram_size) {
    return ram_limit(std::min(ram_size, 4 * kGiB), "a module", FileRole::module);
}

Result<std::vector<std::uint8_t>> read_image_file(const std::string& path, const SizeLimit& limit,
                                                  FileRole role) {
    // Non-blocking, so that opening a FIFO with no writer returns at once (its read then
    // finds no data: "is empty"), and no terminal becomes hvgdb's; a device is refused below
    // without a read.
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) return file_error(path, role, "cannot open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return file_error(path, role, "cannot stat", errno);
    if (auto kind = unusable_kind(st.st_mode)) return file_error(path, role, *kind);
    // A pipe with a writer is read to its end, waiting for the writer.
    if (S_ISFIFO(st.st_mode) &&
        ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK) != 0)
        return file_error(path, role, "cannot read", errno);
    // A regular file's size is known: refuse before reading (a 100 GiB sparse file reads fast
    // and would fill host memory).
    if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > limit.bytes)
        return file_error(
            path, role,
            fmt::format("{} is more than {}", describe_size(static_cast<std::uint64_t>(st.st_size)),
                        limit.what));

    std::vector<std::uint8_t> bytes;
    if (S_ISREG(st.st_mode)) bytes.reserve(static_cast<std::size_t>(st.st_size));
    std::uint8_t chunk[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return file_error(path, role, "cannot read", errno);
        if (n == 0) break;
        // A pipe, or a file that grew since fstat.
        if (bytes.size() + static_cast<std::uint64_t>(n) > limit.bytes)
            return file_error(path, role, fmt::format("more data than {}", limit.what));
        bytes.insert(bytes.end(), chunk, chunk + n);
    }
    if (bytes.empty() && role == FileRole::image) return file_error(path, role, "is empty");
    return bytes;
}

}  // namespace hvgdb::loader
