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
void append_escaped(std::string& out, std::string_view payload);

// Appends `$<escaped payload>#<two hex digits of the modulo-256 sum of the escaped payload>`.
void append_frame(std::string& out, std::string_view payload);

// gdb manual, "Notification Packets": `%<escaped payload>#<checksum>`, checksummed like a
// packet and never acknowledged.
void append_notification_frame(std::string& out, std::string_view payload);

// The payload of a non-stop stop notification: "Stop:" and the stop reply (gdb manual,
// "Notification Packets": `%Stop:T05...`).  `stop` is a StopReply, ExitedReply or
// TerminatedReply.
std::string encode_stop_notification(const Response& stop);

// gdb thread ids on the wire: hex, at least two digits ("01", "1a").
void append_thread_id(std::string& out, std::uint32_t thread);

}  // namespace hvgdb::gdbstub::protocol
