"""Exports: PNG and SVG of the view, the graph as JSON, Graphviz dot.

The SVG is our own (static/nsmap/svg-export.js): it must be a document a browser and an XML
parser open, with one group per drawn node and edge, the right shapes and colours, and every
name escaped, including the characters the kernel allows in an interface name and XML does not.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, open_graph, shot, start_harness, wait_js
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e

SVG = "{http://www.w3.org/2000/svg}"
# Legal interface names (the kernel refuses only "/", ":" and white space) that XML must escape.
NASTY_A = 'x&<a>"'
NASTY_B = "y'&b"


def _export(page: Any, act: str) -> bytes:
    page.click(".nsm-export summary")
    with page.expect_download() as info:
        page.click(f"[data-act={act}]")
    return Path(info.value.path()).read_bytes()


def _settle(page: Any) -> None:
    wait_js(page, "() => !nsmapApp.cy.animated()")


def _groups(root: ET.Element, kind: str) -> list[str]:
    return [g.get("data-id", "") for g in root.iter(f"{SVG}g") if kind in (g.get("class") or "").split()]


def _texts(root: ET.Element) -> str:
    return "\n".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


# What the view shows: visible elements whose box reaches into the viewport.
IN_VIEW = """() => {
  const cy = nsmapApp.cy, v = cy.extent();
  const inView = (e) => { const b = e.boundingBox();
    return b.x1 <= v.x2 && b.x2 >= v.x1 && b.y1 <= v.y2 && b.y2 >= v.y1; };
  const shown = cy.elements().filter(e => e.visible() && e.effectiveOpacity() > 0 && inView(e));
  return { nodes: shown.nodes().map(n => n.id()).sort(), edges: shown.edges().map(e => e.id()).sort() };
}"""


def test_it_draws_the_view_as_svg_with_every_node_edge_and_name(page: Any, static_url: str, console: Console) -> None:
    start_harness(page, static_url, namespaces=4)
    renamed = page.evaluate(
        """() => {
          const app = nsmapApp, s = app.store;
          const i = [...s.interfaces.values()].find(x => x.name === 'eth1');
          app.receive({ type: 'patch', seq: s.seq + 1, remove: {},
                        upsert: { interfaces: [{ ...i, name: 'a<&>"\\'\\u0001b' }] } });
          app.cy.fit(undefined, 30);
          return i.id;
        }"""
    )
    _settle(page)
    svg = _export(page, "export-svg").decode()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    drawn = page.evaluate(
        """() => ({ nodes: nsmapApp.cy.nodes(':visible').map(n => n.id()).sort(),
                    edges: nsmapApp.cy.edges(':visible').map(e => e.id()).sort(),
                    names: [...nsmapApp.store.interfaces.values()].map(i => i.name) })"""
    )
    # Everything fits in the view: one group per node and per edge, none more.
    assert sorted(_groups(root, "node")) == drawn["nodes"]
    assert sorted(_groups(root, "edge")) == drawn["edges"]
    texts = _texts(root)
    for name in drawn["names"]:
        assert name.replace("\x01", "") in texts, name
    assert "a<&>\"'b" in texts  # escaped in the file, itself again once parsed; U+0001 dropped
    assert renamed in _groups(root, "node")

    by_id = {g.get("data-id"): g for g in root.iter(f"{SVG}g")}
    kinds = page.evaluate(
        """() => Object.fromEntries(['k-veth', 'k-bridge', 'k-loopback', 's-up', 's-down', 'collapsed']
             .map(c => [c, nsmapApp.cy.nodes('.' + c).map(n => n.id())]))"""
    )
    assert {by_id[i][0].tag for i in kinds["k-veth"]} == {f"{SVG}ellipse"}
    assert {by_id[i][0].tag for i in kinds["k-bridge"]} == {f"{SVG}rect"}
    loopbacks = [by_id[i][0] for i in kinds["k-loopback"]]
    assert loopbacks and all(e.tag == f"{SVG}polygon" and len(e.get("points", "").split()) == 4 for e in loopbacks)
    assert {by_id[i][0].get("fill") for i in kinds["s-up"]} == {"rgb(47,158,68)"}
    assert {by_id[i][0].get("fill") for i in kinds["s-down"]} == {"rgb(173,181,189)"}

    # The browser opens it: as XML without a parser error, and as an image it can decode.
    opened = page.evaluate(
        """async (svg) => {
          const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
          const img = new Image();
          img.src = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
          await img.decode();
          return { root: doc.documentElement.nodeName, errors: doc.getElementsByTagName('parsererror').length,
                   nodes: doc.querySelectorAll('g.node').length, width: img.naturalWidth };
        }""",
        svg,
    )
    assert (opened["root"], opened["errors"], opened["nodes"]) == ("svg", 0, len(drawn["nodes"]))
    assert opened["width"] > 100
    console.check()


def test_it_exports_png_svg_json_and_dot(server: Server, page: Any, console: Console, topo: Topology) -> None:
    open_graph(page, server, "e2e-viewer")
    a, b = topo.add_netns("xa"), topo.add_netns("xb")
    topo.veth(NASTY_A, a, NASTY_B, b)
    topo.up(a, NASTY_A)
    pair = wait_js(
        page,
        """([a, b]) => {
          const s = nsmapApp.store, ifs = [...s.interfaces.values()];
          const x = ifs.find(i => i.name === a), y = ifs.find(i => i.name === b);
          return (x && y && x.peer === y.id && nsmapApp.edgeBetween(x.id, y.id)) ? [x.id, y.id] : null;
        }""",
        [NASTY_A, NASTY_B],
    )
    page.evaluate("(id) => nsmapApp.select(id)", pair[0])
    _settle(page)
    shot(page, "export-view")

    png = _export(page, "export-png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000

    svg = _export(page, "export-svg").decode()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    view = page.evaluate(IN_VIEW)
    assert sorted(_groups(root, "node")) == view["nodes"]
    assert sorted(_groups(root, "edge")) == view["edges"]
    # The selected end is drawn; its peer's namespace may be a box, the edge reaches it anyway.
    assert pair[0] in view["nodes"]
    assert page.evaluate("([a, b]) => nsmapApp.edgeBetween(a, b)", pair) in view["edges"]
    texts = _texts(root)
    assert NASTY_A in texts

    graph = json.loads(_export(page, "export-json"))
    assert {"hosts", "namespaces", "interfaces", "seq"} <= graph.keys()
    assert any(n["kind"] == "root" for n in graph["namespaces"])
    assert {NASTY_A, NASTY_B} <= {i["name"] for i in graph["interfaces"]}
    dot = _export(page, "export-dot").decode()
    assert dot.startswith("graph nsmap {") and "subgraph cluster_" in dot
    console.check()
