// nsmap pure model: graph JSON -> store -> cytoscape element descriptors, patches, diffs,
// search, dot export. No DOM and no cytoscape here, so it can be tested on any page and the
// view stays a thin layer that only applies diffs. One module, though long: the store, the
// element descriptors and the search all read the same records and must agree on them.

/** A store of the graph JSON (docs/CONTRACTS.md) keyed by id. */
export class Store {
  constructor() {
    this.seq = null;
    this.hosts = new Map();
    this.namespaces = new Map();
    this.interfaces = new Map();
  }

  /** Replace everything with a full graph (first message, resync, REST). */
  load(graph) {
    this.seq = graph.seq ?? null;
    this.hosts = new Map((graph.hosts || []).map((h) => [h.id, h]));
    this.namespaces = new Map((graph.namespaces || []).map((n) => [n.id, n]));
    this.interfaces = new Map((graph.interfaces || []).map((i) => [i.id, i]));
  }

  /** Apply one patch; returns the ids it touched (for highlighting and the details panel). */
  apply(patch) {
    // `before` keeps the replaced or removed objects: the view needs where things *were*.
    const touched = { added: [], changed: [], removed: [], before: new Map(), kinds: new Set() };
    const up = patch.upsert || {};
    const rm = patch.remove || {};
    const drop = (map, id, kind) => {
      const o = map.get(id);
      if (!o) return;
      map.delete(id);
      touched.removed.push(id);
      touched.before.set(id, o);
      touched.kinds.add(kind);
    };
    for (const id of rm.interfaces || []) drop(this.interfaces, id, "interfaces");
    const goneNs = new Set();
    for (const id of rm.namespaces || []) {
      if (!this.namespaces.has(id)) continue;
      drop(this.namespaces, id, "namespaces");
      goneNs.add(id);
    }
    // A namespace that goes takes its interfaces with it even if the patch forgot them (one pass).
    if (goneNs.size) {
      for (const [iid, i] of this.interfaces) if (goneNs.has(i.namespace)) drop(this.interfaces, iid, "interfaces");
    }
    for (const id of rm.hosts || []) drop(this.hosts, id, "hosts");
    for (const [kind, map] of [
      ["hosts", this.hosts],
      ["namespaces", this.namespaces],
      ["interfaces", this.interfaces],
    ]) {
      for (const obj of up[kind] || []) {
        const old = map.get(obj.id);
        if (old) {
          touched.changed.push(obj.id);
          touched.before.set(obj.id, old);
        } else touched.added.push(obj.id);
        touched.kinds.add(kind);
        map.set(obj.id, obj);
      }
    }
    if (patch.seq != null) this.seq = patch.seq;
    return touched;
  }

  /** The graph JSON again (export, tests). */
  toGraph() {
    return {
      seq: this.seq,
      hosts: [...this.hosts.values()],
      namespaces: [...this.namespaces.values()],
      interfaces: [...this.interfaces.values()],
    };
  }

  get(id) {
    return this.interfaces.get(id) || this.namespaces.get(id) || this.hosts.get(id) || null;
  }

  /** Interfaces per namespace id, built on demand (cheap: one pass). */
  byNamespace() {
    const out = new Map();
    for (const i of this.interfaces.values()) {
      let list = out.get(i.namespace);
      if (!list) out.set(i.namespace, (list = []));
      list.push(i);
    }
    return out;
  }
}

// ---------------------------------------------------------------- labels and classes

/** What the owner calls it: "default/nginx-7d9f" for a pod, else the container, machine or host name. */
export function ownerLabel(owner) {
  if (!owner) return "";
  if (owner.pod) return owner.pod_namespace ? `${owner.pod_namespace}/${owner.pod}` : String(owner.pod);
  return owner.name ? String(owner.name) : "";
}

/** Human label of a namespace: its owner's name, its names, what holds it, else container id /
 * "pid 4711 (nginx)", root marked. */
export function nsLabel(ns) {
  if (!ns) return "?";
  const names = ns.names || [];
  const pid = ns.pids && ns.pids.length ? ns.pids[0] : null;
  const pidText = pid ? `pid ${pid.pid}${pid.comm ? ` (${pid.comm})` : ""}` : "";
  if (ns.kind === "root") return names.length ? `★ root (${names.join(", ")})` : "★ root";
  const owned = ownerLabel(ns.owner);
  if (owned) return owned;
  if (names.length) return names.join(", ");
  if (ns.holder) return String(ns.holder);
  if (ns.container_id) return `ctr ${String(ns.container_id).slice(0, 12)}${pidText ? ` · ${pidText}` : ""}`;
  if (pidText) return pidText;
  return ns.label || ns.key || ns.id;
}

