"""A namespace's owner on the wire: it reads back as sent, and anything off its rules is refused
with the field named (types, lengths, character sets, runtimes)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.protocol import (
    PROTOCOL_VERSION,
    Owner,
    ProtocolError,
    clean_holder,
    holder_ok,
    namespace_from_json,
    namespace_to_json,
    validate_message,
)
from tests.factories import FIRST_INODE, make_namespace

POD_UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
OWNERS = ("docker", "podman", "containerd", "cri-o", "systemd-nspawn", "lxc", "mininet")


def owned(**owner: Any) -> dict[str, Any]:
    record = namespace_to_json(make_namespace(FIRST_INODE, kind="process"))
    record["owner"] = {"runtime": "containerd", **owner}
    return record


def delta_with(record: dict[str, Any]) -> dict[str, Any]:
    change = {"op": "upsert", "kind": "namespace", "key": record["key"], "data": record}
    return {"v": PROTOCOL_VERSION, "type": "delta", "node": "h", "run": "r", "seq": 1, "time": 0.0, "changes": [change]}


def test_it_reads_a_pod_owner_back_as_sent() -> None:
    record = owned(pod="nginx-7d9f", pod_namespace="default", pod_uid=POD_UID, containers=["nginx", "sidecar"])
    ns = namespace_from_json(record)
    assert ns.owner == Owner(
        runtime="containerd",
        pod="nginx-7d9f",
        pod_namespace="default",
        pod_uid=POD_UID,
        containers=("nginx", "sidecar"),
    )
    assert ns.label == "default/nginx-7d9f"
    assert namespace_to_json(ns)["owner"]["containers"] == ["nginx", "sidecar"]
    validate_message(delta_with(record))


@pytest.mark.parametrize(
    ("owner", "reason"),
    [
        ({"runtime": "rkt"}, "runtime"),
        ({"name": 5}, "name"),
        ({"name": ""}, "name"),
        ({"name": "web\n1"}, "name"),
        ({"name": "<img src=x>"}, "name"),
        ({"name": "x" * 254}, "name"),
        ({"id": "abc def"}, "id"),
        ({"pod_uid": "../../etc"}, "pod_uid"),
        ({"containers": "web"}, "containers"),
        ({"containers": ["ok", 3]}, "containers"),
        ({"containers": [f"c{i}" for i in range(65)]}, "containers"),
        ({"networks": ["a\tb"]}, "networks"),
        ({"colour": "red"}, "unknown"),
    ],
)
def test_it_refuses_an_owner_off_the_rules(owner: dict[str, Any], reason: str) -> None:
    record = owned()
    record["owner"].update(owner)
    with pytest.raises(ProtocolError, match=reason):
        validate_message(delta_with(record))


def test_it_refuses_an_owner_that_is_not_an_object() -> None:
    record = owned()
    record["owner"] = "docker"
    with pytest.raises(ProtocolError, match="owner"):
        validate_message(delta_with(record))


def test_it_refuses_a_holder_with_control_characters() -> None:
    record = namespace_to_json(make_namespace(FIRST_INODE, kind="mount", names=[]))
    record["holder"] = "/tmp/a\nb"
    with pytest.raises(ProtocolError, match="holder"):
        validate_message(delta_with(record))
    record["holder"] = "/tmp/a b/net"
    assert namespace_from_json(record).label == "/tmp/a b/net"


def test_it_makes_any_mount_path_an_allowed_holder() -> None:
    held = clean_holder("/tmp/odd\nname\x7f/net")
    assert held == "/tmp/odd?name?/net" and holder_ok(held)
    assert holder_ok(clean_holder("x" * 5000))


def test_it_labels_a_namespace_by_its_owner_before_its_names() -> None:
    record = namespace_to_json(make_namespace(FIRST_INODE, kind="named", names=["netns-0c5e"]))
    record["owner"] = {"runtime": "podman", "name": "web-1"}
    assert namespace_from_json(record).label == "web-1"
    record["owner"] = {"runtime": "docker", "id": "ab" * 32}  # no name known: the names still count
    assert namespace_from_json(record).label == "netns-0c5e"


def test_it_takes_names_as_runtimes_write_them_and_ids_only_as_ids() -> None:
    record = owned(name="shop/web 1", project="shop", containers=["web 1", "k8s_POD_x@y+z=w~v"])
    assert namespace_from_json(record).label == "shop/web 1"
    validate_message(delta_with(record))
    record["owner"]["id"] = "shop/web 1"
    with pytest.raises(ProtocolError, match=r"^owner: id 'shop/web 1' is not allowed$"):
        validate_message(delta_with(record))


def test_it_takes_as_many_containers_as_the_limit_allows() -> None:
    record = owned(containers=[f"c{i}" for i in range(64)])
    assert len(namespace_from_json(record).owner.containers) == 64
    record["owner"]["containers"].append("c64")
    with pytest.raises(ProtocolError, match=r"^owner: containers is a list of at most 64 names$"):
        validate_message(delta_with(record))


@pytest.mark.parametrize(
    ("owner", "reason"),
    [
        ("docker", "owner: a JSON object"),
        ({"runtime": "rkt"}, "owner: runtime 'rkt' is not one of " + ", ".join(OWNERS)),
        ({"name": "x"}, "owner: runtime None is not one of " + ", ".join(OWNERS)),
        ({"runtime": "lxc", "networks": ["ok", "a\tb"]}, "owner: networks entry 'a\\tb' is not allowed"),
    ],
)
def test_it_says_exactly_what_is_wrong_with_an_owner(owner: Any, reason: str) -> None:
    record = owned()
    record["owner"] = owner
    with pytest.raises(ProtocolError) as refused:
        validate_message(delta_with(record))
    assert str(refused.value) == reason


def test_it_keeps_a_holder_readable_and_never_empty() -> None:
    assert clean_holder("/run/my ns/net") == "/run/my ns/net", "a space is no control character"
    assert clean_holder("\x1f~\x7f") == "?~?"
    assert clean_holder("") == "?" and holder_ok("?")
    assert not holder_ok("") and not holder_ok("a\x7f") and not holder_ok(None)
