"""Namespaces that hide outside the usual places: held only by a bind mount anywhere (in any mount
namespace), by a process's open fd, or by a socket.

- Mounts: nsfs entries ("net:[INODE]" as the mount's root) in /proc/PID/mountinfo, read once per
  mount namespace (one pid of each); a mount in another mount namespace opens through
  /proc/PID/root. The kernel flags /proc/PID/mountinfo with POLLPRI when that namespace's mounts
  change: MountWatch lets the watcher notice new mounts without a rescan.
- Fds: /proc/PID/fd/N links that read "net:[INODE]"; the link itself opens the namespace.
- Sockets: a socket keeps the namespace it was created in; SIOCGSKNS on a copy of the fd
  (pidfd_getfd) opens it. Socket inodes are never reused soon, so each socket is asked once.

parse_mountinfo is pure; HiddenFinder does the reading.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import select
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from agent.namespaces import PROC, _read, is_net_namespace, link_inode
from agent.protocol import NamespaceKind

SIOCGSKNS = 0x894C  # linux/sockios.h: the socket's network namespace, as a new fd
SYS_PIDFD_GETFD = 438  # same number on every architecture
MAX_MOUNT_WATCHES = 256  # mount namespaces watched for new mounts; beyond, the periodic passes find them
OCTAL = re.compile(r"\\([0-7]{3})")


def parse_mountinfo(text: str, skip: Collection[int] = ()) -> list[tuple[int, str]]:
    """(namespace inode, mount point) of every network-namespace mount in a mountinfo text, but
    those whose inode is in ``skip`` (checked first: a host with a thousand named namespaces has a
    thousand such lines, and they are nearly all known)."""
    out: list[tuple[int, str]] = []
    for line in text.splitlines():
        at = line.find(" net:[")
        if at < 0:
            continue
        end = line.find("]", at)
        try:
            inode = int(line[at + 6 : end])
        except ValueError:
            continue
        if inode in skip:
            continue
        fields = line.split(" ", 5)
        if len(fields) < 6 or fields[3] != line[at + 1 : end + 1] or " - nsfs " not in line:
            continue  # "net:[" elsewhere in the line (a path), or not nsfs
        point = fields[4]
        out.append((inode, OCTAL.sub(lambda m: chr(int(m.group(1), 8)), point) if "\\" in point else point))
    return out


@dataclass(slots=True)
class Hidden:
    """A namespace found only through a holder: ``path`` opens it (for a socket, through
    open_socket_namespace), ``holder`` says what keeps it."""

    inode: int
    kind: NamespaceKind  # "mount", "fd" or "socket"
    path: str
    holder: str


@dataclass(slots=True)
class HiddenFinder:
    """Finds hidden namespaces; remembers each socket's namespace and one pid per mount namespace."""

    proc: str = PROC
    mount_pids: dict[int, int] = field(default_factory=dict)  # mount namespace inode -> a pid in it
    watch: MountWatch | None = None  # the live agent's (set by the watcher)
    _socket_ns: dict[int, int | None] = field(default_factory=dict)  # socket inode -> its namespace
    _socket_error: str | None = None

    def find(self, known: Mapping[int, str], errors: list[str], pids: list[int]) -> list[Hidden]:
        """Namespaces held by mounts, fds or sockets that ``known`` (inode -> kind) lacks; also
        the mounts of namespaces known only by their processes, so that such a namespace is
        labelled by its mount. ``pids``: the caller's walk of /proc, not listed twice. Never
        raises; problems go to ``errors``."""
        out = self._mounts(pids, known)
        seen = known.keys() | {h.inode for h in out}
        out += self._fds(pids, seen, errors)
        if self.watch is not None:
            self.watch.sync(self.proc, self.mount_pids)
        return out

    def _mounts(self, pids: list[int], known: Mapping[int, str]) -> list[Hidden]:
        own = _link(f"{self.proc}/self/ns/mnt")
        by_mnt: dict[int, int] = {}
        for name in pids:
            mnt = _link(f"{self.proc}/{name}/ns/mnt")
            if mnt is not None and mnt not in by_mnt:
                by_mnt[mnt] = name
        self.mount_pids = by_mnt
        skip = {inode for inode, kind in known.items() if kind != "process"}
        found: dict[int, Hidden] = {}
        for mnt, pid in by_mnt.items():
            try:
                with open(f"{self.proc}/{pid}/mountinfo", encoding="utf-8", errors="replace") as handle:
                    entries = parse_mountinfo(handle.read(), skip)
            except OSError:
                continue  # exited
            for inode, point in entries:
                if inode in found:
                    continue
                if mnt == own:
                    found[inode] = Hidden(inode, "mount", point, point)
                else:
                    path = f"{self.proc}/{pid}/root{point}"
                    found[inode] = Hidden(inode, "mount", path, f"{point} (mounts of pid {pid})")
        return list(found.values())

    def _fds(self, pids: list[int], known: set[int], errors: list[str]) -> list[Hidden]:
        found: dict[int, Hidden] = {}
        sockets: dict[int, tuple[int, int]] = {}  # socket inode -> (pid, fd) holding it
        nsfs = os.stat(f"{self.proc}/self/ns/net").st_dev
        for name in pids:
            folder = f"{self.proc}/{name}/fd"
            try:
                fds = os.listdir(folder)
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink(f"{folder}/{fd}")
                except OSError:
                    continue
                inode: int | None
                if target.startswith("net:["):  # opened through /proc/PID/ns/net
                    inode = int(target[5:-1])
                elif target == "/":  # a bind-mounted namespace file whose mount is gone reads "/" (one
                    # still mounted reads its path, and the mount itself is found above)
                    inode = _net_namespace_file(f"{folder}/{fd}", nsfs)
                elif target.startswith("socket:["):
                    sockets.setdefault(int(target[8:-1]), (name, int(fd)))
                    continue
                else:
                    continue
                if inode is not None and inode not in known and inode not in found:
                    holder = f"pid {name} ({_comm(self.proc, name)}) fd {fd}"
                    found[inode] = Hidden(inode, "fd", f"{folder}/{fd}", holder)
        cache = self._socket_ns
        self._socket_ns = {s: cache[s] for s in sockets.keys() & cache.keys()}  # closed sockets go
        for sock, (pid, number) in sockets.items():
            if sock not in self._socket_ns:
                self._socket_ns[sock] = self._socket_namespace(pid, number)
            held = self._socket_ns[sock]
            if held is not None and held not in known and held not in found:
                holder = f"socket of pid {pid} ({_comm(self.proc, pid)}) fd {number}"
                found[held] = Hidden(held, "socket", f"{self.proc}/{pid}/fd/{number}", holder)
        if self._socket_error:
            errors.append(self._socket_error)
        return list(found.values())

    def _socket_namespace(self, pid: int, fd: int) -> int | None:
        """The inode of the namespace a process's socket belongs to; None when it cannot be asked."""
        if self._socket_error is not None:
            return None
        try:
            ns_fd = open_socket_namespace(pid, fd)
        except OSError as exc:
            if exc.errno in (errno.ENOSYS, errno.EPERM, errno.EACCES, errno.ENOTTY):
                self._socket_error = f"sockets' namespaces cannot be read here (SIOCGSKNS: {exc.strerror})"
            return None
        try:
            return os.fstat(ns_fd).st_ino
        finally:
            os.close(ns_fd)

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()


