"""Lab verb args as the tests write them (agent/verbs.py), and the refusal they get back."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from agent.verbs import ArgsError, InterfaceRef, parse_args

NS = "h1/ns:4026531840"
IF = "h1/if:4026531840:7"
BR = "h1/if:4026531840:9"
IF_REF = InterfaceRef(4026531840, 7)
BR_REF = InterfaceRef(4026531840, 9)
ip = ipaddress.ip_interface


def errors_of(verb: Any, args: Any, node: str = "h1") -> dict[str, str]:
    """{field: reason} of args that must be refused (the shape of the API's 400)."""
    with pytest.raises(ArgsError) as caught:
        parse_args(verb, args, node)
    return caught.value.as_dict()


def end(**fields: Any) -> dict[str, Any]:
    """One end of veth.create: "veth0" in namespace "lab", with ``fields`` changed (``...`` drops one)."""
    data: dict[str, Any] = {"namespace": "lab", "name": "veth0"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not ...}


def veth(a: dict[str, Any] | None = None, b: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"a": a if a is not None else end(), "b": b if b is not None else end(namespace="netns1", name="veth1")}
