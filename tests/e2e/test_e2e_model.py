"""The pure model (static/nsmap/model.js) in a real browser: elements, edges, patches, search, dot.

Runs on the offline harness page (static files only, no server, no root), so the logic the
dashboard depends on is checked on every machine.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, open_harness

pytestmark = pytest.mark.e2e


@pytest.fixture
def harness(page: Any, static_url: str) -> Any:
    open_harness(page, f"{static_url}/nsmap/harness.html?view=graph")
    return page


def test_it_turns_a_graph_into_boxes_nodes_and_one_edge_per_pair(harness: Any, console: Console) -> None:
    r = harness.evaluate(
        """() => {
          const M = nsmapModel, s = new M.Store();
          s.load(M.syntheticGraph(4));
          const exp = M.buildElements(s, { collapseAll: false, expanded: new Set(), collapsed: new Set() });
          const col = M.buildElements(s, { collapseAll: true, expanded: new Set(), collapsed: new Set() });
          const kinds = (els) => [...els.values()]
            .reduce((a, e) => (a[e.data.kind] = (a[e.data.kind] || 0) + 1, a), {});
          const edges = M.deriveEdges(s);
          const eth0 = [...s.interfaces.values()].find(i => i.name === 'eth0');
          return { exp: kinds(exp), col: kinds(col), veth: edges.filter(e => e.kind === 'veth').length,
                   port: edges.filter(e => e.kind === 'port').length, label: M.ifLabel(eth0, s),
                   parent: exp.get(eth0.id).data.parent === eth0.namespace,
                   collapsedLabel: col.get(eth0.namespace).data.label,
                   rootLabel: M.nsLabel([...s.namespaces.values()].find(n => n.kind === 'root')) };
        }"""
    )
    # 4 namespaces + root; 2 root links + 3 per namespace + 4 host-side veths.
    assert r["exp"] == {"host": 1, "ns": 5, "if": 18, "veth": 6, "port": 4}
    # Collapsed: the veth pairs between namespaces remain (as box-to-box edges); ports are inside root.
    assert r["col"] == {"host": 1, "ns": 5, "veth": 6}
    assert (r["veth"], r["port"]) == (6, 4)
    assert r["label"].startswith("eth0@if")
    assert r["parent"] is True
    assert "3 if" in r["collapsedLabel"]
    assert r["rootLabel"].startswith("★ root")
    console.check()


def test_it_keeps_the_incremental_update_equal_to_a_full_rebuild(harness: Any, console: Console) -> None:
    mismatches = harness.evaluate(
        """() => {
          const M = nsmapModel;
          let seed = 7;
          const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
          const out = [];
          for (const collapseAll of [true, false]) {
            const s = new M.Store();
            s.load(M.syntheticGraph(20));
            const ids = [...s.namespaces.keys()];
            const view = { collapseAll, expanded: new Set([ids[3]]), collapsed: new Set([ids[4]]) };
            const cur = M.buildElements(s, view);
            let seq = s.seq;
            for (let k = 0; k < 300; k++) {
              const ns = [...s.namespaces.values()], ifs = [...s.interfaces.values()];
              const patch = { seq: ++seq, upsert: {}, remove: {} };
              const r = rnd(5);
              if (r === 0) {
                const a = ns[rnd(ns.length)], b = ns[rnd(ns.length)];
                const mk = (n, i, p, pi) => ({ id: `${n.host}/if:${n.inode}:${i}`, host: n.host, namespace: n.id,
                  name: 'x' + k, ifindex: i, kind: 'veth', operstate: 'UP', up: true,
                  peer: `${p.host}/if:${p.inode}:${pi}`, peer_ifindex: pi });
                patch.upsert.interfaces = [mk(a, 5000 + 2 * k, b, 5001 + 2 * k), mk(b, 5001 + 2 * k, a, 5000 + 2 * k)];
              } else if (r === 1) patch.remove.interfaces = [ifs[rnd(ifs.length)].id];
              else if (r === 2) { const i = ifs[rnd(ifs.length)]; patch.upsert.interfaces = [{ ...i, up: !i.up }]; }
              else if (r === 3 && k % 25 === 0) patch.remove.namespaces = [ns[1 + rnd(ns.length - 1)].id];
              else { const i = ifs[rnd(ifs.length)], br = ifs.find(x => x.kind === 'bridge');
                     if (br && br.id !== i.id) patch.upsert.interfaces = [{ ...i, master: i.master ? null : br.id }]; }
              M.updateElements(s, view, cur, s.apply(patch));
              const full = M.buildElements(s, view);
              const bad = [...full].filter(([id, d]) => !cur.has(id) || cur.get(id).sig !== d.sig).map(x => x[0])
                .concat([...cur.keys()].filter(id => !full.has(id)));
              if (bad.length) { out.push({ collapseAll, k, bad: bad.slice(0, 3) }); break; }
            }
          }
          return out;
        }"""
    )
    assert mismatches == []
    console.check()


def test_it_searches_by_every_field_the_issue_names(harness: Any, console: Console) -> None:
    r = harness.evaluate(
        """() => {
          const M = nsmapModel, s = new M.Store();
          s.load(M.syntheticGraph(12));
          const n = (q) => { const x = M.search(s, q); return [x.namespaces.length, x.interfaces.length]; };
          const some = [...s.interfaces.values()].find(i => i.name === 'eth0');
          return {
            name: n('name:eth0'), ns: n('ns:lab3'), addr: n('addr:10.200.0.2'), mac: n(`mac:${some.mac}`),
            ctr: n('ctr:c0ffee2'), pid: n('pid:10001'), kind: n('kind:bridge'), state: n('state:down'),
            nocarrier: n('state:no-carrier'), host: n('host:bench kind:veth'), free: n('nginx eth0'),
            none: n('no-such-thing'),
          };
        }"""
    )
    assert r["name"] == [0, 12]
    assert r["ns"] == [1, 3]  # lab3 and its lo, eth0, eth1
    assert r["addr"] == [0, 1]
    assert r["mac"] == [0, 1]
    assert r["ctr"][1] >= 3 and r["ctr"][0] >= 1
    assert r["pid"] == [1, 3]
    assert r["kind"] == [0, 1]
    assert r["state"][1] >= 1 and r["nocarrier"][1] >= 1
    assert r["host"][1] == 12 + 12 + 12  # eth0, eth1 in each namespace, plus the host-side veths
    assert r["free"][1] >= 1
    assert r["none"] == [0, 0]
    console.check()


def test_it_exports_graphviz_dot_with_clusters_and_every_edge(harness: Any, console: Console) -> None:
    r = harness.evaluate(
        """() => {
          const M = nsmapModel, s = new M.Store();
          s.load(M.syntheticGraph(5));
          const dot = M.toDot(s);
          return { dot, edges: M.deriveEdges(s).length };
        }"""
    )
    dot = r["dot"]
    assert dot.startswith("graph nsmap {") and dot.rstrip().endswith("}")
    assert dot.count(" -- ") == r["edges"]
    assert dot.count("subgraph cluster_") == 1 + 6
    assert dot.count("{") == dot.count("}")
    console.check()


def test_it_asks_for_a_resync_on_a_gap_and_ignores_a_replay(harness: Any, console: Console) -> None:
    r = harness.evaluate(
        """async () => {
          await nsmapStart(nsmapModel.syntheticGraph(3));
          const app = nsmapApp, s = app.store, seq = s.seq;
          const i = [...s.interfaces.values()].find(x => x.name === 'eth0');
          const down = { ...i, operstate: 'LOWERLAYERDOWN' };
          app.receive({ type: 'patch', seq: seq + 1, upsert: { interfaces: [down] }, remove: {} });
          const applied = s.interfaces.get(i.id).operstate;
          app.receive({ type: 'patch', seq: seq + 1, upsert: { interfaces: [{ ...i, operstate: 'UP' }] }, remove: {} });
          const replayIgnored = s.interfaces.get(i.id).operstate === 'LOWERLAYERDOWN';
          app.receive({ type: 'patch', seq: seq + 5, upsert: {}, remove: { interfaces: [i.id] } });
          const gapIgnored = s.interfaces.has(i.id);
          const cls = app.cy.getElementById(i.id).classes();
          return { applied, replayIgnored, gapIgnored, resyncs: app.metrics.resyncs, cls };
        }"""
    )
    assert r["applied"] == "LOWERLAYERDOWN"
    assert r["replayIgnored"] and r["gapIgnored"]
    assert r["resyncs"] == 1
    assert "s-nocarrier" in r["cls"]
    console.check()
