"""What the graph does with live data, on the offline harness (no server, no root): placement and
highlight of arrivals, fading of removals, stale hosts, collapse/expand, focus, kept layout."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, start_harness

pytestmark = pytest.mark.e2e


def test_it_places_highlights_and_fades_without_moving_anything_else(
    page: Any, static_url: str, console: Console
) -> None:
    start_harness(page, static_url, namespaces=4)
    r = page.evaluate(
        """async () => {
          const app = nsmapApp, cy = app.cy, s = app.store;
          const before = {};
          cy.nodes().forEach(n => { if (n.isChildless()) before[n.id()] = { ...n.position() }; });
          const ns = [...s.namespaces.values()].find(n => n.kind !== 'root');
          const t = '2026-11-29T06:00:00Z';
          const mk = (i, name) => ({ id: `${ns.host}/if:${ns.inode}:${i}`, host: ns.host, namespace: ns.id,
            key: `if:${ns.inode}:${i}`, ifindex: i, name, kind: 'veth', operstate: 'UP', up: true,
            mac: '02:00:00:00:00:09',
            mtu: 1500, addresses: [], peer: null, peer_ifindex: null, master: null, first_seen: t, changed: t });
          app.receive({ type: 'patch', seq: s.seq + 1, upsert: { interfaces: [mk(90, 'new0')] }, remove: {} });
          const added = cy.getElementById(`${ns.host}/if:${ns.inode}:90`);
          const flash = added.hasClass('flash');
          const nsBox = cy.getElementById(ns.id).boundingBox();
          const p = added.position();
          const near = p.x >= nsBox.x1 - 200 && p.x <= nsBox.x2 + 200 && p.y >= nsBox.y1 - 200 && p.y <= nsBox.y2 + 200;
          let moved = 0;
          cy.nodes().forEach(n => {
            const b = before[n.id()];
            if (b && (b.x !== n.position().x || b.y !== n.position().y)) moved++;
          });
          app.receive({ type: 'patch', seq: s.seq + 1, upsert: {}, remove: { interfaces: [added.id()] } });
          await new Promise(r => setTimeout(r, 120)); // patches close together are drawn together
          const fading = added.hasClass('gone') && !added.removed();
          await new Promise(r => setTimeout(r, 700));
          return { flash, near, moved, fading, gone: added.removed() };
        }"""
    )
    assert r == {"flash": True, "near": True, "moved": 0, "fading": True, "gone": True}
    console.check()


def test_it_greys_a_stale_host_with_its_last_seen_time(page: Any, static_url: str, console: Console) -> None:
    start_harness(page, static_url, namespaces=3)
    r = page.evaluate(
        """() => {
          const app = nsmapApp, s = app.store, h = [...s.hosts.values()][0];
          const stale = { ...h, state: 'stale', last_seen: '2026-11-29T05:14:33Z' };
          app.receive({ type: 'patch', seq: s.seq + 1, upsert: { hosts: [stale] }, remove: {} });
          const host = app.cy.getElementById(h.id);
          const ns = app.cy.nodes('.ns').first();
          return { label: host.data('label'), stale: host.hasClass('stale'), nsGrey: ns.hasClass('hs') };
        }"""
    )
    assert r["stale"] and r["nsGrey"]
    assert "stale, last seen" in r["label"]
    console.check()


def test_it_collapses_above_the_threshold_and_expands_on_demand(page: Any, static_url: str, console: Console) -> None:
    start_harness(page, static_url, namespaces=6, query="&collapse=3")
    r = page.evaluate(
        """() => {
          const app = nsmapApp, cy = app.cy;
          const ifsBefore = cy.nodes('.if').length;
          const ns = [...app.store.namespaces.values()].find(n => n.kind !== 'root');
          const label = cy.getElementById(ns.id).data('label');
          app.toggleExpand(ns.id);
          const ifsAfter = cy.nodes('.if').length;
          app.toggleExpand(ns.id);
          return { ifsBefore, ifsAfter, back: cy.nodes('.if').length, label };
        }"""
    )
    assert r["ifsBefore"] == 0 and r["ifsAfter"] == 3 and r["back"] == 0
    assert "3 if" in r["label"]
    console.check()


def test_it_shows_only_a_namespace_and_its_neighbours(page: Any, static_url: str, console: Console) -> None:
    start_harness(page, static_url, namespaces=6)
    r = page.evaluate(
        """() => {
          const app = nsmapApp, cy = app.cy, s = app.store;
          const lab0 = [...s.namespaces.values()].find(n => (n.names || []).includes('lab0'));
          app.setFocus(lab0.id);
          const shown = cy.nodes('.ns').filter(n => !n.hasClass('hidden')).map(n => n.data('label')).sort();
          app.clearFocus();
          return { shown, all: cy.nodes('.ns.hidden').length };
        }"""
    )
    # lab0 is paired with root (eth0 <-> veth0) and with its neighbour pid 10001 (eth1 <-> eth1).
    assert len(r["shown"]) == 3
    assert any(x.startswith("★ root") for x in r["shown"]) and "lab0" in r["shown"]
    assert r["all"] == 0
    console.check()


def test_it_keeps_the_users_layout_and_resets_it(page: Any, static_url: str, console: Console) -> None:
    start_harness(page, static_url, namespaces=3, query="&user=alice")
    target = page.evaluate(
        """() => {
          const n = nsmapApp.cy.nodes('.if').first();
          n.position({ x: 4321, y: 1234 });
          n.emit('dragfree');
          return n.id();
        }"""
    )
    page.wait_for_timeout(700)
    start_harness(page, static_url, namespaces=3, query="&user=alice")
    kept = page.evaluate("(id) => nsmapApp.cy.getElementById(id).position()", target)
    assert kept == {"x": 4321, "y": 1234}
    start_harness(page, static_url, namespaces=3, query="&user=bob")
    other = page.evaluate("(id) => nsmapApp.cy.getElementById(id).position()", target)
    assert other != {"x": 4321, "y": 1234}
    start_harness(page, static_url, namespaces=3, query="&user=alice")
    page.click("[data-act=reset-layout]")
    page.wait_for_timeout(700)
    start_harness(page, static_url, namespaces=3, query="&user=alice")
    reset = page.evaluate("(id) => nsmapApp.cy.getElementById(id).position()", target)
    assert reset != {"x": 4321, "y": 1234}
    console.check()


def test_it_stays_responsive_through_a_flood_of_patches(page: Any, static_url: str, console: Console) -> None:
    """2,000 veth pairs appear in root and go again, one patch each, as fast as the page takes them
    (what `ip -batch` does to a live page): the crowded namespace turns into a box, no freeze."""
    start_harness(page, static_url, namespaces=3)
    r = page.evaluate(
        """async () => {
          const app = nsmapApp, s = app.store, before = s.interfaces.size;
          const root = [...s.namespaces.values()].find(n => n.kind === 'root');
          const tasks = [];
          const obs = new PerformanceObserver(l => { for (const e of l.getEntries()) tasks.push(e.duration); });
          obs.observe({ type: 'longtask', buffered: false });
          const mk = (i, p) => ({ id: `${root.host}/if:${root.inode}:${i}`, host: root.host, namespace: root.id,
            ifindex: i, name: `fl${i}`, kind: 'veth', operstate: 'UP', up: true,
            peer: `${root.host}/if:${root.inode}:${p}`, peer_ifindex: p });
          const t0 = performance.now();
          // One task per patch like WebSocket messages (setTimeout would add its 4 ms clamp).
          const ch = new MessageChannel();
          let next = null;
          ch.port1.onmessage = () => next();
          const send = (patch) => new Promise(r => {
            next = () => { app.receive(patch); r(); };
            ch.port2.postMessage(0);
          });
          for (let k = 0; k < 2000; k++) {
            const a = 20000 + 2 * k, b = a + 1;
            await send({ type: 'patch', seq: s.seq + 1, upsert: { interfaces: [mk(a, b), mk(b, a)] }, remove: {} });
          }
          const crowded = app.cy.getElementById(root.id).hasClass('collapsed');
          const tAdd = performance.now() - t0;
          for (let k = 0; k < 2000; k++) {
            const a = 20000 + 2 * k;
            const ids = [`${root.host}/if:${root.inode}:${a}`, `${root.host}/if:${root.inode}:${a + 1}`];
            await send({ type: 'patch', seq: s.seq + 1, upsert: {}, remove: { interfaces: ids } });
          }
          await new Promise(r => setTimeout(r, 500));
          obs.disconnect();
          return { ms: performance.now() - t0, tAdd, crowded, longest: Math.max(0, ...tasks),
                   back: app.cy.getElementById(root.id).hasClass('collapsed'), left: s.interfaces.size - before };
        }"""
    )
    assert r["crowded"] is True and r["back"] is False
    assert r["left"] == 0
    assert r["ms"] < 30_000, r
    assert r["longest"] < 1000, r
    console.check()


def test_it_draws_a_patched_interface_that_matches_the_search_as_a_match(
    page: Any, static_url: str, console: Console
) -> None:
    """A search stays on while patches arrive: a new interface it matches is drawn highlighted,
    and with "only matches" it (and its namespace) is shown, not hidden."""
    start_harness(page, static_url, namespaces=4)
    page.evaluate("nsmapApp.search('zz9')")
    page.check("#nsm-only")
    r = page.evaluate(
        """async () => {
          const app = nsmapApp, cy = app.cy, s = app.store;
          const ns = [...s.namespaces.values()].find(n => n.kind !== 'root');
          const nsHidden = cy.getElementById(ns.id).hasClass('hidden');
          const t = '2026-11-29T06:00:00Z';
          const id = `${ns.host}/if:${ns.inode}:91`;
          app.receive({ type: 'patch', seq: s.seq + 1, remove: {}, upsert: { interfaces: [{ id, host: ns.host,
            namespace: ns.id, key: `if:${ns.inode}:91`, ifindex: 91, name: 'zz9', kind: 'veth', operstate: 'UP',
            up: true, mac: '02:00:00:00:00:91', mtu: 1500, addresses: [], peer: null, peer_ifindex: null,
            master: null, first_seen: t, changed: t }] } });
          await new Promise(r => setTimeout(r, 120)); // drawn by now even if the patch was queued
          const added = cy.getElementById(id);
          return { nsHidden, drawn: added.nonempty(), match: added.hasClass('match'),
                   hidden: added.hasClass('hidden'), visible: added.visible(),
                   nsShown: !cy.getElementById(ns.id).hasClass('hidden') };
        }"""
    )
    assert r == {"nsHidden": True, "drawn": True, "match": True, "hidden": False, "visible": True, "nsShown": True}
    console.check()
