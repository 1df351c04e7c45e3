"""Snapshot first, then coalesced deltas and heartbeats, numbered 1, 2, 3... without gaps."""

from __future__ import annotations

import json

import pytest

from agent.protocol import validate_message
from agent.publisher import CallableTransport, Publisher
from agent.signing import verify
from tests.factories import Clock, small_inventory, veth_remove, veth_upsert


@pytest.fixture
def setup():
    clock = Clock()
    sent: list[tuple[str, str | None]] = []
    publisher = Publisher(
        CallableTransport(lambda b, s: sent.append((b, s))), "h1", coalesce_ms=5, heartbeat_seconds=5, clock=clock
    )
    return publisher, clock, sent


def messages(sent):
    return [validate_message(json.loads(body)) for body, _ in sent]


def run_due(publisher):
    while publisher.step() == 0.0:
        pass


def test_it_sends_nothing_before_the_first_inventory(setup):
    publisher, clock, sent = setup
    clock.now += 60
    assert publisher.step() is None
    assert sent == []


def test_it_starts_with_a_snapshot_then_deltas_with_gapless_seq(setup):
    publisher, clock, sent = setup
    publisher.reset(small_inventory(loopback=True))
    run_due(publisher)
    publisher.submit([veth_upsert(5, "v0")])
    run_due(publisher)
    assert len(sent) == 2  # a change after a quiet spell goes at once
    publisher.submit([veth_remove(5)])
    run_due(publisher)
    assert len(sent) == 2  # one right after: held until the window closes
    clock.now += 0.005
    run_due(publisher)
    got = messages(sent)
    assert [m["type"] for m in got] == ["snapshot", "delta", "delta"]
    assert [m["seq"] for m in got] == [1, 2, 3]
    assert len({m["run"] for m in got}) == 1 and got[0]["run"] == publisher.run_id
    assert got[0]["interfaces"][0]["name"] == "lo"
    assert got[1]["changes"][0]["data"]["name"] == "v0"


def test_it_coalesces_a_burst_into_one_delta_with_the_latest_change_per_key(setup):
    publisher, clock, sent = setup
    publisher.reset(small_inventory(loopback=True))
    run_due(publisher)
    for n in range(100):
        publisher.submit([veth_upsert(5, f"v{n}")])
        publisher.submit([veth_upsert(6, "w")])
        clock.now += 0.00001
    publisher.submit([veth_remove(6)])
    clock.now += 0.005
    run_due(publisher)
    deltas = [m for m in messages(sent) if m["type"] == "delta"]
    assert len(deltas) == 1
    changes = deltas[0]["changes"]
    assert [(c["op"], c["key"]) for c in changes] == [("upsert", "if:1:5"), ("remove", "if:1:6")]
    assert changes[0]["data"]["name"] == "v99"


def test_it_never_holds_a_change_longer_than_the_window(setup):
    publisher, clock, sent = setup
    publisher.reset(small_inventory(loopback=True))
    run_due(publisher)
    publisher.submit([veth_upsert(5, "v0")])
    assert publisher.step() == 0.0  # sent without waiting
    publisher.submit([veth_upsert(6, "v1")])
    assert publisher.step() == pytest.approx(0.005)
    clock.now += 0.003
    publisher.submit([veth_upsert(7, "v2")])  # joins the open window; does not extend it
    assert publisher.step() == pytest.approx(0.002)
    clock.now += 0.002
    run_due(publisher)
    got = messages(sent)
    assert [[c["data"]["name"] for c in m["changes"]] for m in got[1:]] == [["v0"], ["v1", "v2"]]


def test_it_sends_a_heartbeat_when_idle(setup):
    publisher, clock, sent = setup
    publisher.reset(small_inventory(loopback=True))
    run_due(publisher)
    assert publisher.step() == pytest.approx(5.0)
    clock.now += 5
    run_due(publisher)
    clock.now += 5
    run_due(publisher)
    got = messages(sent)
    assert [(m["type"], m["seq"]) for m in got] == [("snapshot", 1), ("heartbeat", 2), ("heartbeat", 3)]


def test_it_publishes_a_snapshot_on_request_that_equals_the_state_so_far(setup):
    publisher, clock, sent = setup
    publisher.reset(small_inventory(loopback=True))
    run_due(publisher)
    publisher.submit([veth_upsert(5, "v0")])
    publisher.request_snapshot()  # arrives inside the window: the snapshot carries v0
    run_due(publisher)
    got = messages(sent)
    assert [m["type"] for m in got] == ["snapshot", "snapshot"]
    assert sorted(i["name"] for i in got[1]["interfaces"]) == ["lo", "v0"]
    clock.now += 1
    run_due(publisher)
    assert len(sent) == 2  # the change is not sent a second time


def test_it_signs_every_message_when_a_key_is_set():
    key = "s" * 32
    sent: list[tuple[str, str | None]] = []
    publisher = Publisher(CallableTransport(lambda b, s: sent.append((b, s))), "h1", key=key)
    publisher.reset(small_inventory(loopback=True))
    run_due(publisher)
    body, signature = sent[0]
    assert signature is not None and verify(body.encode(), key, signature)


def test_it_sends_unsigned_without_a_key(setup):
    publisher, _clock, sent = setup
    publisher.reset(small_inventory(loopback=True))
    run_due(publisher)
    assert sent[0][1] is None


def test_it_keeps_the_last_change_per_record_in_a_safe_order():
    from agent.publisher import canonical_order

    ns = {"op": "upsert", "kind": "namespace", "key": "ns:2", "data": {}}
    gone = {"op": "remove", "kind": "namespace", "key": "ns:2", "data": None}
    iface = veth_upsert(5, "v0")
    ordered = canonical_order([gone, veth_remove(5), iface, ns])  # removed, then found again
    assert ordered == [ns, iface]
    assert canonical_order([ns, iface, veth_remove(5), gone]) == [veth_remove(5), gone]
