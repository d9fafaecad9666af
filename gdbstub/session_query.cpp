// Handlers for capabilities, threads, the target description and the memory map (gdb
// manual, "General Query Packets", "Packets" and "Memory Map Format"; lldb's
// qMemoryRegionInfo, docs/resources/lldbgdbremote.md).
#include <fmt/format.h>

#include <algorithm>

#include "gdbstub/arch/target_xml.hpp"
#include "gdbstub/memory_map.hpp"
#include "gdbstub/session_impl.hpp"

namespace hvgdb::gdbstub {

namespace {

// What we tell the client in qSupported: only what is implemented.  Not qXfer:threads:read,
// though it is served: gdb reads the thread list at every stop, and parsing the XML costs it
// more (some 30 us of its CPU per stop, measured with gdb 13) than the two small exchanges of
// qfThreadInfo/qsThreadInfo, so every stepi and breakpoint stop is faster without it.  A user
// can still have it with gdb's `set remote threads-packet on`.
constexpr std::string_view kStubFeatures[] = {
    "QStartNoAckMode+", "qXfer:features:read+", "swbreak+", "hwbreak+", "vContSupported+",
};

// `text` as XML character data: &, < and > as entities, control characters other than tab
// and newline (which XML 1.0 does not allow) left out, and bytes past ASCII as '?' (they may
// not be UTF-8, and gdb drops a whole document it cannot parse).
void append_xml_text(std::string& out, std::string_view text) {
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else if (byte >= 0x80)
            out += '?';
        else if (byte >= 0x20 || c == '\t' || c == '\n')
            out += c;
    }
}

// vCont? reply: the actions parse_vcont accepts.
constexpr std::string_view kVContActions = "cCsSt";

// gdb manual, "General Query Packets", qXfer: "E00" means the annex is invalid.  Not
// constexpr: clang (the fuzz build) cannot construct libstdc++ 12's std::string at compile time.
const protocol::ErrorReply kBadAnnex{0x00};

Error no_memory_map() {
    return Error{ErrorKind::unsupported, 0, "the target has no memory map"};
}

Error no_such_thread(std::uint32_t id) {
    return Error{ErrorKind::target, 0, fmt::format("no thread {:#x}", id)};
}

}  // namespace

Result<std::optional<ThreadId>> Session::Impl::resolve_thread(
    const protocol::ThreadSpec& spec) const {
    using Kind = protocol::IdSpec::Kind;
    // One process, pid 1, as gdb numbers a single-inferior remote target.
    if (spec.process && spec.process->kind == Kind::one && spec.process->id != 1) {
        return std::unexpected(Error{ErrorKind::target, 0, "no such process"});
    }
    if (spec.thread.kind != Kind::one) return std::nullopt;
    auto threads = target.threads();
    if (std::ranges::find(threads, spec.thread.id) == threads.end()) {
        return std::unexpected(no_such_thread(spec.thread.id));
    }
    return spec.thread.id;
}

Result<Response> Session::Impl::handle(const protocol::QuerySupported& query) {
    for (const protocol::ClientFeature& feature : query.features) {
        bool on = feature.kind == protocol::ClientFeature::Kind::supported;
        if (feature.name == "swbreak") client_swbreak = on;
        if (feature.name == "hwbreak") client_hwbreak = on;
    }
    protocol::SupportedReply reply{codec.max_packet(), {}};
    for (std::string_view feature : kStubFeatures) reply.features.emplace_back(feature);
    if (target.supports_non_stop()) reply.features.emplace_back("QNonStop+");
    // gdb reads the map once per connection when it is announced, and then holds every
    // memory access to it (gdb manual, "Memory Map Format").
    if (!target.memory_map().empty()) reply.features.emplace_back("qXfer:memory-map:read+");
    return reply;
}

Result<Response> Session::Impl::handle(const protocol::StartNoAckMode&) {
    return protocol::OkReply{};
}

Result<Response> Session::Impl::handle(const protocol::QueryVCont&) {
    return protocol::VContActionsReply{std::string(kVContActions)};
}

Result<Response> Session::Impl::handle(const protocol::SetThread& set) {
    auto thread = resolve_thread(set.thread);
    if (!thread) return std::unexpected(thread.error());
    if (set.purpose == protocol::SetThread::Purpose::registers) {
        // "any" and "all" keep the current thread: registers belong to one thread.
        if (*thread) make_current(**thread);
    } else {
        resume_thread = *thread;
    }
    return protocol::OkReply{};
}

Result<Response> Session::Impl::handle(const protocol::ThreadAlive& alive) {
    auto thread = resolve_thread(alive.thread);
    if (!thread) return std::unexpected(thread.error());
    return protocol::OkReply{};
}

Result<Response> Session::Impl::handle(const protocol::QueryCurrentThread&) {
    return protocol::CurrentThreadReply{register_thread};
}

