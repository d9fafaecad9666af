// Typed commands: each packet the stub understands becomes one of these structs, so nothing
// past the parsers sees wire syntax.  Formats from the gdb manual, "Packets", "General Query
// Packets" and "Packet Acknowledgment".  Pure: std only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hvgdb::gdbstub::protocol {

// One process or thread id field: a positive id, 0 for "any", -1 for "all".
struct IdSpec {
    enum class Kind { any, all, one };
    Kind kind = Kind::any;
    std::uint32_t id = 0;  // Kind::one only

    friend bool operator==(const IdSpec&, const IdSpec&) = default;
};

// gdb manual, "Packets", thread-id syntax: "tid", or "p<pid>.<tid>" with the multiprocess
// extensions, where "p<pid>" alone means every thread of pid.
struct ThreadSpec {
    std::optional<IdSpec> process;
    IdSpec thread;

    friend bool operator==(const ThreadSpec&, const ThreadSpec&) = default;
};

// qSupported's client features: "name+", "name-", "name?" or "name=value".
struct ClientFeature {
    enum class Kind { supported, unsupported, query, value };
    std::string name;
    Kind kind = Kind::supported;
    std::string value;  // Kind::value only
};

struct QuerySupported {
    std::vector<ClientFeature> features;
};
struct StartNoAckMode {};
struct QueryHaltReason {};  // '?'
// The register packets take lldb's thread suffix (QThreadSuffixSupported, lldb's
// docs/resources/lldbgdbremote.md): "p1a;thread:2;" names its thread, which is then used
// instead of Hg's.
struct ReadRegisters {  // 'g'
    std::optional<ThreadSpec> thread = {};
};
struct WriteRegisters {  // 'G'
    std::vector<std::uint8_t> data;
    std::optional<ThreadSpec> thread = {};
};
struct ReadRegister {  // 'p n'
    std::size_t regno = 0;
    std::optional<ThreadSpec> thread = {};
};
struct WriteRegister {  // 'P n=r'
    std::size_t regno = 0;
    std::vector<std::uint8_t> value;
    std::optional<ThreadSpec> thread = {};
};
struct ReadMemory {  // 'm addr,length'
    std::uint64_t address = 0;
    std::uint64_t length = 0;
};
struct WriteMemory {  // 'M addr,length:hex' and 'X addr,length:binary'
    std::uint64_t address = 0;
    std::vector<std::uint8_t> data;
};

enum class ResumeAction { cont, step, stop };

// 'c [addr]', 's [addr]', 'C sig[;addr]', 'S sig[;addr]'.
struct Resume {
    ResumeAction action = ResumeAction::cont;
    std::optional<std::uint8_t> signal;
    std::optional<std::uint64_t> address;
};
struct QueryVCont {};  // 'vCont?'
struct VContAction {
    ResumeAction action = ResumeAction::cont;
    std::optional<std::uint8_t> signal;
    std::optional<ThreadSpec> thread;  // none: every thread no other action names
};
struct VCont {
    std::vector<VContAction> actions;
};

// Z/z type field, gdb manual "Packets", 'Z type,addr,kind'.
enum class BreakpointKind : std::uint8_t {
    software = 0,
    hardware = 1,
    write = 2,
    read = 3,
    access = 4
};
struct Breakpoint {
    bool insert = true;  // 'Z' inserts, 'z' removes
    BreakpointKind type = BreakpointKind::software;
    std::uint64_t address = 0;
    std::uint64_t kind = 0;  // breakpoint length, or watched length
};

// 'Hg thread-id' (registers) and 'Hc thread-id' (legacy c/s).
struct SetThread {
    enum class Purpose { registers, resume };
    Purpose purpose = Purpose::registers;
    ThreadSpec thread;
};
struct ThreadAlive {  // 'T thread-id'
    ThreadSpec thread;
};
struct QueryCurrentThread {};  // 'qC'
struct QueryThreadExtraInfo {  // 'qThreadExtraInfo,thread-id'
    ThreadSpec thread;
};
struct QueryThreadList {  // 'qfThreadInfo' / 'qsThreadInfo'
    bool first = true;
};
struct QueryAttached {  // 'qAttached[:pid]'
    std::optional<std::uint32_t> pid;
};
struct ReadFeatures {  // 'qXfer:features:read:annex:offset,length'
    std::string annex;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};
// 'qXfer:memory-map:read:annex:offset,length' (gdb manual, "Memory Map Format"): the annex
// is empty; another is answered E00.
struct ReadMemoryMap {
    std::string annex;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};
// 'qXfer:threads:read:annex:offset,length' (gdb manual, "Thread List Format"): the annex is
// empty; another is answered E00.
struct ReadThreads {
    std::string annex;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};
// 'qMemoryRegionInfo:addr' (lldb's docs/resources/lldbgdbremote.md): the range holding addr.
struct QueryMemoryRegion {
    std::uint64_t address = 0;
};
struct Detach {  // 'D' or 'D;pid'
    std::optional<std::uint32_t> pid;
};
// 'qRcmd,hex': a "monitor" command, as text (gdb manual, "General Query Packets").
struct Monitor {
    std::string command;
};
struct Kill {};  // 'k'
struct VKill {   // 'vKill;pid'
    std::uint32_t pid = 0;
};
// Non-stop mode (gdb manual, "Remote Non-Stop" and "Notification Packets").
struct SetNonStop {  // 'QNonStop:1' enters non-stop mode, 'QNonStop:0' all-stop mode
    bool on = false;
};
struct VStopped {};  // 'vStopped': acknowledges a stop notification, asks for the next stop
struct VCtrlC {};    // 'vCtrlC': Ctrl-C as a packet, for non-stop mode
// lldb's extensions (lldb's docs/resources/lldbgdbremote.md).
struct QueryHostInfo {};           // 'qHostInfo'
struct QueryProcessInfo {};        // 'qProcessInfo'
struct EnableThreadSuffix {};      // 'QThreadSuffixSupported'
struct ListThreadsInStopReply {};  // 'QListThreadsInStopReply': stop replies list every thread
struct QueryThreadsInfo {};        // 'jThreadsInfo': every thread's stop, as JSON
struct QueryThreadStopInfo {       // 'qThreadStopInfo<tid>': one thread's stop reply
    ThreadSpec thread;
};
struct QueryWatchpointSupport {};  // 'qWatchpointSupportInfo' or 'qWatchpointSupportInfo:'
struct QueryServerVersion {};      // 'qGDBServerVersion'
struct EnableErrorStrings {};      // 'QEnableErrorStrings': E replies may carry their text
// Any packet the stub does not implement: answered with the empty reply.
struct Unsupported {};

using Command =
    std::variant<QuerySupported, StartNoAckMode, QueryHaltReason, ReadRegisters, WriteRegisters,
                 ReadRegister, WriteRegister, ReadMemory, WriteMemory, Resume, QueryVCont, VCont,
                 Breakpoint, SetThread, ThreadAlive, QueryCurrentThread, QueryThreadExtraInfo,
                 QueryThreadList, QueryAttached, ReadFeatures, ReadMemoryMap, ReadThreads,
                 QueryMemoryRegion, Monitor, Detach, Kill, VKill, SetNonStop, VStopped, VCtrlC,
                 QueryHostInfo, QueryProcessInfo, EnableThreadSuffix, ListThreadsInStopReply,
                 QueryThreadsInfo, QueryThreadStopInfo, QueryWatchpointSupport, QueryServerVersion,
                 EnableErrorStrings, Unsupported>;

}  // namespace hvgdb::gdbstub::protocol
