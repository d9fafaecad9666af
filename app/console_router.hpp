// Where the guest's console output goes: always to the serial sink (--serial), and to the
// debugger as well while forwarding is on (--console-to-debugger, `monitor console`).  The
// vCPU threads write; the debugger's side (the server) takes the text without blocking and
// decides when a debugger can see it.  Depends on std only.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace hvgdb::app {

using TextSink = std::function<void(std::string_view)>;

class ConsoleRouter {
  public:
    // `serial`: the serial sink, empty for none; `serial_name` says where it writes, for
    // `monitor console`.  `forward`: whether each new debugger starts with forwarding on.
    ConsoleRouter(TextSink serial, std::string serial_name, bool forward);

    // From vCPU threads: the guest wrote `text`.
    void write(std::string_view text);

    // Where forwarded text goes; empty for nowhere.  Any thread.
    void set_debugger(TextSink sink);

    void set_forwarding(bool on) { forwarding_.store(on); }
    bool forwarding() const { return forwarding_.load(); }
    // Forwarding as the command line set it, for a new debugger.
    void restore_default() { forwarding_.store(forward_by_default_); }

    // "guest console: <serial>; to the debugger: on|off ..." for `monitor console`.
    std::string describe() const;

  private:
    TextSink serial_;
    std::string serial_name_;
    bool forward_by_default_;
    std::atomic<bool> forwarding_;
    std::mutex debugger_mutex_;  // set_debugger against vCPU threads' writes
    TextSink debugger_;
};

}  // namespace hvgdb::app