Result<Response> Session::Impl::handle(const protocol::QueryThreadExtraInfo& query) {
    auto thread = resolve_thread(query.thread);
    if (!thread) return std::unexpected(thread.error());
    if (!*thread) return make_error(ErrorKind::protocol, "qThreadExtraInfo names no one thread");
    // The reply is the text in hex, like memory (gdb manual, "General Query Packets").
    std::string text = describe(**thread);
    return protocol::MemoryReply{{text.begin(), text.end()}};
}

std::string Session::Impl::describe(ThreadId thread) {
    // The target describes stopped threads only; a running one (non-stop mode) keeps the
    // line of its last stop, as an empty one makes gdb stop asking qThreadExtraInfo for good.
    if (non_stop && runs(thread)) {
        auto known = thread_descriptions.find(thread);
        return known != thread_descriptions.end() ? known->second : "running";
    }
    std::string text = target.thread_description(thread);
    thread_descriptions[thread] = text;
    return text;
}

Result<Response> Session::Impl::handle(const protocol::ReadThreads& read) {
    if (!read.annex.empty()) return kBadAnnex;
    // gdb reads this after each stop, where it would send qfThreadInfo and qsThreadInfo: one
    // exchange instead of two.  Made when a read starts at 0, so that the windows of one read
    // agree with each other.
    if (read.offset == 0 || thread_list.empty()) {
        thread_list = "<?xml version=\"1.0\"?>\n<threads>\n";
        for (ThreadId thread : target.threads()) {
            // The body is what gdb shows in parentheses in `info threads`; with this object
            // it sends no qThreadExtraInfo.
            thread_list += fmt::format("<thread id=\"{:x}\">", thread);
            append_xml_text(thread_list, describe(thread));
            thread_list += "</thread>\n";
        }
        thread_list += "</threads>\n";
    }
    return xfer_window(thread_list, read.offset, read.length);
}

Result<Response> Session::Impl::handle(const protocol::QueryThreadList& query) {
    // Every thread fits in the first reply; the follow-up query ends the list.
    if (!query.first) return protocol::ThreadListReply{};
    auto threads = target.threads();
    return protocol::ThreadListReply{{threads.begin(), threads.end()}};
}

Result<Response> Session::Impl::handle(const protocol::QueryAttached&) {
    // The machine existed before the debugger came, so quitting gdb detaches, not kills.
    return protocol::AttachedReply{true};
}

Result<Response> Session::Impl::handle(const protocol::ReadFeatures& read) {
    if (read.annex != "target.xml") return kBadAnnex;
    const arch::Arch& arch = target.arch();
    if (described_arch != &arch) {
        description = arch::target_xml(arch);
        described_arch = &arch;
    }
    return xfer_window(description, read.offset, read.length);
}

protocol::XferReply Session::Impl::xfer_window(std::string_view document, std::uint64_t offset,
                                               std::uint64_t length) const {
    if (offset >= document.size()) return protocol::XferReply{false, {}};
    // Every byte might need an escape, and the reply has a one-byte 'm'/'l' prefix.
    std::size_t room = (codec.max_packet() - 1) / 2;
    std::size_t size = std::min<std::uint64_t>({length, room, document.size() - offset});
    bool more = offset + size < document.size();
    return protocol::XferReply{more, std::string(document.substr(offset, size))};
}

Result<Response> Session::Impl::handle(const protocol::ReadMemoryMap& read) {
    // Made when a read starts at 0, so that the windows of one read agree with each other.
    if (read.offset == 0 || memory_map.empty()) {
        auto map = target.memory_map();
        if (map.empty()) return std::unexpected(no_memory_map());
        memory_map = memory_map_xml(map);
    }
    if (!read.annex.empty()) return kBadAnnex;
    return xfer_window(memory_map, read.offset, read.length);
}

Result<Response> Session::Impl::handle(const protocol::QueryMemoryRegion& query) {
    auto map = target.memory_map();
    if (map.empty()) return std::unexpected(no_memory_map());
    RegionAt region = region_at(map, query.address);
    // lldb: a range that is memory has permissions; one without them is not mapped.
    std::string permissions;
    if (region.kind) permissions = *region.kind == MemoryKind::rom ? "rx" : "rwx";
    return protocol::MemoryRegionInfoReply{region.start, region.size, std::move(permissions)};
}

Result<Response> Session::Impl::handle(const protocol::Unsupported&) {
    return protocol::EmptyReply{};
}

Result<Response> Session::Impl::handle(const protocol::Monitor& m) {
    auto text = target.monitor(m.command);
    if (!text) {
        // The user reads why; gdb then reports the command as failed.
        if (text.error().kind != ErrorKind::unsupported) console = text.error().message() + "\n";
        return std::unexpected(text.error());
    }
    console = std::move(*text);
    if (target.end_requested()) end_target();  // as vKill: OK, then the connection closes
    return protocol::OkReply{};
}

}  // namespace hvgdb::gdbstub
