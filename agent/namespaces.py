"""Where network namespaces hide, and one record per namespace however many places name it.

Identity is the nsfs file's (st_dev, st_ino). Places, in order of precedence for the kind:
  the agent's own (root) namespace  /proc/self/ns/net (/proc/1/ns/net may be unreadable)
  named                             /run/netns/* (bind mounts; symlinks may dangle)
  docker                            /var/run/docker/netns/*
  process                           /proc/PID/ns/net (containers, `unshare -n`, pods)
  mount, fd, socket                 hidden: a bind mount elsewhere, an open fd, a socket (agent/holders.py)
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.protocol import Namespace, NamespaceKind, Process, clean_holder, namespace_key

if TYPE_CHECKING:  # holders imports this module's /proc readers
    from agent.holders import HiddenFinder
    from agent.owners import OwnerResolver

NAMED_DIRS: tuple[tuple[str, NamespaceKind], ...] = (("/run/netns", "named"), ("/var/run/docker/netns", "docker"))
PROC = "/proc"
NS_GET_NSTYPE = 0xB703  # linux/nsfs.h: _IO(0xb7, 0x3)
CLONE_NEWNET = 0x40000000
PIDS_KEPT = 5
MOUNT_RETRIES = 3  # `ip netns add` creates a plain file, then bind-mounts onto it
MOUNT_RETRY_DELAY = 0.002
MOUNT_WINDOW = 1.0  # seconds: a plain file older than this is stale, not about to be mounted
CONTAINER_ID = re.compile(r"^[0-9a-f]{64}$")  # the ids Docker, Podman, containerd and CRI-O give


@dataclass(slots=True)
class Found:
    """A namespace found on this host, with one path that opens it."""

    dev: int
    inode: int
    path: str
    kind: NamespaceKind
    names: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    holder: str | None = None  # what alone keeps a hidden namespace (agent/holders.py)


def nsfs_dev() -> int:
    """The device of nsfs, the filesystem every namespace file (bind mount or /proc link) is on."""
    return os.stat("/proc/self/ns/net").st_dev


def is_namespace_file(path: str, nsfs_dev: int) -> os.stat_result | None:
    """stat() the path if it is a namespace file (a bind mount or /proc link), else None.

    Every namespace type lives on nsfs: whether it is a *network* namespace is checked with
    NS_GET_NSTYPE on the fd that discovery opens anyway (is_net_namespace). `ip netns add`
    creates a plain file and then mounts onto it: only a file created moments ago is looked at
    again, so a stale file (left by a crash) costs no waiting on every scan.
    """
    for attempt in range(MOUNT_RETRIES):
        try:
            st = os.stat(path)
        except OSError:
            return None  # gone, or a dangling symlink
        if st.st_dev == nsfs_dev and stat.S_ISREG(st.st_mode):
            return st
        if not stat.S_ISREG(st.st_mode) or attempt == MOUNT_RETRIES - 1:
            return None
        if time.time() - st.st_mtime > MOUNT_WINDOW:
            return None  # plain for longer than any mount takes: stale
        time.sleep(MOUNT_RETRY_DELAY)  # maybe being mounted right now
    return None


def is_net_namespace(fd: int) -> bool:
    try:
        return fcntl.ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET
    except OSError:
        return False


def find_namespaces(
    errors: list[str],
    gaps: list[str],
    named_dirs: Iterable[tuple[str, NamespaceKind]] = NAMED_DIRS,
    hidden: HiddenFinder | None = None,
) -> list[Found]:
    """Every network namespace visible from here (with ``hidden``, also those held only by a
    mount elsewhere, an fd or a socket: agent/holders.py); never raises.

    Problems go to ``errors``; what leaves the picture incomplete (unreadable processes) to ``gaps``.
    """
    nsfs = nsfs_dev()
    found: dict[tuple[int, int], Found] = {}
    root = os.stat("/proc/self/ns/net")
    found[(root.st_dev, root.st_ino)] = Found(root.st_dev, root.st_ino, "/proc/self/ns/net", "root")

    for directory, kind in named_dirs:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except FileNotFoundError:
            continue
        except OSError as exc:
            errors.append(f"cannot list {directory}: {exc.strerror}")
            continue
        for entry in entries:
            st = is_namespace_file(entry.path, nsfs)
            if st is None:
                if entry.is_symlink():
                    errors.append(f"{entry.path} is a dangling link")
                else:
                    errors.append(f"{entry.path} is not a mounted network namespace")
                continue
            record = found.setdefault((st.st_dev, st.st_ino), Found(st.st_dev, st.st_ino, entry.path, kind))
            record.names.append(entry.name)

    unreadable: list[int] = []
    every_pid = _pids()
    for inode, pids in pids_by_namespace(unreadable, every_pid).items():
        record = found.setdefault((nsfs, inode), Found(nsfs, inode, f"{PROC}/{pids[0]}/ns/net", "process"))
        record.pids = pids
    if hidden is not None:
        kinds = {inode: record.kind for (_, inode), record in found.items()}
        for held in hidden.find(kinds, errors, every_pid):
            known = found.get((nsfs, held.inode))
            if known is None:
                found[(nsfs, held.inode)] = Found(
                    nsfs, held.inode, held.path, held.kind, holder=clean_holder(held.holder)
                )
            else:  # known by its processes only: its mount names it better
                known.kind, known.holder = "mount", clean_holder(held.holder)
    if unreadable:
        shown = ", ".join(map(str, unreadable[:5])) + (", ..." if len(unreadable) > 5 else "")
        message = f"the network namespace of {len(unreadable)} processes could not be read (pid {shown})"
        # /proc/1/ns/net can be unreadable even for root (a sandboxed init): that alone is no gap
        (errors if unreadable == [1] and os.geteuid() == 0 else gaps).append(message)
    return list(found.values())


def pids_by_namespace(unreadable: list[int] | None = None, pids: list[int] | None = None) -> dict[int, list[int]]:
    """Namespace inode -> the lowest PIDS_KEPT pids in it, from one readlink per process (the
    whole /proc walk, also the watcher's cheap pass); pids whose link is denied go to ``unreadable``.
    ``pids``: /proc's, when the caller has listed them already."""
    out: dict[int, list[int]] = {}
    for pid in _pids() if pids is None else pids:
        try:
            inode = link_inode(f"{PROC}/{pid}/ns/net")
        except PermissionError:
            if unreadable is not None:
                unreadable.append(pid)
            continue
        except (OSError, ValueError):
            continue  # exited, or a kernel thread without a namespace link
        pids = out.setdefault(inode, [])
        if len(pids) < PIDS_KEPT:
            pids.append(pid)
    return out


def link_inode(path: str) -> int:
    """The inode of the namespace a /proc/PID/ns/net link names ("net:[INODE]"): readlink costs
    half a stat, which opens the namespace; the device is nsfs's. Raises OSError or ValueError."""
    return int(os.readlink(path)[5:-1])


def _pids() -> list[int]:
    return sorted(int(name) for name in os.listdir(PROC) if name.isdigit())


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def to_record(
    found: Found, nsid: int | None, owners: OwnerResolver | None = None, errors: list[str] | None = None
) -> Namespace:
    """The namespace's record; its owner from ``owners`` (none without), whose reasons for an
    unknown owner go to ``errors``."""
    pids = []
    for pid in found.pids:
        comm = _read(f"{PROC}/{pid}/comm")
        if comm is not None:
            pids.append(Process(pid=pid, comm=comm.strip()))
    owner = None
    if owners is not None and found.kind != "root":
        owner = owners.owner(found.inode, [p.pid for p in pids], [] if errors is None else errors, found.path)
    cid = owner.id if owner is not None and owner.id and CONTAINER_ID.match(owner.id) else None
    return Namespace(
        key=namespace_key(found.inode),
        inode=found.inode,
        dev=found.dev,
        kind=found.kind,
        names=found.names,
        pids=pids,
        container_id=cid,
        nsid=nsid,
        owner=owner,
        holder=found.holder,
    )
