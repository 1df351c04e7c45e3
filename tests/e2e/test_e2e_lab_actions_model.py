"""The lab actions' pure part (static/nsmap/actions-model.js) in a real browser: free names for a new
pair, each verb's args built and checked like agent/verbs.py checks them, and the API's refusals
in plain words. Runs on the offline harness page (no server, no root)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, open_harness

pytestmark = pytest.mark.e2e


@pytest.fixture
def lab(page: Any, static_url: str) -> Any:
    open_harness(page, f"{static_url}/nsmap/harness.html?view=graph")
    return page


def test_it_proposes_free_names_of_at_most_15_bytes(lab: Any, console: Console) -> None:
    r = lab.evaluate(
        """() => {
          const M = nsmapModel, L = nsmapLabModel, s = new M.Store();
          s.load(M.syntheticGraph(4));
          const ns = [...s.namespaces.values()];
          const lab0 = ns.find((n) => (n.names || []).includes('lab0'));
          const root = ns.find((n) => n.kind === 'root');
          const plain = L.proposeNames(s, lab0.id, root.id);
          // Take the proposed name in lab0: the next proposal gets a suffix.
          const id = lab0.host + '/if:' + lab0.inode + ':77';
          s.interfaces.set(id, { id, host: lab0.host, namespace: lab0.id, name: plain[0] });
          const again = L.proposeNames(s, lab0.id, root.id);
          const same = L.proposeNames(s, lab0.id, lab0.id);
          const long = L.freeName('veth-abcdefghijklmnop', new Set(['veth-abcdefghij']));
          const size = (x) => new TextEncoder().encode(x).length;
          return { plain, again, same, long, bytes: [...plain, ...again, ...same, long].map(size) };
        }"""
    )
    assert r["plain"] == ["veth-lab0-root", "veth-root-lab0"], r
    assert r["again"][0] == "veth-lab0-roo-2", f"a taken name must get a suffix within 15 bytes: {r}"
    assert r["same"][0] != r["same"][1], f"both ends in one namespace need two names: {r}"
    assert r["long"] == "veth-abcdefgh-2", r
    assert max(r["bytes"]) <= 15, f"a proposed name is longer than the kernel allows: {r}"
    console.check()


def test_it_checks_names_addresses_and_mtu_like_the_agent(lab: Any, console: Console) -> None:
    r = lab.evaluate(
        """() => {
          const L = nsmapLabModel;
          const veth = (over) => L.buildArgs('veth.create', Object.assign({
            'a.namespace': 'h1/ns:1', 'a.name': 'veth0', 'a.address': '', 'b.namespace': 'h1/ns:1',
            'b.name': 'veth1', 'b.address': '', mtu: '1500', up: false }, over));
          return {
            ok: veth({}),
            long: veth({ 'a.name': 'abcdefghijklmnop' }).errors,
            utf8: veth({ 'a.name': 'ééééééééé' }).errors,
            slash: veth({ 'b.name': 'a/b' }).errors,
            same: veth({ 'b.name': 'veth0' }).errors,
            cidr: veth({ 'a.address': '10.1.1.300/24', 'b.address': '10.1.1.3' }).errors,
            v6: veth({ 'a.address': 'fd00::2/64', 'b.address': 'ff02::1/64' }),
            mtu: veth({ mtu: '67' }).errors,
            mtuHigh: veth({ mtu: '70000' }).errors,
            nothing: L.buildArgs('link.set', { interface: 'h1/if:1:2', up: '', mtu: '', name: 'x',
                                                currentName: 'x' }).errors,
            set: L.buildArgs('link.set', { interface: 'h1/if:1:2', up: 'down', mtu: '9000', name: 'x',
                                            currentName: 'x' }).args,
            ping: L.buildArgs('ping', { namespace: 'h1/ns:1', address: '10.1.1.3', count: '3', timeout: '5' }).args,
            pingBad: L.buildArgs('ping', { namespace: 'h1/ns:1', address: '224.0.0.1', count: '50',
                                            timeout: '5' }).errors,
            netns: L.buildArgs('netns.create', { name: 'a b' }).errors,
          };
        }"""
    )
    assert r["ok"]["args"] == {
        "a": {"namespace": "h1/ns:1", "name": "veth0", "mtu": 1500, "up": False},
        "b": {"namespace": "h1/ns:1", "name": "veth1", "mtu": 1500, "up": False},
    }, r["ok"]
    assert "16 bytes" in r["long"]["a.name"] and "15" in r["long"]["a.name"], r["long"]
    assert "18 bytes" in r["utf8"]["a.name"], f"names are counted in UTF-8 bytes, as the kernel does: {r['utf8']}"
    assert "'/'" in r["slash"]["b.name"], r["slash"]
    assert "same name" in r["same"]["b.name"], r["same"]
    assert set(r["cidr"]) == {"a.address", "b.address"} and "prefix length" in r["cidr"]["b.address"], r["cidr"]
    assert "multicast" in r["v6"]["errors"]["b.address"], r["v6"]
    assert "68..65535" in r["mtu"]["mtu"] and "68..65535" in r["mtuHigh"]["mtu"], (r["mtu"], r["mtuHigh"])
    assert "nothing to change" in r["nothing"][""], r["nothing"]
    assert r["set"] == {"interface": "h1/if:1:2", "up": False, "mtu": 9000}, r["set"]
    assert r["ping"] == {"namespace": "h1/ns:1", "address": "10.1.1.3", "count": 3, "timeout": 5}, r["ping"]
    assert set(r["pingBad"]) == {"address", "count"}, r["pingBad"]
    assert "spaces" in r["netns"]["name"], r["netns"]
    console.check()


def test_it_refuses_a_pair_across_hosts_and_on_a_non_bridge(lab: Any, console: Console) -> None:
    r = lab.evaluate(
        """() => {
          const M = nsmapModel, L = nsmapLabModel, s = new M.Store();
          const g = M.syntheticGraph(2, 'h1'), g2 = M.syntheticGraph(1, 'h2');
          s.load({ seq: 1, hosts: [...g.hosts, ...g2.hosts], namespaces: [...g.namespaces, ...g2.namespaces],
                   interfaces: [...g.interfaces, ...g2.interfaces] });
          const ns = [...s.namespaces.values()];
          const h1 = ns.filter((n) => n.host === 'h1'), h2 = ns.filter((n) => n.host === 'h2');
          const br = [...s.interfaces.values()].find((i) => i.host === 'h1' && i.kind === 'bridge');
          const eth = [...s.interfaces.values()].find((i) => i.host === 'h1' && i.name === 'eth0');
          return { cross: L.vethRefusal(s, h1[1].id, h2[1].id), ok: L.vethRefusal(s, h1[1].id, h1[2].id),
                   bridge: L.vethRefusal(s, h1[1].id, br.id), notBridge: L.vethRefusal(s, h1[1].id, eth.id) };
        }"""
    )
    assert r["cross"] and "never spans hosts" in r["cross"] and "h1" in r["cross"] and "h2" in r["cross"], r
    assert r["ok"] is None and r["bridge"] is None, r
    assert "not a bridge" in r["notBridge"], r
    console.check()


def test_it_puts_the_api_refusals_into_words(lab: Any, console: Console) -> None:
    r = lab.evaluate(
        """() => {
          const L = nsmapLabModel;
          return {
            rejected: L.explainRejection({ 'args.a.name': ['is 16 bytes; the kernel allows at most 15'],
                                           node: ["there is no node 'x'"] }, ['a.name', 'b.name']),
            mtu: L.explainRejection({ 'args.b.mtu': ['70000 is outside 68..65535 for a veth'] }, ['mtu']),
            refused: L.explainFailure("refused: args.b.name: the name 'veth1' is taken in netns lab (ifindex 3)"),
            failed: L.explainFailure('failed: the kernel refused to move veth1: File exists'),
            offline: L.explainFailure('node h2 is offline: its agent is not reporting, so it cannot act'),
            forbidden: L.explainStatus(403),
            ping: L.pingText({ sent: 3, received: 3, loss: 0, rtt_ms: { min: 0.041, avg: 0.06, max: 0.1 } }),
            forward: [L.advances(null, 'requested'), L.advances('running', 'sent'), L.advances('done', 'failed'),
                      L.advances('sent', 'done')],
          };
        }"""
    )
    assert r["rejected"]["fields"] == {"a.name": "is 16 bytes; the kernel allows at most 15"}, r["rejected"]
    assert r["rejected"]["general"] == ["host: there is no node 'x'"], r["rejected"]
    assert r["mtu"]["fields"] == {"mtu": "70000 is outside 68..65535 for a veth"}, r["mtu"]
    assert r["refused"] == (
        "Refused by the host: the second end's name: the name 'veth1' is taken in netns lab (ifindex 3)."
        " Nothing was changed."
    ), r["refused"]
    assert r["failed"] == "Failed: the kernel refused to move veth1: File exists.", r["failed"]
    assert r["offline"].startswith("Failed: node h2 is offline"), r["offline"]
    assert "operator" in r["forbidden"], r["forbidden"]
    assert r["ping"] == "3 sent, 3 received, 0% loss, rtt min/avg/max 0.041 / 0.06 / 0.1 ms", r["ping"]
    assert r["forward"] == [True, False, False, True], f"a status report must never move a command backwards: {r}"
    console.check()


def test_it_finds_the_link_a_ping_leaves_by(lab: Any, console: Console) -> None:
    # syntheticGraph: namespace k's eth0 pairs with root's veth<k> (a port of br0, 10.200.0.1/16)
    # and holds 10.200.0.<k+2>; eth1 pairs namespace 2j with 2j+1 (192.168.0.<k>/31); lo everywhere.
    r = lab.evaluate(
        """() => {
          const M = nsmapModel, L = nsmapLabModel, s = new M.Store();
          s.load(M.syntheticGraph(4));
          const root = [...s.namespaces.values()].find((n) => n.kind === 'root');
          const ns = [...s.namespaces.values()].filter((n) => n.kind !== 'root').sort((a, b) => a.inode - b.inode);
          const name = (id) => {
            const i = s.interfaces.get(id);
            const n = s.namespaces.get(i ? i.namespace : null);
            return i && `${n === root ? 'root' : ns.indexOf(n)}.${i.name}`;
          };
          const way = (from, address) => {
            const w = L.pingEdge(s, from.id, address);
            return w.edge ? { ends: [name(w.near), name(w.far)], bridge: name(w.bridge), kind: w.edge.kind,
                              known: M.deriveEdges(s).some((e) => e.id === w.edge.id) } : w;
          };
          return {
            pair: way(ns[0], '192.168.0.1'),
            bridged: way(ns[0], '10.200.0.3'),
            v6: (() => {
              s.interfaces.get(`${ns[1].id.replace('/ns:', '/if:')}:2`).addresses.push('fd00:0:0:1::3/64');
              s.interfaces.get(`${ns[0].id.replace('/ns:', '/if:')}:2`).addresses.push('fd00:0:0:1::2/64');
              return way(ns[0], 'FD00:0000:0:1:0:0:0:3');
            })(),
            toBridge: way(ns[0], '10.200.0.1'),
            fromRoot: way(root, '10.200.0.2'),
            ownLo: way(ns[0], '127.0.0.1'),
            unknown: way(ns[0], '10.9.9.9'),
            island: way(ns[2], '192.168.0.1'),
          };
        }"""
    )
    assert r["pair"] == {"ends": ["0.eth1", "1.eth1"], "bridge": None, "kind": "veth", "known": True}, r["pair"]
    assert r["bridged"]["ends"] == ["0.eth0", "root.veth0"] and r["bridged"]["bridge"] == "root.br0", (
        f"a ping through a bridge is drawn on the pair that leads to it: {r['bridged']}"
    )
    assert r["v6"]["ends"] == ["0.eth0", "root.veth0"], f"IPv6 in any spelling, its subnet's end first: {r['v6']}"
    assert r["toBridge"]["ends"] == ["0.eth0", "root.veth0"], r["toBridge"]
    assert r["fromRoot"]["ends"] == ["root.veth0", "0.eth0"], r["fromRoot"]
    assert "this namespace itself" in r["ownLo"]["reason"], r["ownLo"]
    assert "no interface on the map holds 10.9.9.9" in r["unknown"]["reason"], r["unknown"]
    # Namespace 2 reaches 192.168.0.1 (namespace 1) over br0: eth0 -> veth2 -> br0 -> veth1 -> 1.eth0.
    assert r["island"]["ends"] == ["2.eth0", "root.veth2"] and r["island"]["bridge"] == "root.br0", r["island"]
    console.check()


def test_it_draws_a_ping_on_the_interface_the_kernel_routed_it_by(lab: Any, console: Console) -> None:
    # syntheticGraph as above. The agent's result names the interface (result.interface): that
    # link is drawn, whatever the addresses on the map suggest.
    r = lab.evaluate(
        """() => {
          const M = nsmapModel, L = nsmapLabModel, s = new M.Store();
          s.load(M.syntheticGraph(4));
          const root = [...s.namespaces.values()].find((n) => n.kind === 'root');
          const ns = [...s.namespaces.values()].filter((n) => n.kind !== 'root').sort((a, b) => a.inode - b.inode);
          const ifOf = (n, name) => [...s.interfaces.values()].find((i) => i.namespace === n.id && i.name === name);
          const name = (id) => {
            const i = s.interfaces.get(id);
            const n = s.namespaces.get(i ? i.namespace : null);
            return i && `${n === root ? 'root' : ns.indexOf(n)}.${i.name}`;
          };
          const way = (from, address, result) => {
            const w = L.pingEdge(s, from.id, address, result);
            return w.edge ? { ends: [name(w.near), name(w.far)], bridge: name(w.bridge), kind: w.edge.kind,
                              known: M.deriveEdges(s).some((e) => e.id === w.edge.id) } : w;
          };
          const by = (n, dev) => ({ sent: 1, received: 1, loss: 0, interface: ifOf(n, dev).id, via: null });
          const br0 = ifOf(root, 'br0');
          const add = (n, dev, extra) => {
            const id = `${n.id.replace('/ns:', '/if:')}:${900 + s.interfaces.size}`;
            s.interfaces.set(id, { id, host: n.host, namespace: n.id, name: dev, addresses: [], ...extra });
          };
          add(root, 'tap0', { kind: 'tun', master: br0.id });
          add(root, 'eth9', { kind: '' });
          return {
            routed: way(ns[0], '192.168.0.1', by(ns[0], 'eth0')),
            guessed: way(ns[0], '192.168.0.1', { sent: 1, received: 1, loss: 0 }),
            bridge: way(root, '10.200.0.3', by(root, 'br0')),
            lonely: way(root, '10.9.9.9', by(root, 'br0')),
            port: way(root, '10.200.0.3', by(root, 'tap0')),
            lo: way(ns[0], '10.200.0.2', by(ns[0], 'lo')),
            device: way(root, '10.9.9.9', by(root, 'eth9')),
            unseen: way(ns[0], '10.9.9.9', { interface: 'h/if:1:999' }),
          };
        }"""
    )
    assert r["routed"] == {"ends": ["0.eth0", "root.veth0"], "bridge": "root.br0", "kind": "veth", "known": True}, (
        f"the interface the kernel named wins over the address guess (eth1's /31): {r['routed']}"
    )
    assert r["guessed"]["ends"] == ["0.eth1", "1.eth1"], f"a result without interface falls back: {r['guessed']}"
    assert r["bridge"] == {"ends": ["root.veth1", "1.eth0"], "bridge": "root.br0", "kind": "veth", "known": True}, (
        f"out by a bridge: the pair of the port leading to the address: {r['bridge']}"
    )
    assert "which of its ports leads to 10.9.9.9" in r["lonely"]["reason"], r["lonely"]
    assert r["port"] == {"ends": ["root.tap0", "root.br0"], "bridge": "root.br0", "kind": "port", "known": True}, r[
        "port"
    ]
    assert "this namespace itself" in r["lo"]["reason"], r["lo"]
    assert "eth9, which links to nothing" in r["device"]["reason"], r["device"]
    assert "does not show (h/if:1:999)" in r["unseen"]["reason"], r["unseen"]
    console.check()


def test_it_labels_the_edge_until_the_link_changes(lab: Any, console: Console) -> None:
    r = lab.evaluate(
        """() => {
          const M = nsmapModel, L = nsmapLabModel, s = new M.Store();
          s.load(M.syntheticGraph(2));
          const ns = [...s.namespaces.values()].filter((n) => n.kind !== 'root').sort((a, b) => a.inode - b.inode);
          const w = L.pingEdge(s, ns[0].id, '192.168.0.1');
          const label = L.pingLabel({ sent: 3, received: 3, loss: 0, rtt_ms: { min: 0.02, avg: 0.031, max: 0.05 } });
          const view = { expanded: new Set(), collapsed: new Set(), edgeNotes: new Map() };
          view.edgeNotes.set(w.edge.id, { label, stamp: M.edgeStamp(s, w.edge) });
          const drawn = () => M.buildElements(s, view).get(w.edge.id).data.label;
          const out = { label, drawn: drawn() };
          const near = s.interfaces.get(w.near);
          near.addresses = [...near.addresses, 'fe80::1/64'];
          near.operstate = 'LOWERLAYERDOWN';
          out.settled = drawn();
          near.up = near.up === false;
          out.down = drawn();
          return Object.assign(out, {
            lost: L.pingLabel({ sent: 3, received: 0, loss: 100, rtt_ms: null }),
            some: L.pingLabel({ sent: 3, received: 2, loss: 33.3, rtt_ms: { min: 1, avg: 12.5, max: 20 } }),
            failed: L.pingLabel(null, 'failed: ping could not run'),
          });
        }"""
    )
    assert r["label"] == "0% loss · 0.031 ms" and r["drawn"] == r["label"], r
    assert r["settled"] == r["label"], f"a link-local address or the carrier settling is no change of the link: {r}"
    assert r["down"] == "", f"an end taken down changes the link: its ping label must go: {r}"
    assert (r["lost"], r["some"], r["failed"]) == ("100% loss", "33.3% loss · 12.5 ms", "ping failed"), r
    console.check()


def test_it_knows_what_the_host_never_changes_and_what_nsmap_made(lab: Any, console: Console) -> None:
    r = lab.evaluate(
        """() => {
          const L = nsmapLabModel;
          return {
            lo: L.untouchable({ name: 'lo', kind: null }),
            device: L.untouchable({ name: 'eth0', kind: null }),
            sentDevice: L.untouchable({ name: 'eth0', kind: 'device' }),
            sentLo: L.untouchable({ name: 'lo', kind: 'loopback' }),
            veth: L.untouchable({ name: 'veth0', kind: 'veth' }),
            ours: L.madeByNsmap({ alias: 'nsmap:0b5d5c3e-8d1f-4c39-9a57-2f1f4f1d2a10' }),
            theirs: [L.madeByNsmap({ alias: null }), L.madeByNsmap({ alias: 'uplink' }), L.madeByNsmap({})],
          };
        }"""
    )
    assert r["lo"] == "nsmap never changes lo", r
    assert r["device"] == "a device, not a virtual link: nsmap never changes those", r
    assert r["sentDevice"] == r["device"], f"the graph's kind 'device' (a physical link) must keep its actions off: {r}"
    assert r["sentLo"] == r["lo"], r
    assert r["veth"] is None, f"a veth must keep its actions: {r}"
    assert r["ours"] is True and r["theirs"] == [False, False, False], r
    console.check()
