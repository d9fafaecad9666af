// The one writer: Response values -> payload text -> `$payload#cs` frames.  Nothing else in
// the stub knows wire syntax for replies.  Pure: std + fmt.
#pragma once

#include <string>
#include <string_view>

#include "gdbstub/protocol/response.hpp"

namespace hvgdb::gdbstub::protocol {

// The payload of a reply, before escaping.  NoReply and EmptyReply both give "" (the caller
// sends nothing for NoReply).
std::string encode_payload(const Response& response);

// gdb manual, "Overview": '$', '#', '}' must always be escaped, and a stub must also escape
// '*' so it is not read as run-length encoding.  Escape = '}' then the byte xor 0x20.
bool needs_escape(char c);

// Appends `$<encoded payload>#<two hex digits of the modulo-256 sum of the encoded payload>`,
// the payload escaped and run-length encoded (gdb manual, "Overview": runs of 4 to 98 equal
// characters go as the character, '*' and a count; escape pairs are never part of a run).
// gdb and lldb decode it; the zeros of memory and registers shrink to a few bytes.
void append_frame(std::string& out, std::string_view payload);

// gdb manual, "Notification Packets": `%<encoded payload>#<checksum>`, encoded and
// checksummed like a packet and never acknowledged.
void append_notification_frame(std::string& out, std::string_view payload);

// The payload of a non-stop stop notification: "Stop:" and the stop reply (gdb manual,
// "Notification Packets": `%Stop:T05...`).  `stop` is a StopReply, ExitedReply or
// TerminatedReply.
std::string encode_stop_notification(const Response& stop);

// gdb thread ids on the wire: hex, at least two digits ("01", "1a").
void append_thread_id(std::string& out, std::uint32_t thread);

}  // namespace hvgdb::gdbstub::protocol
