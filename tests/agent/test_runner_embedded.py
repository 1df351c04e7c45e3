"""Embedded mode: the server constructs AgentRunner with a callable transport and hands it
commands in-process (webui.live.embedded); start/stop leave no thread behind."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid

import pytest

from agent.protocol import PROTOCOL_VERSION, validate_message
from agent.publisher import CallableTransport
from agent.runner import AgentRunner
from tests.agent.watch_support import wait_for

pytestmark = pytest.mark.kernel


def test_it_streams_in_process_and_takes_commands(topo):
    received: list[dict] = []
    lock = threading.Lock()

    arrivals: list[float] = []

    def ingest(body: str, signature: str | None) -> None:
        assert signature is None  # the embedded agent needs no key
        with lock:
            received.append(validate_message(json.loads(body)))
            arrivals.append(time.monotonic())

    def heard_regularly(since: float) -> bool:
        """A heartbeat, or (while other namespaces on this machine keep changing, deltas stand in
        for heartbeats) no silence longer than two heartbeat intervals for 3 s."""
        with lock:
            times = [since, *(t for t in arrivals if t >= since), time.monotonic()]
            if any(m["type"] == "heartbeat" for m in received):
                return True
        return times[-1] - since >= 3 and max(b - a for a, b in itertools.pairwise(times)) < 0.6

    def count(kind: str) -> int:
        with lock:
            return sum(m["type"] == kind for m in received)

    before = {t.name for t in threading.enumerate()}
    runner = AgentRunner(CallableTransport(ingest), "embedded", heartbeat_seconds=0.3)
    runner.start()
    try:
        assert wait_for(lambda: count("snapshot") == 1)
        end = topo.name("e0")
        a = topo.add_netns("a")
        topo.veth(end, topo.root, "eth0", a)

        def seen() -> bool:
            with lock:
                return any(
                    c["kind"] == "interface"
                    and c["op"] == "upsert"
                    and c["data"]["name"] == end
                    and c["data"]["peer_status"] == "resolved"
                    for m in received
                    if m["type"] == "delta"
                    for c in m["changes"]
                )

        assert wait_for(seen)
        quiet_from = time.monotonic()
        assert wait_for(lambda: heard_regularly(quiet_from)), "no heartbeat, and silences longer than two intervals"

        outcome = runner.handle_command(
            json.dumps({"v": PROTOCOL_VERSION, "type": "command", "command": "format", "id": "1"})
        )
        assert outcome["ok"] is False
        outcome = runner.handle_command(
            json.dumps({"v": PROTOCOL_VERSION, "type": "command", "command": "resync", "id": str(uuid.uuid4())})
        )
        assert outcome["ok"] is True
        assert wait_for(lambda: count("snapshot") == 2)
        with lock:
            seqs = [m["seq"] for m in received]
        assert seqs == list(range(1, len(seqs) + 1))
    finally:
        runner.stop()
    assert wait_for(lambda: {t.name for t in threading.enumerate()} <= before, timeout=5)


def test_it_restarts_a_failed_watcher_with_a_fresh_snapshot():
    received: list[dict] = []
    runner = AgentRunner(CallableTransport(lambda body, sig: received.append(json.loads(body))), "embedded")
    runner.start()
    try:
        # other namespaces may change on this machine meanwhile: deltas may follow the snapshot
        assert wait_for(lambda: received and received[0]["type"] == "snapshot"), "no first snapshot"
        broken = runner.watcher
        before = len(received)

        def boom(_now: float) -> None:
            raise RuntimeError("a bug")

        broken.process = boom  # type: ignore[method-assign]
        broken.wake()
        assert wait_for(
            lambda: runner.watcher is not broken and any(m["type"] == "snapshot" for m in received[before:]),
            timeout=10,
        ), "the failed watcher was not replaced by one that publishes a fresh snapshot"
        seqs = [m["seq"] for m in received]
        assert seqs == list(range(1, len(seqs) + 1)), f"numbering has gaps: {seqs}"
        assert runner.failed is None
    finally:
        runner.stop()
