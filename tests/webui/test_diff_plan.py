"""The pure diff (no database): real changes only, moves detected by MAC and kind, never guessed."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from tests.factories import FIRST_INODE, ROOT_INODE, make_interface, make_inventory, remove, upsert
from webui.topology import diff


def _records(inventory) -> tuple[dict, dict]:
    return (
        {n.key: asdict(n) for n in inventory.namespaces},
        {i.key: asdict(i) for i in inventory.interfaces},
    )


def test_it_finds_no_change_between_equal_states() -> None:
    ns, ifs = _records(make_inventory(namespaces=3))
    assert not diff.plan(ns, ifs, dict(ns), dict(ifs))


def test_it_ignores_the_order_of_addresses() -> None:
    ns, ifs = _records(make_inventory(namespaces=1))
    after = {k: dict(v) for k, v in ifs.items()}
    key = f"if:{FIRST_INODE}:2"
    after[key]["addresses"] = list(reversed(after[key]["addresses"]))
    assert not diff.plan(ns, ifs, ns, after)


def test_it_orders_namespace_additions_first_and_removals_last() -> None:
    before_ns, before_if = _records(make_inventory(namespaces=1))
    after_ns, after_if = _records(make_inventory(namespaces=2))
    del after_ns[f"ns:{FIRST_INODE}"]
    after_if = {k: v for k, v in after_if.items() if v["namespace"] != f"ns:{FIRST_INODE}"}
    plan = diff.plan(before_ns, before_if, after_ns, after_if)
    kinds = [(c.kind, c.action) for c in plan.changes]
    assert kinds[0] == ("namespace", "added")
    assert kinds[-1] == ("namespace", "removed")
    assert kinds.index(("interface", "removed")) > kinds.index(("interface", "added"))


def test_it_reports_a_moved_interface_once_as_moved() -> None:
    ns, ifs = _records(make_inventory(namespaces=2))
    old = ifs.pop(f"if:{FIRST_INODE}:2")
    moved = dict(old, key=f"if:{FIRST_INODE + 1}:7", namespace=f"ns:{FIRST_INODE + 1}", ifindex=7)
    after = {**ifs, moved["key"]: moved}
    plan = diff.plan(ns, {**ifs, old["key"]: old}, ns, after)
    assert [(c.action, c.key) for c in plan.changes] == [("moved", moved["key"])]
    assert plan.changes[0].before["namespace"] == f"ns:{FIRST_INODE}"


def test_it_does_not_guess_a_move_when_a_mac_is_ambiguous() -> None:
    ns, ifs = _records(make_inventory(namespaces=3))
    gone = [ifs.pop(f"if:{FIRST_INODE}:2"), ifs.pop(f"if:{FIRST_INODE + 1}:2")]
    twins = [
        asdict(make_interface(FIRST_INODE + 2, 8, "x", mac="02:aa:aa:aa:aa:aa")),
        asdict(make_interface(FIRST_INODE + 2, 9, "y", mac="02:aa:aa:aa:aa:aa")),
    ]
    gone[0]["mac"] = gone[1]["mac"] = "02:aa:aa:aa:aa:aa"
    before = {**ifs, **{g["key"]: g for g in gone}}
    after = {**ifs, **{t["key"]: t for t in twins}}
    actions = sorted(c.action for c in diff.plan(ns, before, ns, after).changes)
    assert actions == ["added", "added", "removed", "removed"]


def test_it_never_calls_a_loopback_a_move() -> None:
    ns, ifs = _records(make_inventory(namespaces=2))
    lo = ifs.pop(f"if:{FIRST_INODE}:1")
    new_lo = asdict(make_interface(FIRST_INODE + 5, 1, "lo", "loopback", mac="00:00:00:00:00:00"))
    after_ns = {**ns, f"ns:{FIRST_INODE + 5}": {**ns[f"ns:{FIRST_INODE}"], "key": f"ns:{FIRST_INODE + 5}"}}
    plan = diff.plan(ns, {**ifs, lo["key"]: lo}, after_ns, {**ifs, new_lo["key"]: new_lo})
    assert "moved" not in [c.action for c in plan.changes]


def test_it_applies_delta_changes_in_order_and_cascades_namespace_removal() -> None:
    ns, ifs = _records(make_inventory(namespaces=1))
    extra = make_interface(ROOT_INODE, 50, "tmp0")
    after_ns, after_if = diff.apply_changes(
        ns, ifs, [upsert(extra), remove("interface", extra.key), remove("namespace", f"ns:{FIRST_INODE}")]
    )
    assert f"ns:{FIRST_INODE}" not in after_ns
    assert all(r["namespace"] != f"ns:{FIRST_INODE}" for r in after_if.values())
    assert extra.key not in after_if


def test_it_refuses_an_interface_of_an_unknown_namespace() -> None:
    ns, ifs = _records(make_inventory(namespaces=1))
    stray = asdict(make_interface(FIRST_INODE + 40, 2, "eth0"))
    with pytest.raises(diff.OutOfStep) as refused:
        diff.plan(ns, ifs, ns, {**ifs, stray["key"]: stray})
    assert str(refused.value) == f"interface {stray['key']} is in namespace ns:{FIRST_INODE + 40}, which is not known"


def test_it_normalizes_like_the_protocol_module() -> None:
    for record in make_inventory(namespaces=2).interfaces:
        data = asdict(record)
        del data["altnames"], data["peer_note"]
        assert diff.normalize("interface", data) == diff.check("interface", data)


def test_it_reports_a_namespace_whose_record_changed() -> None:
    ns, ifs = _records(make_inventory(namespaces=1))
    after = {k: dict(v) for k, v in ns.items()}
    key = f"ns:{FIRST_INODE}"
    after[key]["names"] = ["renamed"]
    changes = diff.plan(ns, ifs, after, ifs).changes
    assert [(c.kind, c.action, c.key) for c in changes] == [("namespace", "changed", key)]
    assert changes[0].before == ns[key] and changes[0].after == after[key]


def test_it_reports_an_address_change_as_an_interface_change() -> None:
    ns, ifs = _records(make_inventory(namespaces=1))
    after = {k: dict(v) for k, v in ifs.items()}
    key = f"if:{FIRST_INODE}:2"
    after[key]["addresses"] = [{"family": 4, "address": "10.9.9.9", "prefixlen": 24, "scope": "global"}]
    changes = diff.plan(ns, ifs, ns, after).changes
    assert [(c.kind, c.action, c.key) for c in changes] == [("interface", "changed", key)]


def test_it_fills_the_defaults_a_record_leaves_out() -> None:
    namespace = {"key": "ns:9", "inode": 9, "dev": 4, "kind": "named"}
    assert diff.normalize("namespace", namespace) == {
        **namespace,
        "names": [],
        "pids": [],
        "container_id": None,
        "nsid": None,
        "owner": None,
        "holder": None,
    }
    assert diff.check("namespace", namespace) == diff.normalize("namespace", namespace)
    interface = {"key": "if:9:2", "namespace": "ns:9", "ifindex": 2, "name": "eth0", "kind": "veth"}
    filled = diff.normalize(
        "interface", {**interface, "addresses": [{"family": 4, "address": "10.0.0.1", "prefixlen": 8}]}
    )
    assert filled["operstate"] == "UNKNOWN" and filled["up"] is False and filled["altnames"] == []
    assert filled["addresses"] == [{"family": 4, "address": "10.0.0.1", "prefixlen": 8, "scope": "global"}]
    with pytest.raises(KeyError, match="ifindex"):
        diff.normalize("interface", {k: v for k, v in interface.items() if k != "ifindex"})


def test_it_compares_missing_records_only_with_missing_ones() -> None:
    record = {"key": "ns:9", "inode": 9, "dev": 4, "kind": "named"}
    assert diff.same("namespace", None, None)
    assert not diff.same("namespace", None, record) and not diff.same("namespace", record, None)
    interface = {"key": "if:9:2", "namespace": "ns:9", "ifindex": 2, "name": "eth0", "kind": "veth", "addresses": []}
    assert not diff.same("interface", None, interface) and not diff.same("interface", interface, None)
    assert not diff.plan({}, {}, {}, {}) and diff.plan({}, {}, {"ns:9": record}, {})


def test_it_describes_additions_and_moves_completely() -> None:
    before_ns, before_if = _records(make_inventory(namespaces=1))
    after_ns, after_if = _records(make_inventory(namespaces=2))
    new_ns = f"ns:{FIRST_INODE + 1}"
    added = [c for c in diff.plan(before_ns, before_if, after_ns, after_if).changes if c.kind == "namespace"]
    assert [(c.action, c.key, c.before, c.after) for c in added] == [("added", new_ns, None, after_ns[new_ns])]
    moved_from = f"if:{FIRST_INODE}:2"
    record = dict(before_if[moved_from], key=f"if:{FIRST_INODE + 1}:7", namespace=new_ns, ifindex=7)
    moved_if = {k: v for k, v in before_if.items() if k != moved_from} | {record["key"]: record}
    (move,) = [c for c in diff.plan(before_ns, before_if, after_ns, moved_if).changes if c.action == "moved"]
    assert (move.kind, move.key, move.before, move.after) == ("interface", record["key"], before_if[moved_from], record)


def test_it_describes_changes_and_removals_completely() -> None:
    before_ns, before_if = _records(make_inventory(namespaces=2))
    gone_ns = f"ns:{FIRST_INODE + 1}"
    after_ns = {k: v for k, v in before_ns.items() if k != gone_ns}
    after_if = {k: v for k, v in before_if.items() if v["namespace"] != gone_ns}
    changed_key = f"if:{FIRST_INODE}:2"
    after_if[changed_key] = dict(before_if[changed_key], alias="renamed")
    added = asdict(make_interface(FIRST_INODE, 9, "dummy0", kind="dummy", mac=None))
    after_if[added["key"]] = added
    result = diff.plan(before_ns, before_if, after_ns, after_if)
    Change = diff.Change
    assert result.of("interface", "changed") == [
        Change("interface", "changed", changed_key, before_if[changed_key], after_if[changed_key])
    ]
    assert result.of("interface", "added") == [Change("interface", "added", added["key"], None, added)]
    assert result.of("interface", "removed") == [
        Change("interface", "removed", k, r, None) for k, r in before_if.items() if r["namespace"] == gone_ns
    ]
    assert result.of("namespace", "removed") == [Change("namespace", "removed", gone_ns, before_ns[gone_ns], None)]


def test_it_applies_upserts_of_both_kinds_with_their_records() -> None:
    ns, ifs = _records(make_inventory(namespaces=1))
    extra = make_interface(ROOT_INODE, 50, "tmp0")
    namespace = asdict(make_inventory(namespaces=2).namespaces[2])
    after_ns, after_if = diff.apply_changes(
        ns, ifs, [upsert(extra), {"op": "upsert", "kind": "namespace", "key": namespace["key"], "data": namespace}]
    )
    assert after_if[extra.key] == asdict(extra) and extra.key not in after_ns
    assert after_ns[namespace["key"]] == namespace and namespace["key"] not in after_if
    assert diff.apply_changes(ns, ifs, [remove("interface", "if:1:99")]) == (ns, ifs)


def test_it_names_records_for_the_change_log() -> None:
    assert diff.interface_label({"name": "eth0", "peer_ifindex": 117}) == "eth0@if117"
    assert diff.interface_label({"name": "lo"}) == "lo"
    namespace = {"key": "ns:9", "inode": 9, "dev": 4, "kind": "named", "names": ["blue"]}
    assert diff.namespace_label(namespace) == "blue"
    assert diff.namespace_label({**namespace, "kind": "root"}) == "root"


def test_it_selects_changes_by_kind_and_action() -> None:
    before_ns, before_if = _records(make_inventory(namespaces=2))
    after_ns, after_if = _records(make_inventory(namespaces=1))
    result = diff.plan(before_ns, before_if, after_ns, after_if)
    removed = result.of("namespace", "removed")
    assert [c.key for c in removed] == [f"ns:{FIRST_INODE + 1}"]
    assert result.of("namespace", "added", "changed") == []
    assert {c.action for c in result.of("interface", "removed", "added")} == {"removed"}
    assert len(result.of("interface", "removed")) == 3
