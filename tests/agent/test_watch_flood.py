"""A flood: 2,000 veth pairs created and deleted as fast as `ip -batch` can. Afterwards the
watcher's state (and the stream it published) equals a fresh scan, whether the events fit in
the socket or overflowed it (ENOBUFS: a full rescan at once)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.agent.watch_support import assert_converges, difference, view, watching

pytestmark = pytest.mark.kernel

PAIRS = 2000


def flood(topo, watcher, lines: list[str]) -> float:
    """Run `ip -batch` in a thread while the watcher keeps up in this one; the batch's duration."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            topo.batch(lines)
        except BaseException as exc:
            failure.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=run)
    thread.start()
    while thread.is_alive():
        watcher.poll_once(0.02)
    elapsed = time.monotonic() - started
    assert not failure, failure
    return elapsed


@pytest.mark.parametrize("event_buffer", [8 << 20, 16 << 10], ids=["big-buffer", "overflowing-buffer"])
def test_it_equals_a_fresh_scan_after_a_flood_of_pairs(topo, event_buffer):
    f = topo.add_netns("f")
    with watching(event_buffer=event_buffer) as (w, rec):
        names = [f"{topo.prefix}a{i}" for i in range(PAIRS)]
        flood(topo, w, [f"link add {n} type veth peer name b{i} netns {f.path}" for i, n in enumerate(names)])
        assert_converges(w, rec, topo, [f], timeout=30)
        ends = [i for i in view(w).in_ns(f) if i.kind == "veth"]
        assert len(ends) == PAIRS and all(i.peer_status == "resolved" for i in ends)

        flood(topo, w, [f"link del {n}" for n in names])
        assert_converges(w, rec, topo, [f], timeout=30)
        assert {i.name for i in view(w).in_ns(f)} == {"lo"}
        root = view(w).in_ns(topo.root)
        assert not [i for i in root if i.name.startswith(topo.prefix)]

        # the whole host, not only this test's objects (other runs may be busy: retry a while)
        deadline = time.monotonic() + 20
        while difference(w, None, None) and time.monotonic() < deadline:
            w.poll_once(0.2)
        assert difference(w, None, None) == []
        if event_buffer < 1 << 20:
            assert w.stats["overflows"] > 0, "the small buffer was meant to overflow"
