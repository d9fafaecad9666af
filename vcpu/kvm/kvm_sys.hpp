// The one place where KVM ioctls are made: each returns a Result carrying errno and the
// ioctl's name.  Linux only; depends on common/.
#pragma once

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "common/error.hpp"

namespace hvgdb::vcpu::kvm {

// ioctl() retried on EINTR except for KVM_RUN, whose EINTR is meaningful (a kick).
template <typename Arg>
Result<int> kvm_ioctl(int fd, unsigned long request, Arg arg, const char* name) {
    int rc;
    do {
        rc = ::ioctl(fd, request, arg);
    } while (rc < 0 && errno == EINTR && request != KVM_RUN);
    if (rc < 0) return errno_error(name);
    return rc;
}

#define HVGDB_KVM(fd, req, arg) ::hvgdb::vcpu::kvm::kvm_ioctl((fd), (req), (arg), #req)

// Owns a file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept;
    ~Fd();
    int get() const { return fd_; }

  private:
    int fd_ = -1;
};

}  // namespace hvgdb::vcpu::kvm
