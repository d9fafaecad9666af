# hvgdb's gdb extension: keeps gdb's register view in step with the guest's CPU mode.
#
# Load it with `gdb -x hvgdb.py` (or `source hvgdb.py`) before or after `target remote`.
# At every stop it asks hvgdb (`monitor view`) which register view suits the mode the vCPU
# is in now: i8086 for real mode and 16-bit code, i386 for 32-bit code, x86-64 for 64-bit
# code.  When that differs from gdb's, it switches hvgdb's view (`monitor view auto`),
# fetches the new target description (`monitor tdesc`) and loads it with `set tdesc
# filename`, before gdb prints the stop, so registers, $pc and disassembly suit the new mode.
#
# gdb refuses a description whose width differs from the executable file it has loaded (a
# 64-bit ELF and the i8086 view, say).  So when the view changes, the executable file is
# unloaded (`exec-file` with no argument); its symbols stay, and memory comes from the guest.
# To start from such a pair, load symbols with `symbol-file FILE` rather than `file FILE`.
#
# Commands: `hvgdb-sync` does the check now; `hvgdb-follow on|off` turns it on or off.
#
# After every `monitor` command it also flushes gdb's register cache and checks the view
# again: a monitor command may change the vCPUs' registers behind gdb's back (`monitor
# reset` does), and gdb otherwise shows its old copies until the next stop.

import os
import re
import tempfile

import gdb

_VIEW_NOW = re.compile(r"^view (\S+) \((forced by --arch; )?the CPU mode suits (\S+)\)")
_VIEW_SET = re.compile(r"^view (\S+) \((changed|unchanged|forced)\)")


class _Follower:
    def __init__(self):
        self.enabled = True
        self.directory = None
        self.description_set = False
        self.syncing = False  # sync()'s own monitor commands need no flush

    def connected_to_remote(self):
        inferior = gdb.selected_inferior()
        if inferior is None or inferior.pid == 0:
            return False
        connection = getattr(inferior, "connection", None)
        return connection is None or connection.type in ("remote", "extended-remote")

    def sync(self, quiet=True):
        if not self.enabled or not self.connected_to_remote() or self.syncing:
            return
        self.syncing = True
        try:
            self._sync(quiet)
        finally:
            self.syncing = False

    def after_monitor(self):
        if self.syncing or not self.connected_to_remote():
            return
        gdb.execute("maint flush register-cache", to_string=True)
        self.sync()

    def _sync(self, quiet):
        try:
            answer = gdb.execute("monitor view", to_string=True)
        except gdb.error as e:
            if not quiet:
                print("hvgdb: the target did not answer 'monitor view': %s" % e)
            return
        now = _VIEW_NOW.match(answer.strip())
        if now is None:
            return
        served, forced, suits = now.group(1), now.group(2), now.group(3)
        wanted = served if forced else suits
        if served == wanted and _GDB_ARCH.get(gdb_architecture()) == wanted:
            return
        # Unload an executable of the old width while gdb's registers still match hvgdb's.
        if served != wanted and "Local exec file:" in gdb.execute("info files", to_string=True):
            gdb.execute("exec-file", to_string=True)
        if served != wanted:
            switched = _VIEW_SET.match(gdb.execute("monitor view auto", to_string=True).strip())
            if switched is None or switched.group(1) != wanted:
                return
        description = gdb.execute("monitor tdesc", to_string=True)
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix="hvgdb-gdb-")
        path = os.path.join(self.directory, wanted + ".xml")
        with open(path, "w") as f:
            f.write(description)
        gdb.execute("set tdesc filename " + path, to_string=True)
        self.description_set = True
        print("hvgdb: register view %s for the CPU's mode" % wanted)

    def forget(self, event=None):
        # A description file would outlive the connection and mislead the next one: each
        # connection starts from the description hvgdb sends.
        if self.description_set:
            self.description_set = False
            gdb.execute("unset tdesc filename", to_string=True)


def gdb_architecture():
    try:
        return gdb.selected_inferior().architecture().name()
    except (gdb.error, AttributeError):
        return ""


# gdb's architecture names -> hvgdb's view names.
_GDB_ARCH = {"i8086": "i8086", "i386": "i386", "i386:x86-64": "x86-64"}


_follower = _Follower()


class _SyncCommand(gdb.Command):
    """Match gdb's register view to the guest's CPU mode now (hvgdb)."""

    def __init__(self):
        super().__init__("hvgdb-sync", gdb.COMMAND_STATUS)

    def invoke(self, argument, from_tty):
        _follower.sync(quiet=False)


class _FollowCommand(gdb.Command):
    """hvgdb-follow on|off: follow the guest's CPU mode at each stop (default on)."""

    def __init__(self):
        super().__init__("hvgdb-follow", gdb.COMMAND_STATUS)

    def invoke(self, argument, from_tty):
        if argument.strip() not in ("on", "off"):
            raise gdb.GdbError("usage: hvgdb-follow on|off")
        _follower.enabled = argument.strip() == "on"


def _hvgdb_sync_at_stop():
    _follower.sync()


def _hvgdb_after_monitor():
    _follower.after_monitor()


def _user_defined(hook):
    try:
        gdb.execute("show user " + hook, to_string=True)
        return True
    except gdb.error:
        return False


def _install_hook():
    # hook-stop runs before gdb prints a stop, so the first stop in a new mode already shows
    # the right registers and disassembly.  A user's own hook-stop is kept; then the check
    # runs at gdb's stop event instead, after the stop is printed.  A user's own
    # hookpost-monitor is kept too (and then registers are flushed by hand after a reset).
    definitions = ""
    if _user_defined("hook-stop"):
        gdb.events.stop.connect(lambda event: _follower.sync())
    else:
        definitions += "define hook-stop\npython _hvgdb_sync_at_stop()\nend\n"
    if not _user_defined("hookpost-monitor"):
        definitions += "define hookpost-monitor\npython _hvgdb_after_monitor()\nend\n"
    if not definitions:
        return
    fd, script = tempfile.mkstemp(prefix="hvgdb-hook-", suffix=".gdb")
    with os.fdopen(fd, "w") as f:
        f.write(definitions)
    gdb.execute("source " + script, to_string=True)
    os.unlink(script)


_SyncCommand()
_FollowCommand()
_install_hook()
for _event in ("exited", "connection_removed"):
    if hasattr(gdb.events, _event):
        getattr(gdb.events, _event).connect(_follower.forget)
