# Sourced by the e2e drivers: what a test needs before it can run, and how it says so.
#   skip_without_kvm         exit 77 (SKIPPED) when /dev/kvm is missing or not read/writable
#   skip_without_gdb GDB     exit 77 (SKIPPED) when the debugger is not installed
#   skip_without_command CMD [HINT]  the same for any program, HINT saying what installs it
#   require_files FILE...    exit 1 (FAILED) when a build output is missing
# A missing device or debugger is not a failure; a missing build output is.

skip_without_kvm() {
    # E2E_KVM_DEVICE exists to test this path; hvgdb itself always opens /dev/kvm.
    local kvm=${E2E_KVM_DEVICE:-/dev/kvm}
    if [ ! -e "$kvm" ]; then
        echo "SKIPPED: /dev/kvm is not available (no such device: $kvm)"
        exit 77
    fi
    if [ ! -r "$kvm" ] || [ ! -w "$kvm" ]; then
        echo "SKIPPED: /dev/kvm is not available (no read/write permission on $kvm for $(id -un))"
        exit 77
    fi
}

skip_without_gdb() {
    skip_without_command "$1"
}

skip_without_command() {
    if ! command -v "$1" >/dev/null; then
        echo "SKIPPED: $1 is not installed${2:+ ($2)}"
        exit 77
    fi
}

require_files() {
    local f
    for f in "$@"; do
        if [ ! -f "$f" ]; then
            echo "FAILED: $f does not exist (build the tree first)"
            exit 1
        fi
    done
}
