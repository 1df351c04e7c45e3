"""The verbs the seed chapter does not use, each from the details panel on this host's kernel:
link.set (MTU and rename), address.remove, bridge.create / attach / detach / delete, link.delete,
netns.delete; and a new pair's end made a bridge port by drawing the link onto the bridge."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.e2e.conftest import (
    LINK_ON,
    Console,
    Server,
    drag_to,
    if_id,
    lab_button,
    lab_count,
    lab_done,
    lab_form,
    ns_id,
    open_graph,
    shot,
    wait_js,
)
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e


def run(page: Any, target: str, button: str, submit: str, verb: str, fill: dict[str, str] | None = None) -> None:
    """Select ``target``, press the panel's ``button``, fill the form, press ``submit``; wait for ``verb`` done."""
    page.evaluate("(id) => nsmapApp.select(id)", target)
    lab_button(page, button).click()
    form = lab_form(page)
    for name, value in (fill or {}).items():
        field = form.locator(f"[name='{name}']")
        if field.evaluate("(el) => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    before = lab_count(page, verb)
    form.get_by_role("button", name=submit, exact=True).click()
    lab_done(page, verb, before)


def gone(page: Any, ident: str) -> None:
    wait_js(page, "(id) => !nsmapApp.store.interfaces.has(id)", ident)


def test_it_runs_the_other_verbs_from_the_details_panel(
    server: Server, page: Any, console: Console, topo: Topology
) -> None:
    lab = topo.add_netns("-verbs")
    extra = topo.name("-extra")
    open_graph(page, server, "e2e-admin")
    lab_id = ns_id(page, lab.name)
    run(page, lab_id, "New veth pair…", "Create pair", "veth.create", {"a.name": "p0", "b.name": "p1"})
    p0, p1 = if_id(page, lab.name, "p0"), if_id(page, lab.name, "p1")

    # link.set: MTU and name at once.
    run(page, p0, "Change…", "Apply", "link.set", {"mtu": "9000", "name": "p0x"})
    p0x = if_id(page, lab.name, "p0x")
    assert topo.link(lab, "p0x")["mtu"] == 9000 and "p0" not in topo.link_names(lab)

    # address.add then address.remove (chosen from its addresses).
    run(page, p0x, "Add address…", "Add", "address.add", {"address": "10.2.0.1/24"})
    wait_js(page, "(id) => (nsmapApp.store.interfaces.get(id).addresses || []).includes('10.2.0.1/24')", p0x)
    run(page, p0x, "Remove address…", "Remove", "address.remove", {"address": "10.2.0.1/24"})
    left = topo.addresses(lab, "p0x")
    assert not left, f"the address is gone: {left}"

    # A bridge, p1 attached to it, detached, the bridge deleted.
    run(page, lab_id, "New bridge…", "Create bridge", "bridge.create", {"name": "br9"})
    br = if_id(page, lab.name, "br9")
    run(page, p1, "Attach to bridge…", "Attach", "bridge.attach", {"bridge": br})
    assert topo.link(lab, "p1").get("master") == "br9", "p1 is a port of br9"
    wait_js(page, "([i, b]) => nsmapApp.store.interfaces.get(i).master === b", [p1, br])
    shot(page, "lab-verbs-attached")
    run(page, p1, "Detach from bridge…", "Detach", "bridge.detach")
    assert "master" not in topo.link(lab, "p1"), "p1 is no port any more"
    wait_js(page, "(i) => !nsmapApp.store.interfaces.get(i).master", p1)
    run(page, br, "Delete bridge…", "Delete bridge", "bridge.delete")
    gone(page, br)
    assert "br9" not in topo.link_names(lab)

    # link.delete takes both ends.
    run(page, p0x, "Delete…", "Delete both ends", "link.delete")
    gone(page, p0x)
    gone(page, p1)
    assert set(topo.link_names(lab)) == {"lo"}

    # netns.create then netns.delete.
    run(page, lab_id, "New namespace…", "Create namespace", "netns.create", {"name": extra})
    topo.adopt_netns([extra])
    extra_id = ns_id(page, extra)
    run(page, extra_id, "Delete namespace…", "Delete namespace", "netns.delete")
    wait_js(page, "(id) => !nsmapApp.store.namespaces.has(id)", extra_id)
    assert subprocess.run(["ip", "netns", "pids", extra], capture_output=True, check=False).returncode != 0
    console.check()


def test_it_makes_a_bridge_port_when_a_link_is_drawn_onto_a_bridge(
    server: Server, page: Any, console: Console, topo: Topology
) -> None:
    hub, leaf = topo.add_netns("-hub"), topo.add_netns("-leaf")
    topo.bridge(hub, "br0")
    open_graph(page, server, "e2e-admin")
    br = if_id(page, hub.name, "br0")
    leaf_id = ns_id(page, leaf.name)
    wait_js(
        page,
        "([a, b]) => nsmapApp.cy.getElementById(a).nonempty() && nsmapApp.cy.getElementById(b).nonempty()",
        [br, leaf_id],
    )
    page.evaluate(
        "([a, b]) => { const cy = nsmapApp.cy; cy.stop();"
        " cy.fit(cy.getElementById(a).union(cy.getElementById(b)), 80); }",
        [br, leaf_id],
    )
    page.get_by_role("button", name="Draw links").click()
    drag_to(page, leaf_id, br, LINK_ON)
    form = lab_form(page)
    assert form.locator("[name='b.namespace']").input_value() == f"bridge:{br}", "the other end goes on the bridge"
    name_b = form.locator("[name='b.name']").input_value()
    shot(page, "lab-bridge-form")
    before = lab_count(page, "veth.create")
    form.get_by_role("button", name="Create pair").click()
    lab_done(page, "veth.create", before)
    port = if_id(page, hub.name, name_b)
    wait_js(page, "([p, b]) => nsmapApp.store.interfaces.get(p).master === b", [port, br])
    assert topo.link(hub, name_b).get("master") == "br0", "the new end is a port of br0 on the kernel"
    shot(page, "lab-bridge-port")
    console.check()