def open_socket_namespace(pid: int, fd: int) -> int:
    """An fd of the network namespace of socket ``fd`` of process ``pid``. Raises OSError."""
    pidfd = os.pidfd_open(pid)
    try:
        sock = _pidfd_getfd(pidfd, fd)
    finally:
        os.close(pidfd)
    try:
        return int(fcntl.ioctl(sock, SIOCGSKNS))
    finally:
        os.close(sock)


def open_holder(path: str) -> int:
    """Open what a hidden namespace's path names: a file (mount, fd), else a socket's namespace."""
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # ENXIO: the fd is a socket, not a file
            raise
    parts = path.split("/")  # /proc/PID/fd/N
    return open_socket_namespace(int(parts[-3]), int(parts[-1]))


_libc = ctypes.CDLL(None, use_errno=True)


def _pidfd_getfd(pidfd: int, fd: int) -> int:
    got = _libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    if got < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    os.set_inheritable(got, False)
    return int(got)


def _net_namespace_file(path: str, nsfs: int) -> int | None:
    """The inode of the network namespace an fd's file is, else None (any other file or namespace)."""
    try:
        if os.stat(path).st_dev != nsfs:
            return None
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.fstat(fd).st_ino if is_net_namespace(fd) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _link(path: str) -> int | None:
    try:
        return link_inode(path)  # net:[N] and mnt:[N] alike
    except (OSError, ValueError):
        return None