/** UP / DOWN (admin down) / NO-CARRIER (admin up, lower layer down), as the page shows it. */
export function ifState(i) {
  const op = (i.operstate || "").toUpperCase();
  if (i.up === false) return "DOWN";
  if (op === "UP" || op === "UNKNOWN" || op === "") return i.up === undefined && op === "" ? "UNKNOWN" : "UP";
  if (op === "LOWERLAYERDOWN" || op === "DORMANT" || op === "NOTPRESENT" || op === "DOWN")
    return i.up ? "NO-CARRIER" : "DOWN";
  return op;
}

const STATE_CLASS = { UP: "s-up", DOWN: "s-down", "NO-CARRIER": "s-nocarrier" };

/** Normalised kind: veth, bridge, loopback, device, macvlan, vxlan, tun, or the raw string. */
export function ifKind(i) {
  const k = (i.kind || "").toLowerCase();
  if (k) return k === "tap" ? "tun" : k;
  if (i.name === "lo") return "loopback";
  return "device";
}

const KNOWN_KINDS = new Set(["veth", "bridge", "loopback", "device", "macvlan", "vxlan", "tun"]);

/** `eth0@if117` when the peer is in another namespace, `veth0@veth1` when beside it. */
export function ifLabel(i, store) {
  if (i.label) return i.label;
  if (i.peer && store) {
    const p = store.interfaces.get(i.peer);
    if (p && p.namespace === i.namespace) return `${i.name}@${p.name}`;
  }
  if (i.peer_ifindex != null) return `${i.name}@if${i.peer_ifindex}`;
  return i.name;
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtDateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${fmtTime(iso)}`;
}

// ---------------------------------------------------------------- edges

/**
 * Edges at interface level: one per veth pair (from `peer`, whichever side knows it), one per
 * bridge port (from `master`). Returned as [{id, kind, a, b}] with a/b interface ids.
 */
export function deriveEdges(store) {
  const out = [];
  const seen = new Set(); // a veth pair is found from both of its ends
  for (const i of store.interfaces.values()) {
    for (const e of edgesOf(store, i)) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      out.push(e);
    }
  }
  return out;
}

/** Edges that involve interface `i` (its pair, its bridge port); the one place edge ids are made. */
export function edgesOf(store, i) {
  const out = [];
  if (i.peer && store.interfaces.has(i.peer)) {
    const [a, b] = i.id < i.peer ? [i.id, i.peer] : [i.peer, i.id];
    out.push({ id: `v|${a}|${b}`, kind: "veth", a, b });
  }
  if (i.master && store.interfaces.has(i.master)) out.push({ id: `p|${i.id}`, kind: "port", a: i.id, b: i.master });
  return out;
}

/**
 * What an edge is as a link: both ends' ids, namespaces, names, pair, bridge and admin state
 * (null when an end is gone). A note pinned to an edge (a ping's outcome, actions.js) holds while
 * this stays the same; addresses and carrier are left out: IPv6 link-local addresses and the
 * operstate settle a moment after an interface comes up, which is no change of the link.
 */
export function edgeStamp(store, e) {
  const ends = [store.interfaces.get(e.a), store.interfaces.get(e.b)];
  if (!ends[0] || !ends[1]) return null;
  return JSON.stringify(ends.map((i) => [i.id, i.namespace, i.name, i.peer || null, i.master || null, i.up !== false]));
}

/** Namespaces linked to nsId by a veth or a bridge port (for "only this namespace and neighbours"). */
export function neighbourNamespaces(store, nsId) {
  const out = new Set([nsId]);
  for (const e of deriveEdges(store)) {
    const na = store.interfaces.get(e.a).namespace;
    const nb = store.interfaces.get(e.b).namespace;
    if (na === nsId) out.add(nb);
    if (nb === nsId) out.add(na);
  }
  return out;
}

// ---------------------------------------------------------------- cytoscape descriptors

/**
 * Which namespaces are drawn expanded. Above `threshold` namespaces everything starts collapsed;
 * explicit user choices (expanded / collapsed sets) win.
 */
export function isExpanded(nsId, view) {
  if (view.expanded && view.expanded.has(nsId)) return true;
  if (view.collapsed && view.collapsed.has(nsId)) return false;
  // A namespace with very many interfaces (a flood, a busy host root) starts as a box too.
  if (view.autoCollapsed && view.autoCollapsed.has(nsId)) return false;
  return !view.collapseAll;
}

/** Namespaces holding more than `limit` interfaces (collapsed unless the user expands them). */
export function crowdedNamespaces(store, limit) {
  const count = new Map();
  for (const i of store.interfaces.values()) count.set(i.namespace, (count.get(i.namespace) || 0) + 1);
  const out = new Set();
  for (const [ns, c] of count) if (c > limit) out.add(ns);
  return out;
}

function desc(group, data, classes) {
  const sig = `${data.parent || ""}|${data.label}|${classes}|${data.source || ""}|${data.target || ""}`;
  return { group, data, classes, sig };
}

/** A time-travel diff's mark (static/nsmap/timetravel.js): " diff-added" | "-removed" | "-changed". */
function diffMark(item) {
  return item.diff === "added" || item.diff === "removed" || item.diff === "changed" ? ` diff-${item.diff}` : "";
}

function hostStale(h) {
  return !!(h && h.state && h.state !== "online");
}

function descHost(h, view) {
  const stale = hostStale(h);
  const label = stale ? `${h.name || h.id} — ${h.state}, last seen ${fmtTime(h.last_seen)}` : h.name || h.id;
  // At scale a host is a plain "frame" node behind its namespaces instead of a compound parent:
  // cytoscape's compound bookkeeping over 1,000 children costs more than the whole render.
  const data = view.flatHosts ? { id: h.id, kind: "host", label, w: 400, h: 200 } : { id: h.id, kind: "host", label };
  return desc("nodes", data, `host${stale ? " stale" : ""}${view.flatHosts ? " frame" : ""}`);
}

function descNs(store, view, ns, ifs) {
  const host = store.hosts.get(ns.host);
  const hs = hostStale(host) ? " hs" : "";
  const root = ns.kind === "root" ? " root" : "";
  const parent = host && !view.flatHosts ? ns.host : undefined;
  if (isExpanded(ns.id, view)) {
    return desc("nodes", { id: ns.id, kind: "ns", host: ns.host, parent, label: nsLabel(ns) }, `ns${root}${hs}${diffMark(ns)}`);
  }
  let up = 0;
  let veth = 0;
  for (const i of ifs) {
    if (ifState(i) === "UP") up += 1;
    if (ifKind(i) === "veth") veth += 1;
  }
  const counts = `${ifs.length} if · ${up} up · ${veth} veth`;
  return desc(
    "nodes",
    { id: ns.id, kind: "ns", host: ns.host, parent, label: `${nsLabel(ns)}\n${counts}` },
    `ns collapsed${root}${hs}${diffMark(ns) || (ifs.some((i) => i.diff) ? " diff-inside" : "")}`,
  );
}

function descIf(store, i) {
  const hs = hostStale(store.hosts.get(i.host)) ? " hs" : "";
  const k = ifKind(i);
  const unres = i.peer_status === "unresolved" ? " unresolved" : "";
  return desc(
    "nodes",
    { id: i.id, kind: "if", parent: i.namespace, label: ifLabel(i, store) },
    `if k-${KNOWN_KINDS.has(k) ? k : "other"} ${STATE_CLASS[ifState(i)] || "s-other"}${unres}${hs}${diffMark(i)}`,
  );
}

/** The element an interface is drawn as: itself, or its namespace when that is collapsed. */
function repOf(store, view, id) {
  const i = store.interfaces.get(id);
  if (!i || !store.namespaces.has(i.namespace)) return null;
  return isExpanded(i.namespace, view) ? id : i.namespace;
}

function descEdge(store, view, e) {
  const s = repOf(store, view, e.a);
  const t = repOf(store, view, e.b);
  if (!s || !t || s === t) return null; // inside one collapsed namespace
  const agg = s !== e.a || t !== e.b ? " agg" : "";
  // A note on the edge (view.edgeNotes: edge id -> {label, stamp}) shows while the edge is unchanged.
  const note = view.edgeNotes && view.edgeNotes.get(e.id);
  const label = note && note.stamp === edgeStamp(store, e) ? note.label : "";
  return desc("edges", { id: e.id, kind: e.kind, a: e.a, b: e.b, source: s, target: t, label }, `${e.kind}${agg}`);
}

/**
 * The element descriptors the view should show: Map id -> {group, data, classes, sig}.
 * `sig` is a string of everything that matters, so diffing is one string compare per element.
 */
export function buildElements(store, view) {
  const els = new Map();
  const byNs = store.byNamespace();
  for (const h of store.hosts.values()) els.set(h.id, descHost(h, view));
  for (const ns of store.namespaces.values()) {
    const ifs = byNs.get(ns.id) || [];
    els.set(ns.id, descNs(store, view, ns, ifs));
    if (isExpanded(ns.id, view)) for (const i of ifs) els.set(i.id, descIf(store, i));
  }
  for (const e of deriveEdges(store)) {
    const d = descEdge(store, view, e);
    if (d) els.set(e.id, d);
  }
  return els;
}

/**
 * The diff for one patch without rebuilding everything: only the elements the patch can have
 * changed (touched interfaces, their old and new peers and masters, ports of touched bridges,
 * their namespaces' boxes and counts, their edges). Mutates `current` to the new state and returns
 * {add, remove, update} like diffElements. Host changes and view changes use the full path.
 */
export function updateElements(store, view, current, touched) {
  if (touched.kinds.has("hosts")) {
    const next = buildElements(store, view);
    const d = diffElements(current, next);
    current.clear();
    for (const [k, v] of next) current.set(k, v);
    return d;
  }
  const dirtyIf = new Set();
  const dirtyNs = new Set();
  const note = (o) => {
    if (!o) return;
    if (o.namespace === undefined) {
      dirtyNs.add(o.id); // a namespace
      return;
    }
    dirtyIf.add(o.id);
    dirtyNs.add(o.namespace);
    if (o.peer) dirtyIf.add(o.peer); // its label may name us ("veth0@veth1")
  };
  for (const id of [...touched.added, ...touched.changed, ...touched.removed]) {
    note(store.interfaces.get(id) || store.namespaces.get(id));
    note(touched.before.get(id));
  }
  // Interfaces that point at a dirty one (its pair seen from the other side, a bridge's ports).
  // Until nothing grows: a bridge's ports, then a port's pair seen only from the other side...
  // (one round in consistent data; odd half-resolved states can chain further).
  for (;;) {
    const before = dirtyIf.size;
    for (const i of store.interfaces.values()) {
      if ((i.peer && dirtyIf.has(i.peer)) || (i.master && dirtyIf.has(i.master))) dirtyIf.add(i.id);
    }
    if (dirtyIf.size === before) break;
  }
  for (const id of dirtyIf) {
    const i = store.interfaces.get(id);
    if (i) dirtyNs.add(i.namespace);
  }
  const next = new Map();
  const gone = new Set();
  const nsIfs = new Map();
  for (const id of dirtyNs) nsIfs.set(id, []);
  for (const i of store.interfaces.values()) nsIfs.get(i.namespace)?.push(i);
  for (const id of dirtyNs) {
    const ns = store.namespaces.get(id);
    if (ns) next.set(id, descNs(store, view, ns, nsIfs.get(id)));
    else gone.add(id);
  }
  for (const id of dirtyIf) {
    const i = store.interfaces.get(id);
    if (i && store.namespaces.has(i.namespace) && isExpanded(i.namespace, view)) next.set(id, descIf(store, i));
    else gone.add(id);
    if (i) {
      for (const e of edgesOf(store, i)) {
        const d = descEdge(store, view, e);
        if (d) next.set(e.id, d);
      }
    }
  }
  // Old edges of dirty interfaces that are not drawn any more.
  for (const [id, d] of current) {
    if (d.group === "edges" && (dirtyIf.has(d.data.a) || dirtyIf.has(d.data.b)) && !next.has(id)) gone.add(id);
  }
  const prev = new Map();
  for (const id of gone) {
    if (current.has(id) && !next.has(id)) prev.set(id, current.get(id));
  }
  for (const id of next.keys()) if (current.has(id)) prev.set(id, current.get(id));
  const d = diffElements(prev, next);
  for (const id of d.remove) current.delete(id);
  for (const [id, v] of next) current.set(id, v);
  return d;
}

/**
 * What to do to go from `prev` to `next` descriptors: {add, remove, update}. Elements whose
 * parent or endpoints change are removed and added again (cytoscape cannot re-parent cheaply).
 */
export function diffElements(prev, next) {
  const add = [];
  const remove = [];
  const update = [];
  for (const [id, p] of prev) {
    const n = next.get(id);
    if (!n) remove.push(id);
    else if (n.sig !== p.sig) {
      const moved =
        (n.data.parent || "") !== (p.data.parent || "") ||
        n.data.source !== p.data.source ||
        n.data.target !== p.data.target;
      if (moved) {
        remove.push(id);
        add.push(n);
      } else update.push(n);
    }
  }
  for (const [id, n] of next) if (!prev.has(id)) add.push(n);
  // Parents before children, nodes before edges: cytoscape needs them to exist.
  const rank = (e) => (e.group === "edges" ? 3 : e.data.kind === "host" ? 0 : e.data.kind === "ns" ? 1 : 2);
  add.sort((a, b) => rank(a) - rank(b));
  return { add, remove, update };
}

// ---------------------------------------------------------------- placement

export const GEOM = { ifW: 120, ifH: 56, nsPad: 24, nsGap: 40, collW: 190, collH: 64, hostGap: 120 };

/**
 * A deterministic shelf placement for every leaf element (interfaces of expanded namespaces,
 * collapsed namespaces). No force layout: it is O(n) and the same every time, so a thousand
 * namespaces place in milliseconds and a reload does not reshuffle.
 * Returns {pos: Map id -> {x, y}, slots: Map parentId -> {ox, oy, cols, next}} for new arrivals.
 */
export function shelfLayout(store, view, aspect = 1.6) {
  const pos = new Map();
  const slots = new Map();
  const byNs = store.byNamespace();
  let hostY = 0;
  const hosts = [...store.hosts.values()].sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id));
  const orphanHost = { id: "" };
  const nsByHost = new Map();
  for (const ns of store.namespaces.values()) {
    const h = store.hosts.has(ns.host) ? ns.host : "";
    if (!nsByHost.has(h)) nsByHost.set(h, []);
    nsByHost.get(h).push(ns);
  }
  for (const h of [...hosts, orphanHost]) {
    const list = nsByHost.get(h.id) || [];
    if (!list.length) continue;
    list.sort(
      (a, b) =>
        (a.kind === "root" ? 0 : 1) - (b.kind === "root" ? 0 : 1) || nsLabel(a).localeCompare(nsLabel(b)),
    );
    // Row width from the area the boxes need, so the picture is about `aspect` wide by 1 high.
    let area = 0;
    for (const ns of list) {
      if (isExpanded(ns.id, view)) {
        const n = (byNs.get(ns.id) || []).length;
        const cols = Math.max(2, Math.ceil(Math.sqrt(n)));
        area += (cols * GEOM.ifW + 2 * GEOM.nsPad + GEOM.nsGap) * (Math.ceil(n / cols) * GEOM.ifH + 2 * GEOM.nsPad + 20 + GEOM.nsGap);
      } else area += (GEOM.collW + GEOM.nsGap) * (GEOM.collH + GEOM.nsGap / 2);
    }
    const rowWidth = Math.max(900, Math.sqrt(area * aspect));
    let x = 0;
    let y = hostY;
    let rowH = 0;
    for (const ns of list) {
      let w;
      let hgt;
      if (isExpanded(ns.id, view)) {
        const ifs = (byNs.get(ns.id) || []).slice().sort(ifOrder);
        const cols = Math.max(2, Math.ceil(Math.sqrt(ifs.length)));
        const rows = Math.max(1, Math.ceil(ifs.length / cols));
        w = cols * GEOM.ifW + 2 * GEOM.nsPad;
        hgt = rows * GEOM.ifH + 2 * GEOM.nsPad + 20;
        if (x > 0 && x + w > rowWidth) {
          x = 0;
          y += rowH + GEOM.nsGap;
          rowH = 0;
        }
        const ox = x + GEOM.nsPad + GEOM.ifW / 2;
        const oy = y + GEOM.nsPad + 20 + GEOM.ifH / 2;
        ifs.forEach((i, k) => pos.set(i.id, { x: ox + (k % cols) * GEOM.ifW, y: oy + Math.floor(k / cols) * GEOM.ifH }));
        slots.set(ns.id, { ox, oy, cols, next: ifs.length });
      } else {
        w = GEOM.collW;
        hgt = GEOM.collH;
        if (x > 0 && x + w > rowWidth) {
          x = 0;
          y += rowH + GEOM.nsGap / 2;
          rowH = 0;
        }
        pos.set(ns.id, { x: x + w / 2, y: y + hgt / 2 });
      }
      x += w + GEOM.nsGap;
      rowH = Math.max(rowH, hgt);
    }
    slots.set(h.id, { x, y, rowH, rowWidth });
    hostY = y + rowH + GEOM.hostGap;
  }
  return { pos, slots };
}

/** Interfaces in a namespace: lo, then bridges, then by name (stable for the grid). */
export function ifOrder(a, b) {
  const r = (i) => (i.name === "lo" ? 0 : ifKind(i) === "bridge" ? 1 : 2);
  return r(a) - r(b) || String(a.name).localeCompare(String(b.name), undefined, { numeric: true });
}

// ---------------------------------------------------------------- search

const FIELDS = new Set(["name", "ns", "addr", "mac", "ctr", "pod", "pid", "kind", "state", "host"]);

/** Parse `kind:veth state:down eth0` into [{field|null, value}], lower-cased. */
export function parseQuery(q) {
  const terms = [];
  for (const raw of String(q || "").trim().split(/\s+/)) {
    if (!raw) continue;
    const m = raw.match(/^([a-z]+):(.*)$/i);
    if (m && FIELDS.has(m[1].toLowerCase())) terms.push({ field: m[1].toLowerCase(), value: m[2].toLowerCase() });
    else terms.push({ field: null, value: raw.toLowerCase() });
  }
  return terms.filter((t) => t.value !== "");
}

const NS_FACTS = new WeakMap();
const IF_FACTS = new WeakMap();

function nsFacts(ns, store) {
  let f = NS_FACTS.get(ns);
  if (!f) {
    const host = store.hosts.get(ns.host);
    f = {
      ns: [nsLabel(ns), ...(ns.names || []), ns.key || "", ns.kind || "", ns.holder || "", ns.owner ? ns.owner.runtime : ""]
        .map((s) => String(s).toLowerCase()),
      ctr: ctrFacts(ns),
      pod: podFacts(ns.owner),
      pid: (ns.pids || []).map((p) => String(p.pid)),
      comm: (ns.pids || []).map((p) => String(p.comm || "").toLowerCase()),
      host: [String(ns.host).toLowerCase(), String(host ? host.name || "" : "").toLowerCase()],
      name: [],
      addr: [],
      mac: [],
      kind: ["namespace", String(ns.kind || "")],
      state: [],
    };
    NS_FACTS.set(ns, f);
  }
  return f;
}

/** What `ctr:` matches (by prefix): the container id, the owner's name, id and containers. */
function ctrFacts(ns) {
  const o = ns.owner || {};
  return [ns.container_id, o.name, o.id, ...(o.containers || [])].filter(Boolean).map((s) => String(s).toLowerCase());
}

/** What `pod:` matches (anywhere in it): the pod's name, "namespace/name" and uid. */
function podFacts(owner) {
  if (!owner || !owner.pod) return [];
  return [owner.pod, ownerLabel(owner), owner.pod_uid].filter(Boolean).map((s) => String(s).toLowerCase());
}

/** Facts of one interface, cached per object (objects are replaced, never mutated, on upsert). */
function ifFacts(i, store) {
  const ns = store.namespaces.get(i.namespace);
  const cached = IF_FACTS.get(i);
  if (cached && cached.nsObj === ns) return cached;
  const nf = ns ? nsFacts(ns, store) : { ns: [], ctr: [], pod: [], pid: [], comm: [], host: [] };
  const f = {
    nsObj: ns,
    ns: nf.ns,
    ctr: nf.ctr,
    pod: nf.pod,
    pid: nf.pid,
    comm: nf.comm,
    host: nf.host.length ? nf.host : [String(i.host).toLowerCase()],
    name: [String(i.name || "").toLowerCase(), String(ifLabel(i, store)).toLowerCase(), ...(i.altnames || []).map((a) => String(a).toLowerCase())],
    addr: (i.addresses || []).map((a) => String(a).toLowerCase()),
    mac: i.mac ? [String(i.mac).toLowerCase()] : [],
    kind: [ifKind(i)],
    state: [ifState(i).toLowerCase()],
  };
  IF_FACTS.set(i, f);
  return f;
}

function has(arr, v, exact) {
  for (const s of arr) if (exact ? s === v : s.includes(v)) return true;
  return false;
}

function termMatches(t, f) {
  const v = t.value;
  switch (t.field) {
    case "name": // a prefix: name:eth0 is eth0 (and eth0@if117), not veth0
      return f.name.some((s) => s.startsWith(v));
    case "ns":
      return has(f.ns, v) || has(f.comm, v);
    case "addr":
      return f.addr.some((a) => a.startsWith(v) || a.split("/")[0] === v);
    case "mac":
      return has(f.mac, v);
    case "ctr":
      return f.ctr.some((c) => c.startsWith(v));
    case "pod":
      return has(f.pod, v);
    case "pid":
      return has(f.pid, v, true);
    case "kind":
      return has(f.kind, v, true);
    case "state":
      return f.state.some((s) => s === v || s.replace("-", "") === v.replace("-", ""));
    case "host":
      return has(f.host, v);
    default:
      return (
        has(f.name, v) ||
        has(f.ns, v) ||
        has(f.comm, v) ||
        f.addr.some((a) => a.startsWith(v)) ||
        has(f.mac, v) ||
        f.ctr.some((c) => c.startsWith(v)) ||
        has(f.pod, v) ||
        has(f.pid, v, true) ||
        has(f.kind, v, true) ||
        has(f.state, v, true) ||
        has(f.host, v)
      );
  }
}

/** Interfaces and namespaces matching every term. Returns {interfaces: [ids], namespaces: [ids]}. */
export function search(store, q) {
  const terms = parseQuery(q);
  const res = { interfaces: [], namespaces: [] };
  if (!terms.length) return res;
  for (const ns of store.namespaces.values()) {
    const f = nsFacts(ns, store);
    if (terms.every((t) => termMatches(t, f))) res.namespaces.push(ns.id);
  }
  for (const i of store.interfaces.values()) {
    const f = ifFacts(i, store);
    if (terms.every((t) => termMatches(t, f))) res.interfaces.push(i.id);
  }
  return res;
}

// ---------------------------------------------------------------- rows for the table view

/** One flat row per interface: what the table shows and sorts. */
export function tableRows(store) {
  const rows = [];
  for (const i of store.interfaces.values()) {
    const ns = store.namespaces.get(i.namespace);
    const host = store.hosts.get(i.host);
    const peer = i.peer ? store.interfaces.get(i.peer) : null;
    const peerNs = peer ? store.namespaces.get(peer.namespace) : null;
    const master = i.master ? store.interfaces.get(i.master) : null;
    const owned = ownerLabel(ns && ns.owner);
    rows.push({
      id: i.id,
      host: host ? host.name || host.id : i.host,
      namespace: nsLabel(ns),
      owner: ns && ns.owner ? `${ns.owner.runtime}${owned ? ` ${owned}` : ""}` : "",
      nsId: i.namespace,
      name: ifLabel(i, store),
      kind: ifKind(i),
      state: ifState(i),
      ifindex: i.ifindex,
      peer: peer ? `${peer.name} in ${nsLabel(peerNs)}` : i.peer_status === "unresolved" ? `if${i.peer_ifindex} (unresolved)` : "",
      peerId: peer ? peer.id : null,
      master: master ? master.name : "",
      mac: i.mac || "",
      mtu: i.mtu,
      addresses: (i.addresses || []).join(" "),
    });
  }
  return rows;
}

export function sortRows(rows, key, dir) {
  const m = dir === "desc" ? -1 : 1;
  return rows.sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (typeof x === "number" && typeof y === "number") return (x - y) * m;
    return String(x ?? "").localeCompare(String(y ?? ""), undefined, { numeric: true }) * m;
  });
}

// ---------------------------------------------------------------- Graphviz dot

function dq(s) {
  return `"${String(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** The whole graph as Graphviz dot: hosts and namespaces as clusters, interfaces as nodes. */
export function toDot(store) {
  const lines = ["graph nsmap {", "  compound=true; rankdir=LR; node [fontname=\"sans-serif\" fontsize=10];"];
  const byNs = store.byNamespace();
  const shape = { veth: "ellipse", bridge: "box3d", loopback: "diamond", device: "box", macvlan: "triangle", vxlan: "hexagon", tun: "cds" };
  const color = { UP: "darkgreen", DOWN: "gray40", "NO-CARRIER": "orange3" };
  let c = 0;
  const hostIds = [...store.hosts.keys()];
  const nsByHost = new Map(hostIds.map((h) => [h, []]));
  for (const ns of store.namespaces.values()) {
    if (!nsByHost.has(ns.host)) nsByHost.set(ns.host, []);
    nsByHost.get(ns.host).push(ns);
  }
  for (const [hid, nss] of nsByHost) {
    const h = store.hosts.get(hid);
    lines.push(`  subgraph cluster_${c++} {`, `    label=${dq(h ? h.name || h.id : hid)}; style=rounded;`);
    for (const ns of nss) {
      lines.push(`    subgraph cluster_${c++} {`, `      label=${dq(nsLabel(ns))};${ns.kind === "root" ? " style=bold;" : ""}`);
      const ifs = byNs.get(ns.id) || [];
      if (!ifs.length) lines.push(`      ${dq(`${ns.id}#empty`)} [label="" shape=point style=invis];`);
      for (const i of ifs) {
        const st = ifState(i);
        lines.push(
          `      ${dq(i.id)} [label=${dq(ifLabel(i, store))} shape=${shape[ifKind(i)] || "octagon"} color=${color[st] || "black"}];`,
        );
      }
      lines.push("    }");
    }
    lines.push("  }");
  }
  for (const e of deriveEdges(store)) {
    lines.push(`  ${dq(e.a)} -- ${dq(e.b)}${e.kind === "port" ? " [style=dashed]" : ""};`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------- synthetic graphs (bench, tests)

/**
 * A synthetic topology like bench/discovery.py's: N namespaces, each with lo, eth0 (veth to a
 * host-side vethN on a bridge in root) and eth1 (veth to its neighbour). 4 interfaces per
 * namespace on average (3 inside + 1 host side), so N=1000 gives about 4,000 interfaces.
 */
export function syntheticGraph(n, host = "bench") {
  const t = "2026-11-29T05:00:00Z";
  const rootIno = 4026531840;
  const rootId = `${host}/ns:${rootIno}`;
  const hosts = [{ id: host, name: host, state: "online", last_seen: t, run: null }];
  const namespaces = [
    { id: rootId, host, key: `ns:${rootIno}`, kind: "root", label: "root", names: [], pids: [{ pid: 1, comm: "systemd" }], container_id: null, inode: rootIno, first_seen: t, changed: t },
  ];
  const interfaces = [];
  const mk = (ino, ifindex, name, kind, extra) => {
    const i = {
      id: `${host}/if:${ino}:${ifindex}`, host, namespace: `${host}/ns:${ino}`, key: `if:${ino}:${ifindex}`,
      ifindex, name, label: null, kind, mac: `02:00:${((ino >> 16) & 255).toString(16).padStart(2, "0")}:${((ino >> 8) & 255).toString(16).padStart(2, "0")}:${(ino & 255).toString(16).padStart(2, "0")}:${ifindex.toString(16).padStart(2, "0")}`,
      mtu: 1500, operstate: "UP", up: true, master: null, addresses: [], altnames: [], alias: null,
      peer_ifindex: null, peer: null, peer_status: null, peer_note: null, first_seen: t, changed: t,
      ...extra,
    };
    interfaces.push(i);
    return i;
  };
  mk(rootIno, 1, "lo", null, { operstate: "UNKNOWN", addresses: ["127.0.0.1/8"] });
  const br = mk(rootIno, 2, "br0", "bridge", { addresses: ["10.200.0.1/16"] });
  const nsIno = (k) => rootIno + 100 + k;
  for (let k = 0; k < n; k++) {
    const ino = nsIno(k);
    namespaces.push({
      id: `${host}/ns:${ino}`, host, key: `ns:${ino}`, kind: k % 3 === 0 ? "named" : "process", label: null,
      names: k % 3 === 0 ? [`lab${k}`] : [], pids: k % 3 === 0 ? [] : [{ pid: 10000 + k, comm: k % 2 ? "nginx" : "redis" }],
      container_id: k % 3 === 2 ? (`c0ffee${k}`.padEnd(64, "a")) : null, inode: ino, first_seen: t, changed: t,
    });
  }
  for (let k = 0; k < n; k++) {
    const ino = nsIno(k);
    mk(ino, 1, "lo", null, { operstate: "UNKNOWN", addresses: ["127.0.0.1/8"] });
    const hostSide = 1000 + k;
    mk(ino, 2, "eth0", "veth", {
      peer_ifindex: hostSide, peer: `${host}/if:${rootIno}:${hostSide}`, peer_status: "resolved",
      addresses: [`10.200.${(k >> 8) & 255}.${(k & 255) + 2}/16`],
    });
    mk(rootIno, hostSide, `veth${k}`, "veth", {
      master: br.id, peer_ifindex: 2, peer: `${host}/if:${ino}:2`, peer_status: "resolved",
    });
    // Neighbour pairs: 2j.eth1 <-> 2j+1.eth1 (the last one alone when n is odd).
    const nb = k % 2 === 0 ? k + 1 : k - 1;
    if (nb < n) {
      mk(ino, 3, "eth1", "veth", {
        peer_ifindex: 3, peer: `${host}/if:${nsIno(nb)}:3`, peer_status: "resolved",
        up: k % 11 !== 0, operstate: k % 11 === 0 ? "DOWN" : k % 7 === 0 ? "LOWERLAYERDOWN" : "UP",
        addresses: [`192.168.${(k >> 8) & 255}.${k & 255}/31`],
      });
    }
  }
  return { seq: 1, hosts, namespaces, interfaces };
}
