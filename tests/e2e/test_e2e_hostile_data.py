"""Hostile strings from a keyed agent: markup in a field the protocol types strictly (host name,
operstate, kind, address, MAC, container id) gets the whole snapshot refused with the reason;
markup in every field that is free text (namespace name, comm, interface name and altname as the
kernel allows them, alias, peer note) is ingested, then the graph, the search, the details of the
interface, its namespace and its host, and the table are walked. No dialog opens, no element is
made from the data, the Content-Security-Policy reports no violation, and each string reads as
typed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, open_graph, shot, wait_js

pytestmark = pytest.mark.e2e

HOST = "hostile-host"
HOSTILE = {
    "ns_name": "<img src=x onerror=alert('nsname')>",
    "comm": "<img src=x onerror=alert('comm')>",
    "if_name": "<img>x<script>",  # no '/', ':' or whitespace: a name the kernel allows
    "alias": "<script>alert('alias')</script>",
    "peer_note": "<img src=x onerror=alert('note')>",
}
# each of these alone gets the snapshot refused, naming the field
REFUSED = {
    "node": "<img src=x onerror=alert('host')>",
    "operstate": "<IMG SRC=X ONERROR=alert(1337)>",
    "kind": "<img src=x onerror=alert('kind')>",
    "address": "<img src=x onerror=alert('addr')>",
    "mac": "<img src=x onerror=alert('mac')>",
    "container_id": "\"><img src=x onerror=alert('ctr')>",
}

# Runs in `manage.py shell` against the server's database: registers the node, signs a snapshot
# with tests.factories.FakeAgent and ingests it as the inbox worker would.
INGEST = """
import json, sys
from agent.protocol import Address, Process
from tests.factories import FakeAgent, make_interface, make_namespace, ROOT_INODE, FIRST_INODE
from agent.protocol import Inventory
from webui.topology.ingest import ingest
from webui.topology.models import Node
host, h, bad = json.loads(sys.stdin.read())


def snapshot(node, field=None, value=None):
    data = {**h, "node": node, "operstate": "UP", "kind": "veth", "address": "10.9.9.9", "mac": "02:00:00:00:00:09",
            "container_id": None}
    if field:
        data[field] = value
    inv = Inventory(node=node, namespaces=[
        make_namespace(ROOT_INODE, "root", pids=[Process(1, "init")]),
        make_namespace(FIRST_INODE, "named", names=[data["ns_name"]], pids=[Process(4242, data["comm"])],
                       container_id=data["container_id"]),
    ])
    inv.interfaces.append(make_interface(
        FIRST_INODE, 2, data["if_name"], data["kind"], alias=data["alias"], operstate=data["operstate"], up=True,
        mac=data["mac"], addresses=[Address(4, data["address"], 24)], altnames=[data["if_name"] + "-alt"],
        peer_note=data["peer_note"],
    ))
    inv.interfaces.append(make_interface(
        FIRST_INODE, 3, "veth9", "veth", operstate="UP", peer_ifindex=77, peer_note=data["peer_note"],
    ))
    return inv


refused = {}
for field, value in bad.items():
    node = value if field == "node" else host
    Node.objects.get_or_create(name=node, defaults={"key": "hostile-" + "k" * 40})
    key = Node.objects.get(name=node).key
    result = ingest(*FakeAgent(node, key=key).snapshot(snapshot(node, field, value)))
    refused[field] = [result.status, getattr(result, "reason", "")]
node, _ = Node.objects.get_or_create(name=host, defaults={"key": "hostile-" + "k" * 40})
result = ingest(*FakeAgent(host, key=node.key).snapshot(snapshot(host)))
print(json.dumps({"status": result.status, "reason": getattr(result, "reason", ""), "refused": refused}))
"""

WATCH = """
window.__nsmapCsp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__nsmapCsp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def _text(page: Any, selector: str) -> str:
    return page.locator(selector).inner_text()


def test_it_shows_hostile_agent_strings_as_text(server: Server, page: Any, console: Console) -> None:
    out = server.manage("shell", "-c", INGEST, input=json.dumps([HOST, HOSTILE, REFUSED]))
    result = json.loads(out.strip().splitlines()[-1])
    for field, (status, reason) in result["refused"].items():
        assert status == "rejected" and reason, f"markup in {field} was not refused: {status} {reason!r}"
    assert result["status"] == "applied", f"the hostile snapshot was not ingested: {result}"

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.context.add_init_script(WATCH)
    open_graph(page, server, "e2e-viewer")
    wait_js(page, "(host) => nsmapApp.store.hosts.has(host)", HOST)
    ids = page.evaluate(
        """(host) => {
          const s = nsmapApp.store;
          const ifs = [...s.interfaces.values()].filter((i) => i.host === host);
          const ns = [...s.namespaces.values()].find((n) => n.host === host && n.kind !== 'root');
          return {ifs: ifs.map((i) => i.id), ns: ns.id};
        }""",
        HOST,
    )
    assert len(ids["ifs"]) == 2, ids

    def no_markup_made(where: str) -> None:
        made = page.evaluate("document.querySelectorAll('#nsmap-app img, #nsmap-app script, .site-header img').length")
        csp = page.evaluate("window.__nsmapCsp")
        assert made == 0, f"{where}: the page made {made} element(s) from data"
        assert not csp, f"{where}: Content-Security-Policy violations: {csp}"
        assert not dialogs, f"{where}: a dialog opened: {dialogs}"

    # Search for the hostile host: the results list its namespace and interfaces by their names.
    page.fill("#nsm-q", f"host:{HOST}")
    page.keyboard.press("Enter")
    wait_js(page, "() => document.querySelectorAll('.nsm-hits li button').length >= 3")
    hits = _text(page, ".nsm-results")
    assert HOSTILE["ns_name"] in hits and HOSTILE["if_name"] in hits, hits
    no_markup_made("search")

    # Details of the interface, its namespace (where ifState was once inserted as markup), its host.
    page.locator(".nsm-hits button", has_text=HOSTILE["if_name"]).first.click()
    details = _text(page, ".nsm-detail-body")
    for field in ("if_name", "alias", "ns_name"):
        assert HOSTILE[field] in details, f"interface details do not show {field} as text: {details!r}"
    no_markup_made("interface details")
    page.evaluate("(id) => nsmapApp.select(id)", ids["ns"])
    wait_js(page, "() => document.querySelector('.nsm-detail-body h2').textContent.includes('nsname')")
    no_markup_made("namespace details")
    details = _text(page, ".nsm-detail-body")
    for field in ("ns_name", "comm", "if_name"):
        assert HOSTILE[field] in details, f"namespace details do not show {field} as text: {details!r}"
    page.evaluate("(id) => nsmapApp.select(id)", ids["ifs"][1])
    assert HOSTILE["peer_note"] in _text(page, ".nsm-detail-body")
    page.evaluate("(id) => nsmapApp.select(id)", HOST)
    assert HOST in _text(page, ".nsm-detail-body h2")
    no_markup_made("host details")

    # The graph drew them (canvas text); the table lists them as text.
    assert page.evaluate("(id) => nsmapApp.cy.getElementById(id).nonempty()", ids["ns"])
    page.click("[data-act=view-table]")
    wait_js(page, "() => document.querySelectorAll('.nsm-table tbody tr').length >= 2")
    table = _text(page, ".nsm-table tbody")
    for field in ("if_name", "ns_name"):
        assert HOSTILE[field] in table, f"the table does not show {field} as text"
    assert HOST in table
    shot(page, "hostile-data-table")
    no_markup_made("table")
    console.check()
