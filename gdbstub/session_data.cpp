// Handlers for registers, memory and breakpoints (gdb manual, "Packets": g G p P m M X Z z).
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "gdbstub/session_impl.hpp"

namespace hvgdb::gdbstub {

namespace {

std::unexpected<Error> bad_register(std::size_t regno) {
    return make_error(ErrorKind::protocol, fmt::format("no register {:#x}", regno));
}

// One register for 'p'.  A register the target cannot provide (unsupported) is sent as
// unavailable rather than as an error, as in 'g'.
Result<protocol::RegistersReply> read_one(Target& target, ThreadId thread, std::size_t regno) {
    const std::size_t size = target.arch().register_bytes(regno);
    protocol::RegistersReply reply{std::vector<std::uint8_t>(size)};
    auto read = target.read_register_or_zero(thread, regno, reply.bytes);
    if (!read) return std::unexpected(read.error());
    if (!*read) reply.unavailable.push_back({0, size});
    return reply;
}

BreakpointType to_target(protocol::BreakpointKind kind) {
    switch (kind) {
        case protocol::BreakpointKind::software:
            return BreakpointType::software;
        case protocol::BreakpointKind::hardware:
            return BreakpointType::hardware;
        case protocol::BreakpointKind::write:
            return BreakpointType::write_watch;
        case protocol::BreakpointKind::read:
            return BreakpointType::read_watch;
        case protocol::BreakpointKind::access:
            return BreakpointType::access_watch;
    }
    return BreakpointType::software;
}

}  // namespace

Result<ThreadId> Session::Impl::register_thread_of(
    const std::optional<protocol::ThreadSpec>& suffix) const {
    ThreadId thread = register_thread;
    if (suffix) {
        auto named = resolve_thread(*suffix);
        if (!named) return std::unexpected(named.error());
        // "any" and "all" mean the current thread, as for Hg.
        if (*named) thread = **named;
    }
    // Registers of a running thread would be stale (DESIGN.md: a vCPU publishes them when it
    // stops), so non-stop mode refuses them, as gdb expects for a running thread.  Memory
    // and breakpoints stay available while threads run.
    if (non_stop && runs(thread))
        return make_error(ErrorKind::target, fmt::format("thread {} is running", thread), EBUSY);
    return thread;
}

Result<Response> Session::Impl::handle(const protocol::ReadRegisters& read) {
    auto thread = register_thread_of(read.thread);
    if (!thread) return std::unexpected(thread.error());
    const arch::Arch& arch = target.arch();
    protocol::RegistersReply reply{std::vector<std::uint8_t>(arch.all_register_bytes())};
    std::vector<std::size_t> unavailable;
    if (auto r = target.read_registers(*thread, reply.bytes, unavailable); !r)
        return std::unexpected(r.error());
    // The rows come in order: their offsets are summed in one pass.
    std::size_t offset = 0;
    std::size_t regno = 0;
    for (std::size_t row : unavailable) {
        if (row >= arch.registers.size()) break;
        for (; regno < row; ++regno) offset += arch.register_bytes(regno);
        reply.unavailable.push_back({offset, arch.register_bytes(row)});
    }
    return reply;
}

Result<Response> Session::Impl::handle(const protocol::WriteRegisters& write) {
    auto thread = register_thread_of(write.thread);
    if (!thread) return std::unexpected(thread.error());
    const std::size_t total = target.arch().all_register_bytes();
    if (write.data.size() != total) {
        return make_error(ErrorKind::protocol, fmt::format("'G' with {} bytes, registers take {}",
                                                           write.data.size(), total));
    }
    if (auto written = target.write_registers(*thread, write.data); !written)
        return std::unexpected(written.error());
    return protocol::OkReply{};
}

Result<Response> Session::Impl::handle(const protocol::ReadRegister& read) {
    auto thread = register_thread_of(read.thread);
    if (!thread) return std::unexpected(thread.error());
    if (read.regno >= target.arch().registers.size()) return bad_register(read.regno);
    return read_one(target, *thread, read.regno);
}

Result<Response> Session::Impl::handle(const protocol::WriteRegister& write) {
    auto thread = register_thread_of(write.thread);
    if (!thread) return std::unexpected(thread.error());
    const arch::Arch& arch = target.arch();
    if (write.regno >= arch.registers.size()) return bad_register(write.regno);
    if (write.value.size() != arch.register_bytes(write.regno)) {
        return make_error(ErrorKind::protocol,
                          fmt::format("'P' value of {} bytes for {}", write.value.size(),
                                      arch.registers[write.regno].name));
    }
    auto written = target.write_register(*thread, write.regno, write.value);
    if (!written) return std::unexpected(written.error());
    return protocol::OkReply{};
}

Result<Response> Session::Impl::handle(const protocol::ReadMemory& read) {
    if (read.length == 0) return make_error(ErrorKind::protocol, "'m' of zero bytes");
    // Two hex digits per byte must fit in one packet; gdb reads the rest with more 'm'.
    std::size_t length = std::min<std::uint64_t>(read.length, codec.max_packet() / 2);
    protocol::MemoryReply reply{std::vector<std::uint8_t>(length)};
    auto count = target.read_memory(read.address, reply.bytes);
    if (!count) return std::unexpected(count.error());
    if (*count == 0) {
        return make_error(ErrorKind::target, fmt::format("no memory at {:#x}", read.address),
                          EFAULT);
    }
    reply.bytes.resize(std::min(*count, length));
    return reply;
}

// Smaller replies take little to make: reading them ahead would cost more than it saves (gdb
// reads a byte or a few at pc at each stop).
constexpr std::size_t kReadAheadMinimum = 1024;

void Session::Impl::expect_next_read(const protocol::ReadMemory& read, std::size_t bytes) {
    if (options.log_packet || running || non_stop || finished || bytes < kReadAheadMinimum) return;
    // A short reply ended at memory that cannot be read: the next one will not be there.
    if (bytes < std::min<std::uint64_t>(read.length, codec.max_packet() / 2)) return;
    const std::uint64_t next = read.address + bytes;
    if (next < read.address) return;  // the top of the address space
    next_read = protocol::ReadMemory{next, read.length};
}

bool Session::Impl::send_made_ahead(const protocol::Command& command,
                                    std::optional<ReadAhead> ahead, std::string& out) {
    const auto* read = std::get_if<protocol::ReadMemory>(&command);
    if (!ahead || !read || read->address != ahead->read.address ||
        read->length != ahead->read.length || !console.empty())
        return false;
    codec.send_frame(ahead->frame, out);
    expect_next_read(*read, ahead->bytes);
    return true;
}

Result<Response> Session::Impl::handle(const protocol::WriteMemory& write) {
    // "X addr,0:" is gdb's probe for binary downloads: answering OK enables them.
    if (write.data.empty()) return protocol::OkReply{};
    auto written = target.write_memory(write.address, write.data);
    if (!written) return std::unexpected(written.error());
    return protocol::OkReply{};
}

Result<Response> Session::Impl::handle(const protocol::Breakpoint& bp) {
    BreakpointType type = to_target(bp.type);
    auto done = bp.insert ? target.insert_breakpoint(type, bp.address, bp.kind)
                          : target.remove_breakpoint(type, bp.address, bp.kind);
    if (!done) return std::unexpected(done.error());
    return protocol::OkReply{};
}

}  // namespace hvgdb::gdbstub
