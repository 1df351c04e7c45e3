"""Watching the namespace directories (/run/netns, docker's) through inotify, via ctypes.

`ip netns add` creates a file and then mounts the new namespace on it, and the directories
themselves may appear late or be mounted over; this module hides both from the watcher
(agent/watch.py), which only learns "look again" and "an entry is still becoming a namespace".
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import stat
import struct
import time
from collections.abc import Iterable

log = logging.getLogger("nsmap.agent.watch")

NS_RECHECKS = (0.02, 0.2, 1.0)  # s after a new entry appeared: `ip netns add` makes the file, then mounts

IN_ATTRIB, IN_MOVED_FROM, IN_MOVED_TO = 0x4, 0x40, 0x80
IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF = 0x100, 0x200, 0x400, 0x800
IN_ONLYDIR = 0x01000000
IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
DIR_EVENTS = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF
PARENT_EVENTS = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF
EVENT_HEADER = struct.Struct("=iIII")  # wd, mask, cookie, len


class Inotify:
    """The three inotify calls, via libc (the stdlib has no binding)."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        self.fd = int(self.libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
        if self.fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")

    def add_watch(self, path: str, mask: int) -> int:
        wd = int(self.libc.inotify_add_watch(self.fd, os.fsencode(path), ctypes.c_uint32(mask)))
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_add_watch {path}: {os.strerror(err)}")
        return wd

    def rm_watch(self, wd: int) -> None:
        self.libc.inotify_rm_watch(self.fd, wd)  # EINVAL when the kernel already dropped it

    def read(self) -> list[tuple[int, int, str]]:
        """(wd, mask, name) of every queued event; [] when none."""
        events: list[tuple[int, int, str]] = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return events
            pos = 0
            while pos + EVENT_HEADER.size <= len(data):
                wd, mask, _cookie, length = EVENT_HEADER.unpack_from(data, pos)
                name = data[pos + EVENT_HEADER.size : pos + EVENT_HEADER.size + length].split(b"\0", 1)[0]
                events.append((wd, mask, os.fsdecode(name)))
                pos += EVENT_HEADER.size + length

    def close(self) -> None:
        os.close(self.fd)


class DirWatch:
    """Watch a directory that may not exist yet, and may be replaced or mounted over.

    Watches the target itself when it exists, else its deepest existing ancestor (for the
    target's creation). ``ensure()`` is cheap (a few stats) and re-targets the watch whenever the
    path now resolves to another inode; called on every event and on the periodic pass.
    """

    def __init__(self, inotify: Inotify, target: str) -> None:
        self.inotify = inotify
        self.target = target
        self.wd: int | None = None
        self.identity: tuple[str, int, int] | None = None

    @property
    def on_target(self) -> bool:
        return self.identity is not None and self.identity[0] == self.target

    def ensure(self) -> bool:
        """(Re)place the watch; True when the watched directory changed."""
        path = self.target
        while True:
            try:
                st = os.stat(path)
                if stat.S_ISDIR(st.st_mode):
                    break
            except OSError:
                pass
            parent = os.path.dirname(path)
            if parent == path:
                return False
            path = parent
        identity = (path, st.st_dev, st.st_ino)
        if identity == self.identity:
            return False
        if self.wd is not None:
            self.inotify.rm_watch(self.wd)
            self.wd = None
        try:
            self.wd = self.inotify.add_watch(path, (DIR_EVENTS if path == self.target else PARENT_EVENTS) | IN_ONLYDIR)
        except OSError as exc:
            log.warning("cannot watch %s: %s", path, exc)
            self.identity = None
            return False
        self.identity = identity
        return True


class NamespaceDirs:
    """The watched namespace directories, and the entries that appeared in them but are not
    namespaces yet (pending: looked at again NS_RECHECKS after they appeared)."""

    def __init__(self, dirs: Iterable[str]) -> None:
        """Raises OSError when inotify is unavailable (e.g. its instances are exhausted)."""
        self.inotify = Inotify()
        self.watches = [DirWatch(self.inotify, d) for d in dirs]
        self.pending: dict[str, float] = {}  # path -> when it appeared
        self.rechecks: list[float] = []  # monotonic times at which a pending entry is looked at again
        self.ensure()

    @property
    def fd(self) -> int:
        return self.inotify.fd

    def ensure(self) -> bool:
        """(Re)place every watch; True when any watched directory changed."""
        moved = [watch.ensure() for watch in self.watches]  # all of them, not up to the first
        return any(moved)

    def read(self) -> bool:
        """Drain the queued events; True when something changed in a namespace directory (or on
        the way to it) and the namespaces should be looked at again."""
        events = self.inotify.read()
        if not events:
            return False
        targets = {w.wd: w.target for w in self.watches if w.on_target}
        relevant = False
        for wd, mask, name in events:
            if wd in targets or wd < 0:  # wd -1: the inotify queue overflowed
                relevant = True
                if name and wd in targets and mask & (IN_CREATE | IN_MOVED_TO | IN_ATTRIB):
                    self._add_pending(os.path.join(targets[wd], name))
        # an ancestor's event (e.g. /run's, while docker's dir is missing) matters only when the watch moved
        return self.ensure() or relevant

    def _add_pending(self, path: str) -> None:
        if path not in self.pending:
            now = time.monotonic()
            self.pending[path] = now
            self.rechecks.extend(now + delay for delay in NS_RECHECKS)

    def recheck_due(self, now: float) -> bool:
        """Whether a pending entry is due to be looked at again (each recheck answers once)."""
        if not any(t <= now for t in self.rechecks):
            return False
        self.rechecks = [t for t in self.rechecks if t > now]
        return True

    def settle(self, names: set[str]) -> None:
        """`ip netns add` creates the file, then mounts the namespace on it: a new entry that is
        not a namespace yet is looked at again (NS_RECHECKS after it appeared) before it counts
        as a stale file. Time-based, so that busy passes in between do not use the checks up.
        ``names`` are the directory names of the namespaces found now."""
        expired = time.monotonic() - NS_RECHECKS[-1]
        for path, since in list(self.pending.items()):
            if since <= expired or os.path.basename(path) in names or not os.path.lexists(path):
                del self.pending[path]

    def close(self) -> None:
        self.inotify.close()
