// The one place where KVM ioctls are made: each returns a Result carrying errno and the
// ioctl's name.  Linux only; depends on common/.
#pragma once

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "common/error.hpp"

// Headers older than KVM_GUESTDBG_BLOCKIRQ lack these; the values are the KVM ABI's (KVM API
// doc, KVM_SET_GUEST_DEBUG and KVM_CAP_SET_GUEST_DEBUG2).  A kernel without the capability
// reports 0 for it, so the flag is never passed to one that does not know it.
#ifndef KVM_CAP_SET_GUEST_DEBUG2
#define KVM_CAP_SET_GUEST_DEBUG2 195
#endif
#ifndef KVM_GUESTDBG_BLOCKIRQ
#define KVM_GUESTDBG_BLOCKIRQ 0x00100000
#endif

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