def _comm(proc: str, pid: int) -> str:
    text = _read(f"{proc}/{pid}/comm")
    return "?" if text is None else text.strip()


class MountWatch:
    """Per mount namespace: its /proc/PID/mountinfo polled for POLLPRI (its mounts changed) and a
    pidfd of that PID polled for POLLIN (it exited: the namespace may be gone with it).

    An open mountinfo keeps its mount namespace (and the namespaces mounted in it) alive, so the
    fds of a mount namespace no longer seen, or whose PID exited, are closed at the next sync.
    """

    def __init__(self, limit: int = MAX_MOUNT_WATCHES) -> None:
        self.limit = limit
        self.watched: dict[int, tuple[int, int, int]] = {}  # mount namespace inode -> (pid, table fd, pidfd)
        self._add: list[tuple[int, int]] = []  # (fd, poll events) to register
        self._drop: list[int] = []

    def sync(self, proc: str, mount_pids: dict[int, int]) -> None:
        """Watch the mount namespaces in ``mount_pids`` (up to the limit) through those pids, and
        no others."""
        for mnt in [m for m, (pid, _, _) in self.watched.items() if mount_pids.get(m) != pid]:
            for fd in self.watched.pop(mnt)[1:]:
                self._drop.append(fd)
                os.close(fd)
        for mnt, pid in mount_pids.items():
            if mnt in self.watched or len(self.watched) >= self.limit:
                continue
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                continue
            try:
                table = os.open(f"{proc}/{pid}/mountinfo", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                os.close(pidfd)
                continue
            if _link(f"{proc}/{pid}/ns/mnt") != mnt:  # the pid left or exited before the open
                os.close(table)
                os.close(pidfd)
                continue
            self.watched[mnt] = (pid, table, pidfd)
            self._add += [(table, select.POLLPRI), (pidfd, select.POLLIN)]

    def apply(self, poller: select.poll) -> None:
        """Bring ``poller``'s registrations up to date (before it polls again)."""
        for fd in self._drop:
            with contextlib.suppress(KeyError):
                poller.unregister(fd)
        open_fds = {fd for _, table, pidfd in self.watched.values() for fd in (table, pidfd)}
        for fd, events in self._add:
            if fd in open_fds:
                poller.register(fd, events)
        self._add.clear()
        self._drop.clear()

    def fired(self, ready: dict[int, int]) -> bool:
        """Whether a watched mount table changed (POLLPRI or POLLERR, reported once) or a watched
        pid exited (its pidfd turns readable)."""
        tables = {table for _, table, _ in self.watched.values()}
        pidfds = {pidfd for _, _, pidfd in self.watched.values()}
        return any(
            (fd in tables and events & (select.POLLPRI | select.POLLERR)) or (fd in pidfds and events & select.POLLIN)
            for fd, events in ready.items()
        )

    def close(self) -> None:
        for _, table, pidfd in self.watched.values():
            for fd in (table, pidfd):
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.watched.clear()
