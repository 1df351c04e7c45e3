"""Replaying the change log gives back exactly the stored state, after any sequence of
snapshots and deltas (property-based): the history issue's time travel rests on this."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import FIRST_INODE, ROOT_INODE, FakeAgent, make_interface, make_inventory, upsert
from webui.changelog.models import ChangeRecord
from webui.changelog.timetravel import timeline_at_position
from webui.topology.ingest import ingest
from webui.topology.models import Interface, Namespace, Node
from webui.topology.records import INTERFACE_VALUES, NAMESPACE_VALUES, interface_record, namespace_record

pytestmark = pytest.mark.django_db

Step = st.one_of(
    st.tuples(st.just("snapshot"), st.integers(0, 5), st.integers(0, 3)),  # namespaces, mtu variant
    st.tuples(st.just("move"), st.integers(0, 5), st.integers(0, 5)),  # eth0 of ns a -> ns b
    st.tuples(st.just("down"), st.integers(0, 5), st.integers(0, 1)),
)


def _stored() -> tuple[dict, dict]:
    return (
        {r["key"]: namespace_record(r) for r in Namespace.objects.filter(node__name="h1").values(*NAMESPACE_VALUES)},
        {r["key"]: interface_record(r) for r in Interface.objects.filter(node__name="h1").values(*INTERFACE_VALUES)},
    )


def _same(a: dict, b: dict) -> bool:
    def canon(records: dict) -> dict:
        return {k: {**v, "addresses": sorted(map(repr, v.get("addresses", [])))} for k, v in records.items()}

    return canon(a) == canon(b)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(Step, min_size=1, max_size=6))
def test_it_replays_to_the_stored_state(steps) -> None:
    ChangeRecord.objects.all().delete()
    Node.objects.all().delete()
    Node.objects.create(name="h1", key="k" * 40)
    agent = FakeAgent("h1", key="k" * 40)
    for kind, a, b in steps:
        if kind == "snapshot":
            inventory = make_inventory("h1", namespaces=a)
            for interface in inventory.interfaces[::2]:
                interface.mtu = 1500 + b
            result = ingest(*agent.snapshot(inventory))
        elif kind == "move":
            # eth0 of namespace a reappears in namespace b with the same MAC (a move when both exist)
            old = Interface.objects.filter(node__name="h1", key=f"if:{FIRST_INODE + a}:2").first()
            if old is None or not Namespace.objects.filter(key=f"ns:{FIRST_INODE + b}").exists():
                continue
            moved = make_interface(FIRST_INODE + b, 20 + a, "eth0", mac=old.mac, peer=f"if:{ROOT_INODE}:{100 + a}")
            remove = {"op": "remove", "kind": "interface", "key": old.key, "data": None}
            result = ingest(*agent.delta([remove, upsert(moved)]))
        else:
            row = Interface.objects.filter(node__name="h1").order_by("key")[a : a + 1].first()
            if row is None:
                continue
            record = interface_record(Interface.objects.filter(id=row.id).values(*INTERFACE_VALUES).get())
            record["operstate"] = "DOWN" if b else "UP"
            result = ingest(*agent.delta([{"op": "upsert", "kind": "interface", "key": row.key, "data": record}]))
        assert result.status in ("applied", "unchanged"), result
        last = ChangeRecord.objects.order_by("-graph_seq").values_list("graph_seq", flat=True).first()
        state = timeline_at_position(last).nodes.get("h1")  # no checkpoint: the whole log from nothing
        namespaces, interfaces = _stored()
        assert state is not None
        replayed_ns = {key: entry.record for key, entry in state.namespaces.items()}
        replayed_if = {key: entry.record for key, entry in state.interfaces.items()}
        assert _same(replayed_ns, namespaces) and _same(replayed_if, interfaces)
        assert state.host is not None and state.host["state"] == "online"
