"""Helpers for the watch and runner kernel tests (this module holds no tests).

The watcher is driven from the test's own thread (``poll_once``), so its state can be read
without races; a ``Recorder`` replays the published stream (the first inventory, then every
batch of changes) so that tests check what a server would end up with, not only the state.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from agent.discovery import Discoverer
from agent.protocol import Inventory, diff_inventories, namespace_key
from agent.watch import Watcher
from tests.agent.inventory_view import View
from tests.kernel_topology import Netns, Topology

NEVER = 10**6  # seconds: "no periodic reconcile" for tests that prove the event path alone


class Recorder:
    """A Sink that applies what it receives, like the server would."""

    def __init__(self) -> None:
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.interfaces: dict[str, dict[str, Any]] = {}
        self.batches: list[list[dict[str, Any]]] = []

    def reset(self, inventory: Inventory) -> None:
        data = inventory.to_json()
        self.namespaces = {n["key"]: n for n in data["namespaces"]}
        self.interfaces = {i["key"]: i for i in data["interfaces"]}

    def submit(self, changes: list[dict[str, Any]]) -> None:
        self.batches.append(changes)
        for change in changes:
            table = self.namespaces if change["kind"] == "namespace" else self.interfaces
            if change["op"] == "upsert":
                assert change["kind"] == "namespace" or change["data"]["namespace"] in self.namespaces, change
                table[change["key"]] = change["data"]
            else:
                table.pop(change["key"], None)

    def set_errors(self, errors: list[str], complete: bool = True) -> None:
        self.errors, self.complete = errors, complete

    def changes(self) -> list[dict[str, Any]]:
        return [c for batch in self.batches for c in batch]


def start(reconcile: float = NEVER, **kwargs: Any) -> tuple[Watcher, Recorder]:
    recorder = Recorder()
    watcher = Watcher("test", recorder, reconcile_seconds=reconcile, **kwargs)
    watcher.open()
    return watcher, recorder


@contextmanager
def watching(reconcile: float = NEVER, **kwargs: Any) -> Iterator[tuple[Watcher, Recorder]]:
    """``start()``, and the watcher closed afterwards even if the test failed."""
    watcher, recorder = start(reconcile, **kwargs)
    try:
        yield watcher, recorder
    finally:
        watcher.close()


def pump(watcher: Watcher, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        watcher.poll_once(min(left, 0.05))


def pump_until(watcher: Watcher, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        watcher.poll_once(0.02)
        if predicate():
            return True
    return predicate()


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` (something another thread makes true) until it holds or time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def view(watcher: Watcher) -> View:
    return View(watcher.state.inventory())


def scoped(inventory: Inventory, keys: set[str], prefix: str | None) -> Inventory:
    """Only what a test built: its namespaces, and root-namespace links carrying its prefix."""
    root = next(n.key for n in inventory.namespaces if n.kind == "root")
    return Inventory(
        node=inventory.node,
        namespaces=[n for n in inventory.namespaces if n.key in keys],
        interfaces=[
            i
            for i in inventory.interfaces
            if i.namespace in keys or (prefix and i.namespace == root and i.name.startswith(prefix))
        ],
    )


def keys_of(spaces: Iterable[Netns | int]) -> set[str]:
    return {namespace_key(s if isinstance(s, int) else s.inode) for s in spaces}


def difference(watcher: Watcher, keys: set[str] | None, prefix: str | None) -> list[dict[str, Any]]:
    """What a fresh scan says differently from the watcher (limited to a test's objects)."""
    with Discoverer("test", watcher.named_dirs) as discoverer:
        fresh = discoverer.scan()
    mine = watcher.state.inventory()
    if keys is not None:
        fresh, mine = scoped(fresh, keys, prefix), scoped(mine, keys, prefix)
    return diff_inventories(mine, fresh)


def assert_converges(
    watcher: Watcher, recorder: Recorder, topo: Topology | None, spaces: Iterable[Netns | int], timeout: float = 5.0
) -> None:
    """The watcher's state equals a fresh scan (for the test's objects) and the published stream
    rebuilds exactly that state, within ``timeout`` of pumping events."""
    keys = keys_of(spaces) if topo is not None else None
    prefix = topo.prefix if topo is not None else None
    deadline = time.monotonic() + timeout
    diff: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        pump(watcher, 0.05)
        diff = difference(watcher, keys, prefix)
        if not diff:
            break
    assert not diff, f"watcher differs from a fresh scan: {diff[:3]}"
    state = watcher.state.inventory()
    assert recorder.namespaces == {n.key: asdict(n) for n in state.namespaces}
    assert recorder.interfaces == {i.key: asdict(i) for i in state.interfaces}


def no_rescan(watcher: Watcher) -> None:
    """Events alone did it: no rescan ran, unless another run on this shared machine flooded
    the event socket (then a forced rescan is right, and this test cannot tell)."""
    if watcher.stats["overflows"] == 0 and watcher.stats["forced"] == 0:
        assert watcher.stats["reconciles"] == 0


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


def bind_namespace(ns_path: str, directory: str, name: str, mounts: list[str]) -> str:
    """What `ip netns add` / `attach` do, in a directory of the test's own: a file, then a bind
    mount of the namespace onto it (recorded in ``mounts`` for the teardown)."""
    target = os.path.join(directory, name)
    open(target, "x").close()
    sh("mount", "--bind", ns_path, target)
    mounts.append(target)
    return target
