"""A signed message from a keyed agent is still untrusted input: every field is checked before
anything is written. Whatever a hostile agent sends is either applied (and then valid) or
rejected with a reason; it never raises and never stores a value the protocol does not allow."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import signing
from agent.protocol import validate_interface, validate_namespace
from tests.factories import FakeAgent, make_inventory
from webui.topology.models import Interface, Namespace
from webui.topology.records import INTERFACE_VALUES, NAMESPACE_VALUES, interface_record, namespace_record

pytestmark = pytest.mark.django_db


def signed(agent: FakeAgent, data: dict[str, Any]) -> tuple[str, str]:
    body = json.dumps(data)
    assert agent.key
    return body, signing.sign(body.encode(), agent.key)


def snapshot_data(agent: FakeAgent) -> dict[str, Any]:
    return json.loads(agent.snapshot(make_inventory("h1", namespaces=2))[0])


def assert_stored_rows_are_valid() -> None:
    for row in Namespace.objects.values(*NAMESPACE_VALUES):
        validate_namespace(namespace_record(row))
    for row in Interface.objects.values(*INTERFACE_VALUES):
        validate_interface(interface_record(row))


def test_it_rejects_markup_as_operstate_and_stores_nothing(ingest, agent) -> None:
    data = snapshot_data(agent)
    data["interfaces"][2]["operstate"] = "<IMG SRC=X ONERROR=alert(1337)>"
    result = ingest(signed(agent, data))
    assert result.status == "rejected", result
    assert "operstate" in result.reason
    assert not Interface.objects.exists(), "a snapshot with a hostile operstate was written"


def test_it_rejects_an_operstate_given_as_an_object_instead_of_a_database_error(ingest, agent) -> None:
    data = snapshot_data(agent)
    data["interfaces"][2]["operstate"] = {"state": "UP"}
    result = ingest(signed(agent, data))
    assert result.status == "rejected", result
    assert "operstate" in result.reason


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["<img src=x onerror=alert(1)>", "\x00", "\ud800", "a" * 300, "", ".", "a/b", "\x1b[2J", "UP"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, original: dict[str, Any]) -> dict[str, Any]:
    """``original`` with one place changed: a value replaced, a key removed or a key added."""
    data = copy.deepcopy(original)
    node: Any = data
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and draw(st.booleans()):
            node = child
            continue
        action = draw(st.sampled_from(["replace", "remove", "add"] if isinstance(node, dict) else ["replace"]))
        if action == "replace":
            node[key] = draw(JSON)
        elif action == "remove":
            del node[key]
        else:
            node[draw(st.text(min_size=1, max_size=12))] = draw(JSON)
        break
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=st.sampled_from(["snapshot", "delta", "heartbeat"]))
def test_it_applies_or_rejects_every_mutated_signed_message_with_a_reason(
    ingest, agent, sent_commands, data, kind
) -> None:
    agent.restart()
    assert ingest(agent.snapshot(make_inventory("h1", namespaces=2))).status in ("applied", "unchanged")
    inventory = make_inventory("h1", namespaces=3)
    if kind == "snapshot":
        original = json.loads(agent.snapshot(inventory)[0])
    elif kind == "delta":
        fresh = [i for i in inventory.interfaces if i.namespace == inventory.namespaces[-1].key]
        changes = [
            {"op": "upsert", "kind": "namespace", "key": inventory.namespaces[-1].key, "data": None},
            *({"op": "upsert", "kind": "interface", "key": i.key, "data": None} for i in fresh),
        ]
        original = json.loads(agent.delta(changes)[0])
        records = {r["key"]: r for r in (*inventory.to_json()["namespaces"], *inventory.to_json()["interfaces"])}
        for change in original["changes"]:
            change["data"] = records[change["key"]]
    else:
        original = json.loads(agent.heartbeat()[0])
    message = data.draw(mutated(original))
    result = ingest(signed(agent, message))
    assert result.status in ("applied", "unchanged", "heartbeat", "rejected", "resync", "waiting"), result
    if result.status == "rejected":
        assert result.reason, "rejected without a reason"
    assert_stored_rows_are_valid()
