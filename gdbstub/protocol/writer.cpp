// The one writer.  See writer.hpp; reply formats from the gdb manual, "Packets" and "Stop
// Reply Packets", and lldb's docs/resources/lldbgdbremote.md for lldb's packets.
#include "gdbstub/protocol/writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>

#include "gdbstub/protocol/hex.hpp"

namespace hvgdb::gdbstub::protocol {

namespace {

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};

// Text as two hex digits per byte.
void append_hex_text(std::string& out, std::string_view text) {
    // Viewing chars as bytes: same size and representation.
    append_hex(out, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void append_registers(std::string& out, const RegistersReply& reply) {
    const std::span<const std::uint8_t> bytes = reply.bytes;
    std::size_t at = 0;
    for (const RegistersReply::Span& gap : reply.unavailable) {
        const std::size_t start = std::clamp(gap.offset, at, bytes.size());
        const std::size_t end = std::min(start + gap.size, bytes.size());
        append_hex(out, bytes.subspan(at, start - at));
        out.append((end - start) * 2, 'x');
        at = end;
    }
    append_hex(out, bytes.subspan(at));
}

std::string_view cause_key(StopCause cause) {
    switch (cause) {
        case StopCause::none:
            return {};
        case StopCause::swbreak:
            return "swbreak";
        case StopCause::hwbreak:
            return "hwbreak";
        case StopCause::watch:
            return "watch";
        case StopCause::rwatch:
            return "rwatch";
        case StopCause::awatch:
            return "awatch";
    }
    return {};
}

// "T05thread:01;06:<bytes>;...;swbreak:;"
void append_stop(std::string& out, const StopReply& stop) {
    out.push_back('T');
    append_hex_number(out, stop.signal, 2);
    out += "thread:";
    append_thread_id(out, stop.thread);
    out.push_back(';');
    for (const StopReply::Register& reg : stop.registers) {
        append_hex_number(out, reg.regno, 2);
        out.push_back(':');
        append_hex(out, reg.bytes);
        out.push_back(';');
    }
    if (!stop.threads.empty()) {
        out += "threads:";
        for (std::size_t i = 0; i < stop.threads.size(); ++i) {
            if (i != 0) out.push_back(',');
            append_thread_id(out, stop.threads[i]);
        }
        out.push_back(';');
    }
    if (!stop.thread_pcs.empty()) {
        out += "thread-pcs:";
        for (std::size_t i = 0; i < stop.thread_pcs.size(); ++i) {
            if (i != 0) out.push_back(',');
            append_hex_number(out, stop.thread_pcs[i]);
        }
        out.push_back(';');
    }
    std::string_view key = cause_key(stop.cause);
    if (key.empty()) return;
    out.append(key);
    out.push_back(':');
    bool is_watch = stop.cause == StopCause::watch || stop.cause == StopCause::rwatch ||
                    stop.cause == StopCause::awatch;
    if (is_watch) append_hex_number(out, stop.data_address);
    out.push_back(';');
}

void append_host_info(std::string& out, const HostInfoReply& info) {
    auto it = std::back_inserter(out);
    if (info.pid) fmt::format_to(it, "pid:{:x};", *info.pid);
    out += "triple:";
    append_hex_text(out, info.triple);
    fmt::format_to(it, ";endian:little;ptrsize:{};", info.pointer_size);
    if (info.watch_stops_after) out += "watchpoint_exceptions_received:after;";
}

// A JSON string: quotes, backslashes, control characters and every byte above ASCII escaped
// (RFC 8259, 7), so any text is valid JSON; a non-ASCII byte reads as its Latin-1 character.
void append_json_string(std::string& out, std::string_view text) {
    out.push_back('"');
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80) {
            fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned char>(c));
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

std::string_view lldb_reason(LldbStopReason reason) {
    switch (reason) {
        case LldbStopReason::none:
            return {};
        case LldbStopReason::breakpoint:
            return "breakpoint";
        case LldbStopReason::trace:
            return "trace";
        case LldbStopReason::watchpoint:
            return "watchpoint";
    }
    return {};
}

// jThreadsInfo's JSON.  lldb reads a watchpoint's "description" as the watched address in
// decimal, as it writes the description of a gdb-style "watch:" stop itself.
void append_threads_info(std::string& out, const ThreadsInfoReply& info) {
    auto it = std::back_inserter(out);
    out.push_back('[');
    for (std::size_t i = 0; i < info.threads.size(); ++i) {
        const ThreadsInfoReply::Thread& t = info.threads[i];
        if (i != 0) out.push_back(',');
        fmt::format_to(it, "{{\"tid\":{}", t.tid);
        if (t.signal != 0) fmt::format_to(it, ",\"signal\":{}", t.signal);
        if (std::string_view reason = lldb_reason(t.reason); !reason.empty()) {
            fmt::format_to(it, ",\"reason\":\"{}\"", reason);
            if (t.reason == LldbStopReason::watchpoint)
                fmt::format_to(it, ",\"description\":\"{}\"", t.watch_address);
        }
        if (!t.name.empty()) {
            out += ",\"name\":";
            append_json_string(out, t.name);
        }
        out += ",\"registers\":{";
        for (std::size_t r = 0; r < t.registers.size(); ++r) {
            if (r != 0) out.push_back(',');
            fmt::format_to(it, "\"{}\":\"", t.registers[r].regno);
            append_hex(out, t.registers[r].bytes);
            out.push_back('"');
        }
        out += "}}";
    }
    out.push_back(']');
}

}  // namespace

std::string encode_payload(const Response& response) {
    std::string out;
    auto it = std::back_inserter(out);
    std::visit(Overloaded{
                   [](const NoReply&) {},
                   [](const EmptyReply&) {},
                   [&](const OkReply&) { out = "OK"; },
                   [&](const ErrorReply& e) {
                       fmt::format_to(it, "E{:02x}", e.code);
                       if (e.text.empty()) return;
                       out.push_back(';');
                       append_hex_text(out, e.text);
                   },
                   [&](const RegistersReply& r) { append_registers(out, r); },
                   [&](const MemoryReply& m) { append_hex(out, m.bytes); },
                   [&](const StopReply& s) { append_stop(out, s); },
                   [&](const ExitedReply& w) { fmt::format_to(it, "W{:02x}", w.status); },
                   [&](const TerminatedReply& x) { fmt::format_to(it, "X{:02x}", x.signal); },
                   [&](const SupportedReply& s) {
                       fmt::format_to(it, "PacketSize={:x}", s.packet_size);
                       for (const std::string& f : s.features) fmt::format_to(it, ";{}", f);
                   },
                   [&](const VContActionsReply& v) {
                       out = "vCont";
                       for (char a : v.actions) fmt::format_to(it, ";{}", a);
                   },
                   [&](const ThreadListReply& t) {
                       if (t.threads.empty()) {
                           out = "l";
                           return;
                       }
                       out = "m";
                       for (std::size_t i = 0; i < t.threads.size(); ++i) {
                           if (i != 0) out.push_back(',');
                           append_thread_id(out, t.threads[i]);
                       }
                   },
                   [&](const CurrentThreadReply& c) {
                       out = "QC";
                       append_thread_id(out, c.thread);
                   },
                   [&](const AttachedReply& a) { out = a.attached ? "1" : "0"; },
                   [&](const XferReply& x) {
                       out = x.more ? "m" : "l";
                       out += x.data;
                   },
                   [&](const MemoryRegionInfoReply& r) {
                       fmt::format_to(it, "start:{:x};size:{:x};", r.start, r.size);
                       if (!r.permissions.empty())
                           fmt::format_to(it, "permissions:{};", r.permissions);
                   },
                   [&](const HostInfoReply& h) { append_host_info(out, h); },
                   [&](const ServerVersionReply& v) {
                       fmt::format_to(it, "name:{};version:{};", v.name, v.version);
                   },
                   [&](const WatchpointSupportReply& w) { fmt::format_to(it, "num:{};", w.count); },
                   [&](const ThreadsInfoReply& t) { append_threads_info(out, t); },
                   [&](const ConsoleOutput& o) {
                       out = "O";
                       append_hex_text(out, o.text);
                   },
               },
               response);
    return out;
}

namespace {

constexpr std::array<bool, 256> kEscaped = [] {
    std::array<bool, 256> escaped{};
    for (char c : {'$', '#', '}', '*'}) escaped[static_cast<unsigned char>(c)] = true;
    return escaped;
}();

}  // namespace

bool needs_escape(char c) {
    return kEscaped[static_cast<unsigned char>(c)];
}

namespace {

// gdb manual, "Overview": a run of identical characters may go as the character, '*' and a
// count character, n + 29 for n more copies.  Counts must be printable and never '#' or '$':
// 3 to 97 more copies, not 6 or 7 (a run that would need them takes 5 and the rest follows).
constexpr std::size_t kRepeatBias = 29;
constexpr std::size_t kMinRepeats = 3;  // from here the three characters are shorter
constexpr std::size_t kMaxRepeats = '~' - kRepeatBias;

// How many characters from `s` on go out as they are: up to the first that needs an escape
// or starts a run of kMinRepeats + 1 equal ones.  Tests without branches, as both are rare in
// hex: the scan of a memory reply.  Stops kMinRepeats short of `end`.
std::size_t verbatim_prefix(const char* s, const char* end) {
    static_assert(kMinRepeats == 3);
    const char* p = s;
    while (end - p > 3) {
        const bool run = (p[0] == p[1]) & (p[1] == p[2]) & (p[2] == p[3]);
        if (run | kEscaped[static_cast<unsigned char>(p[0])]) break;
        ++p;
    }
    return static_cast<std::size_t>(p - s);
}

// The modulo-256 sum of [p, end), the packet checksum: eight bytes at a time, as four sums in
// the 16-bit lanes of a word, each kept modulo 256 (three bytes' worth never carries out).
std::uint8_t byte_sum(const char* p, const char* end) {
    constexpr std::uint64_t kLow = 0x00ff00ff00ff00ff;
    std::uint64_t lanes = 0;
    for (; end - p >= 8; p += 8) {
        std::uint64_t word;
        std::memcpy(&word, p, sizeof word);
        lanes = (lanes + (word & kLow) + ((word >> 8) & kLow)) & kLow;
    }
    std::uint64_t sum = lanes + (lanes >> 16) + (lanes >> 32) + (lanes >> 48);
    for (; p != end; ++p) sum += static_cast<unsigned char>(*p);
    return static_cast<std::uint8_t>(sum);
}

std::size_t repeats_to_send(std::size_t more) {
    more = std::min(more, kMaxRepeats);
    if (more + kRepeatBias == '#' || more + kRepeatBias == '$') return '"' - kRepeatBias;
    return more;
}

// `<start><escaped, run-length encoded payload>#<checksum>`: the one framing of packets and
// notifications.  gdb expands a run before it undoes escapes, lldb after, so an escape pair is
// never part of a run: both then read the same bytes.  Written through a pointer, stretches
// that need no encoding copied whole: a memory reply is tens of KiB.
void append_framed(std::string& out, char start_char, std::string_view payload) {
    const std::size_t at = out.size();
    out.resize(at + 1 + 2 * payload.size());  // the most it takes: every character escaped
    char* const first = out.data() + at;
    char* p = first;
    *p++ = start_char;
    const char* s = payload.data();
    const char* const end = s + payload.size();
    while (s != end) {
        const std::size_t verbatim = verbatim_prefix(s, end);
        std::memcpy(p, s, verbatim);
        p += verbatim;
        s += verbatim;
        if (s == end) break;
        const char c = *s++;
        if (needs_escape(c)) {
            *p++ = '}';
            *p++ = static_cast<char>(c ^ 0x20);
            continue;
        }
        *p++ = c;
        std::size_t more = 0;  // copies of c that follow
        while (more < kMaxRepeats && s + more != end && s[more] == c) ++more;
        if (more < kMinRepeats) continue;  // they go one by one
        more = repeats_to_send(more);
        *p++ = '*';
        *p++ = static_cast<char>(more + kRepeatBias);
        s += more;
    }
    const std::uint8_t sum = byte_sum(first + 1, p);  // what went out between the markers
    out.resize(at + static_cast<std::size_t>(p - first));
    out.push_back('#');
    append_hex_number(out, sum, 2);
}

}  // namespace

void append_frame(std::string& out, std::string_view payload) {
    append_framed(out, '$', payload);
}

void append_notification_frame(std::string& out, std::string_view payload) {
    append_framed(out, '%', payload);
}

std::string encode_stop_notification(const Response& stop) {
    return "Stop:" + encode_payload(stop);
}

void append_thread_id(std::string& out, std::uint32_t thread) {
    append_hex_number(out, thread, 2);
}

}  // namespace hvgdb::gdbstub::protocol
