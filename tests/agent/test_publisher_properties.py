"""Whatever happens (bursts, outages of any length, overflows, resyncs), what the receiver
gets numbers 1, 2, 3... without gaps and, applied in order, rebuilds the agent's state."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.agent.test_publisher_buffering import FlakyBroker, drive
from tests.factories import Clock, small_inventory, veth_upsert

actions = st.lists(
    st.one_of(
        st.tuples(st.just("change"), st.integers(2, 9)),
        st.tuples(st.just("remove"), st.integers(2, 9)),
        st.tuples(st.just("down"), st.just(0)),
        st.tuples(st.just("up"), st.just(0)),
        st.tuples(st.just("wait"), st.integers(0, 12000)),  # milliseconds
        st.tuples(st.just("resync"), st.just(0)),
    ),
    max_size=60,
)


def replay(messages: list[dict]) -> dict[str, dict]:
    state: dict[str, dict] = {}
    for message in messages:
        if message["type"] == "snapshot":
            state = {i["key"]: i for i in message["interfaces"]}
        elif message["type"] == "delta":
            for change in message["changes"]:
                if change["kind"] != "interface":
                    continue
                if change["op"] == "upsert":
                    state[change["key"]] = change["data"]
                else:
                    state.pop(change["key"], None)
    return state


@settings(max_examples=300, deadline=None)
@given(actions, st.integers(2, 6))
def test_it_delivers_a_gapless_stream_that_rebuilds_the_state(steps, limit):
    from agent.publisher import Publisher

    clock, broker = Clock(), FlakyBroker()
    publisher = Publisher(broker, "h1", coalesce_ms=5, heartbeat_seconds=5, buffer_limit=limit, clock=clock)
    publisher.reset(small_inventory())
    for action, value in steps:
        if action == "change":
            publisher.submit(
                [veth_upsert(value, f"v{value}-{round(clock.now * 1000) % 10**9}")]
            )  # a kernel name: <= 15 bytes
        elif action == "remove":
            publisher.submit([{"op": "remove", "kind": "interface", "key": f"if:1:{value}", "data": None}])
        elif action == "down":
            broker.up = False
        elif action == "up":
            broker.up = True
        elif action == "resync":
            publisher.request_snapshot()
        else:
            drive(publisher, clock, value / 1000)
    broker.up = True
    drive(publisher, clock, 10)
    got = broker.messages()
    assert [m["seq"] for m in got] == list(range(1, len(got) + 1))
    assert got[0]["type"] == "snapshot"
    assert replay(got) == publisher.interfaces
