"""Broker down: keep watching, buffer (bounded), retry the same message, then a fresh snapshot."""

from __future__ import annotations

import json
from itertools import pairwise

from agent.protocol import validate_message
from agent.publisher import RETRY_MAX, RETRY_MIN, Publisher
from tests.factories import Clock, small_inventory, veth_upsert


class FlakyBroker:
    def __init__(self, clock: Clock | None = None) -> None:
        self.up = True
        self.sent: list[tuple[str, str | None]] = []
        self.attempts = 0
        self.clock = clock
        self.attempted_at: list[float] = []  # publisher time of each attempt (with a clock)

    def send(self, body: str, signature: str | None) -> None:
        self.attempts += 1
        if self.clock is not None:
            self.attempted_at.append(self.clock.now)
        if not self.up:
            raise ConnectionError("broker unreachable")
        self.sent.append((body, signature))

    def close(self) -> None:
        pass

    def messages(self) -> list[dict]:
        return [validate_message(json.loads(b)) for b, _ in self.sent]


def drive(publisher: Publisher, clock: Clock, seconds: float) -> None:
    """Let ``seconds`` of publisher time pass, stepping whenever something is due."""
    end = clock.now + seconds
    while True:
        wait = publisher.step()
        if wait == 0.0:
            continue
        if wait is None or clock.now + wait > end:
            clock.now = end
            publisher.step()
            return
        clock.now += wait


def make(limit: int = 1000):
    clock = Clock()
    broker = FlakyBroker(clock)
    publisher = Publisher(broker, "h1", coalesce_ms=5, heartbeat_seconds=5, buffer_limit=limit, clock=clock)
    publisher.reset(small_inventory())
    drive(publisher, clock, 0.01)
    return publisher, clock, broker


def test_it_retries_the_same_message_and_follows_with_a_snapshot():
    publisher, clock, broker = make()
    broker.up = False
    publisher.submit([veth_upsert(5)])
    drive(publisher, clock, 0.01)  # one failed attempt at seq 2
    assert broker.attempts == 2 and publisher.head is not None
    stuck = publisher.head
    broker.up = True
    drive(publisher, clock, 1)
    assert broker.sent[1][0] == stuck[1]  # the very same text (and signature) went out
    got = broker.messages()
    assert [(m["type"], m["seq"]) for m in got][:3] == [("snapshot", 1), ("delta", 2), ("snapshot", 3)]


def test_it_replaces_a_message_stuck_through_a_long_outage_with_a_snapshot():
    publisher, clock, broker = make()
    broker.up = False
    publisher.submit([veth_upsert(5)])
    drive(publisher, clock, 30)
    assert broker.attempts > 3  # kept trying, with backoff
    assert len(broker.sent) == 1
    publisher.submit([veth_upsert(6)])  # still watching: buffered while down
    broker.up = True
    drive(publisher, clock, 10)
    got = broker.messages()
    assert [(m["type"], m["seq"]) for m in got][:2] == [("snapshot", 1), ("snapshot", 2)]
    assert sorted(i["key"] for i in got[1]["interfaces"]) == ["if:1:5", "if:1:6"]
    seqs = [m["seq"] for m in got]
    assert seqs == list(range(1, len(seqs) + 1))


def test_it_keeps_retrying_and_backs_off_instead_of_spinning():
    publisher, clock, broker = make()
    broker.up = False
    publisher.submit([veth_upsert(5)])
    before = broker.attempts
    drive(publisher, clock, 60)
    assert broker.attempts - before < 45  # at most every 2 s once backed off
    times = broker.attempted_at[before:]
    gaps = [round(later - earlier, 6) for earlier, later in pairwise(times)]  # float noise off
    assert len(times) >= 60 / RETRY_MAX, f"only {len(times)} attempts in 60 s of outage: it stopped retrying"
    assert gaps[0] == RETRY_MIN, f"first retry after {gaps[0]} s, not {RETRY_MIN}"
    assert gaps == sorted(gaps), f"the waits between attempts shrank: {gaps}"
    assert max(gaps) == RETRY_MAX, f"the wait never reached or overshot {RETRY_MAX} s: {gaps}"
    assert clock.now - times[-1] <= RETRY_MAX, "it gave up before the outage ended"


def test_it_drops_deltas_and_sends_a_snapshot_when_the_buffer_overflows():
    publisher, clock, broker = make(limit=50)
    broker.up = False
    publisher.submit([veth_upsert(5)])
    drive(publisher, clock, 1)  # seq 2 cut and stuck at the head
    for n in range(200):
        publisher.submit([veth_upsert(100 + n)])
    assert publisher.need_snapshot and not publisher.pending
    assert publisher.dropped_changes > 50
    broker.up = True
    drive(publisher, clock, 10)
    got = broker.messages()
    assert [m["type"] for m in got][:2] == ["snapshot", "snapshot"]
    assert len(got[1]["interfaces"]) == 201  # nothing lost: the snapshot has every change
    seqs = [m["seq"] for m in got]
    assert seqs == list(range(1, len(seqs) + 1))


def test_it_sends_no_heartbeats_while_the_broker_is_down():
    publisher, clock, broker = make()
    broker.up = False
    drive(publisher, clock, 60)
    broker.up = True
    drive(publisher, clock, 2.5)  # the next retry comes within RETRY_MAX
    got = broker.messages()
    assert [(m["type"], m["seq"]) for m in got] == [("snapshot", 1), ("snapshot", 2)]


def test_it_numbers_the_first_snapshot_1_even_when_the_broker_starts_down():
    clock, broker = Clock(), FlakyBroker()
    broker.up = False
    publisher = Publisher(broker, "h1", clock=clock)
    publisher.reset(small_inventory())
    drive(publisher, clock, 20)
    publisher.submit([veth_upsert(5)])
    broker.up = True
    drive(publisher, clock, 10)
    got = broker.messages()
    assert got[0]["type"] == "snapshot" and got[0]["seq"] == 1
    assert [m["seq"] for m in got] == list(range(1, len(got) + 1))
