"""The seed chapter walked through on the page by an operator (here the admin), against this
host's kernel: a veth pair veth0/veth1 in a namespace (shown MTU 1500 and DOWN), both brought up,
10.1.1.2/24 and 10.1.1.3/24 given, a new namespace netns1, veth1 moved into it with its address
re-applied, and a ping across with 0% loss, drawn on the veth0-veth1 edge. Every step is checked
with `ip -j` too, and the change log names the user who did it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import (
    Console,
    Server,
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

DETAILS = ".nsm-details"


def row(page: Any, key: str) -> str:
    """The details panel's value for ``key`` (e.g. "MTU")."""
    return str(page.locator(f"{DETAILS} .nsm-kv tr:has(th:text-is('{key}')) td").inner_text())


def test_it_walks_the_seed_chapter_on_the_page(server: Server, page: Any, console: Console, topo: Topology) -> None:
    lab = topo.add_netns("lab")
    netns1_name = topo.name("-netns1")
    (netns1,) = topo.adopt_netns([netns1_name])  # the page makes it; recorded now, so close() deletes it
    open_graph(page, server, "e2e-admin")
    lab_id = ns_id(page, lab.name)

    # 1. veth0 / veth1 in the test's namespace, from its details panel.
    page.evaluate("(id) => nsmapApp.select(id)", lab_id)
    lab_button(page, "New veth pair…").click()
    form = lab_form(page)
    form.locator("[name='a.name']").fill("veth0")
    assert form.locator("[name='b.namespace']").input_value() == lab_id, "the other end starts in the same namespace"
    form.locator("[name='b.name']").fill("veth1")
    assert form.locator("[name='mtu']").input_value() == "1500"
    assert not form.locator("[name='up']").is_checked(), "DOWN unless asked"
    shot(page, "lab-seed-1-form")
    form.get_by_role("button", name="Create pair").click()
    lab_done(page, "veth.create")
    veth0 = if_id(page, lab.name, "veth0")
    veth1 = if_id(page, lab.name, "veth1")
    page.evaluate("(id) => nsmapApp.select(id)", veth0)
    assert row(page, "MTU") == "1500"
    assert page.locator(f"{DETAILS} .nsm-title .st").inner_text() == "DOWN"
    for dev in ("veth0", "veth1"):
        link = topo.link(lab, dev)
        assert link["mtu"] == 1500 and "UP" not in link["flags"], f"{dev} on the kernel: {link}"
        assert link["linkinfo"]["info_kind"] == "veth"
    assert topo.link(lab, "veth0")["link"] == "veth1", "veth0 and veth1 are one pair"
    shot(page, "lab-seed-1-created")

    # 2. Both up.
    for dev, ident in (("veth0", veth0), ("veth1", veth1)):
        page.evaluate("(id) => nsmapApp.select(id)", ident)
        sets = lab_count(page, "link.set")
        lab_button(page, "Bring up").click()
        lab_done(page, "link.set", sets)
        wait_js(page, "(id) => nsmapApp.store.interfaces.get(id).up === true", ident)
        assert "UP" in topo.link(lab, dev)["flags"], f"{dev} is not up on the kernel"
    page.locator(f"{DETAILS} .nsm-title .st:text-is('UP')").wait_for()
    shot(page, "lab-seed-2-up")

    # 3. Addresses.
    for dev, ident, address in (("veth0", veth0, "10.1.1.2/24"), ("veth1", veth1, "10.1.1.3/24")):
        page.evaluate("(id) => nsmapApp.select(id)", ident)
        lab_button(page, "Add address…").click()
        form = lab_form(page)
        form.locator("[name='address']").fill(address)
        adds = lab_count(page, "address.add")
        form.get_by_role("button", name="Add").click()
        lab_done(page, "address.add", adds)
        wait_js(page, "([id, a]) => (nsmapApp.store.interfaces.get(id).addresses || []).includes(a)", [ident, address])
        assert address in topo.addresses(lab, dev), f"{address} is not on {dev} on the kernel"
    shot(page, "lab-seed-3-addresses")

    # 4. A new namespace netns1, from the namespace's panel.
    page.evaluate("(id) => nsmapApp.select(id)", lab_id)
    lab_button(page, "New namespace…").click()
    form = lab_form(page)
    form.locator("[name='name']").fill(netns1_name)
    form.get_by_role("button", name="Create namespace").click()
    lab_done(page, "netns.create")
    netns1_id = ns_id(page, netns1_name)
    assert topo.ipj(netns1, "link", "show", "dev", "lo"), "netns1 exists on the kernel"
    shot(page, "lab-seed-4-netns1")

    # 5. veth1 into netns1; the form re-applies its address (and brings it up again).
    page.evaluate("(id) => nsmapApp.select(id)", veth1)
    lab_button(page, "Move…").click()
    form = lab_form(page)
    form.locator("[name='namespace']").select_option(netns1_id)
    assert "drops" in form.inner_text(), "the form says the kernel drops the addresses"
    assert form.get_by_label("Re-apply 10.1.1.3/24 after the move").is_checked()
    assert form.get_by_label("Bring it up again there").is_checked()
    shot(page, "lab-seed-5-move-form")
    adds, sets = lab_count(page, "address.add"), lab_count(page, "link.set")
    form.get_by_role("button", name="Move").click()
    lab_done(page, "link.move")
    lab_done(page, "address.add", adds)
    lab_done(page, "link.set", sets)
    moved = if_id(page, netns1_name, "veth1")
    wait_js(
        page,
        "(id) => { const i = nsmapApp.store.interfaces.get(id);"
        " return i && i.up === true && (i.addresses || []).includes('10.1.1.3/24'); }",
        moved,
    )
    assert topo.addresses(netns1, "veth1") == ["10.1.1.3/24"], "the address is back on veth1 in netns1"
    assert "UP" in topo.link(netns1, "veth1")["flags"]
    # veth0's own report (its peer now in netns1) may come after veth1's: wait for it, not assume it.
    wait_js(page, "([a, b]) => nsmapApp.store.interfaces.get(a).peer === b", [veth0, moved])
    wait_js(page, "([a, b]) => nsmapApp.edgeBetween(a, b)", [veth0, moved])
    page.evaluate("(id) => nsmapApp.select(id)", moved)  # framed with its peer
    shot(page, "lab-seed-5-moved")

    # 6. Ping across: from the test's namespace to veth1's address.
    page.evaluate("(id) => nsmapApp.select(id)", lab_id)
    lab_button(page, "Ping…").click()
    form = lab_form(page)
    form.locator("[name='address']").fill("10.1.1.3")
    form.get_by_role("button", name="Ping").click()
    (ping,) = lab_done(page, "ping")
    assert ping["result"]["loss"] == 0 and ping["result"]["received"] == ping["result"]["sent"] == 3, ping
    last = page.locator(f"{DETAILS} .nsm-ping-last")
    last.wait_for()
    assert "0% loss" in last.inner_text() and "3 received" in last.inner_text(), last.inner_text()
    assert "Shown on the link veth0 ↔ veth1" in last.inner_text(), last.inner_text()
    shot(page, "lab-seed-6-ping")
    # ... and on the pair it crossed, with the same line in both ends' details.
    edge = wait_js(page, "([a, b]) => nsmapApp.edgeBetween(a, b)", [veth0, moved])
    label = page.evaluate("(e) => nsmapApp.cy.getElementById(e).data('label')", edge)
    assert label.startswith("0% loss · ") and label.endswith(" ms"), f"the veth0-veth1 edge's label: {label!r}"
    for end in (veth0, moved):
        page.evaluate("(id) => nsmapApp.select(id)", end)
        line = page.locator(f"{DETAILS} .nsm-ping-link").inner_text()
        assert "to 10.1.1.3" in line and label in line, f"the details of {end} show the ping over the link: {line}"
    shot(page, "lab-seed-6-ping-edge")

    # The change log says who did it.
    actors = page.evaluate(
        """async (key) => {
          const r = await fetch('/api/v1/changes/?key=' + encodeURIComponent(key), { credentials: 'same-origin' });
          return (await r.json()).results.map((c) => c.actor);
        }""",
        veth0,
    )
    assert any("e2e-admin" in (a or "") for a in actors), f"the change log does not name e2e-admin: {actors}"
    console.check()
