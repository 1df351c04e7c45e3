// nsmap dashboard view: mounts the toolbar, the Cytoscape graph, the table and the details panel,
// talks to /ws/topology/, and applies the pure model's diffs to Cytoscape. All topology logic
// lives in model.js; this file only moves pixels and DOM.
import * as M from "./model.js";
import { toSvg } from "./svg-export.js";

const cytoscape = window.cytoscape;
// The UMD builds register themselves when they find window.cytoscape; register only what is missing.
for (const [ext, type, name] of [
  ["cytoscapeFcose", "layout", "fcose"],
  ["cytoscapeEdgehandles", "core", "edgehandles"],
  ["cytoscapeCxtmenu", "core", "cxtmenu"],
]) {
  if (window[ext] && !cytoscape(type, name)) cytoscape.use(window[ext]);
}
const HAS_FCOSE = !!cytoscape("layout", "fcose");

const BIG = 1500; // elements above which cheaper rendering settings are used
const READABLE_ZOOM = 0.6; // interface labels (10 px) stay at least 6 px high
const NS_IF_LIMIT = 60; // interfaces above which a namespace starts collapsed
const PAGE = 500; // table rows per page

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function sameSet(a, b) {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function styleFor(big) {
  const curve = big ? "haystack" : "straight";
  return [
    {
      selector: "node",
      style: {
        label: "data(label)",
        "font-size": 11,
        "font-family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
        color: "#1f2933",
        "min-zoomed-font-size": 6,
      },
    },
    {
      selector: "node.host",
      style: {
        shape: "round-rectangle",
        "background-color": "#eef2f7",
        "border-color": "#52606d",
        "border-width": 2,
        "text-valign": "top",
        "text-halign": "center",
        "font-size": 16,
        "font-weight": "bold",
        padding: 20,
      },
    },
    {
      selector: "node.host.frame",
      style: {
        width: "data(w)",
        height: "data(h)",
        "z-index": 0,
        "z-compound-depth": "bottom",
        "text-valign": "top",
        "text-margin-y": -6,
        "background-opacity": 0.7,
      },
    },
    { selector: "node.host.stale", style: { "background-color": "#e4e7eb", "border-style": "dashed", color: "#616e7c" } },
    {
      selector: "node.ns",
      style: {
        shape: "round-rectangle",
        "background-color": "#ffffff",
        "border-color": "#9aa5b1",
        "border-width": 1.5,
        "text-valign": "top",
        "text-halign": "center",
        "font-size": 12,
        padding: 12,
        "z-index": 10,
      },
    },
    { selector: "node.ns.root", style: { "border-width": 3, "border-color": "#1f2933", "background-color": "#f5f7fa" } },
    {
      selector: "node.ns.collapsed",
      style: {
        width: M.GEOM.collW - 16,
        height: M.GEOM.collH - 16,
        "text-valign": "center",
        "text-wrap": "ellipsis",
        "text-max-width": M.GEOM.collW - 24,
        "font-size": 11,
        "background-color": "#f0f4f8",
      },
    },
    { selector: "node.ns.collapsed[label]", style: { "text-wrap": "wrap" } },
    {
      selector: "node.if",
      style: {
        width: 24,
        height: 24,
        "text-valign": "bottom",
        "text-halign": "center",
        "text-margin-y": 3,
        "font-size": 10,
        "text-wrap": "ellipsis",
        "text-max-width": M.GEOM.ifW - 8,
        "background-color": "#845ef7",
        "border-width": 1,
        "border-color": "#495057",
        "z-index": 20,
      },
    },
    { selector: "node.k-veth", style: { shape: "ellipse" } },
    { selector: "node.k-bridge", style: { shape: "round-rectangle", width: 44, height: 22 } },
    { selector: "node.k-loopback", style: { shape: "diamond", width: 18, height: 18 } },
    { selector: "node.k-device", style: { shape: "rectangle" } },
    { selector: "node.k-macvlan", style: { shape: "triangle" } },
    { selector: "node.k-vxlan", style: { shape: "hexagon" } },
    { selector: "node.k-tun", style: { shape: "vee" } },
    { selector: "node.k-other", style: { shape: "octagon" } },
    { selector: "node.s-up", style: { "background-color": "#2f9e44" } },
    { selector: "node.s-down", style: { "background-color": "#adb5bd" } },
    { selector: "node.s-nocarrier", style: { "background-color": "#f08c00" } },
    { selector: "node.unresolved", style: { "border-style": "dashed", "border-color": "#c92a2a", "border-width": 2 } },
    { selector: "node.hs", style: { opacity: 0.45 } },
    {
      selector: "edge",
      style: { width: 2, "line-color": "#1971c2", "curve-style": curve, "haystack-radius": 0, opacity: 0.85 },
    },
    { selector: "edge.port", style: { "line-style": "dashed", "line-color": "#868e96", width: 1.5 } },
    { selector: "edge.agg", style: { width: 1, opacity: 0.45 } },
    // At scale, edges between collapsed boxes are a hairball and most of the drawing cost:
    // they show for the selection, search matches and focus, or all with "all edges".
    ...(big ? [{ selector: "edge.agg", style: { display: "none" } }, { selector: "edge.agg.on", style: { display: "element" } }] : []),
    { selector: "node:selected", style: { "border-width": 3, "border-color": "#e8590c" } },
    { selector: "edge:selected, edge.sel", style: { width: 4, "line-color": "#e8590c", opacity: 1 } },
    { selector: ".match", style: { "overlay-color": "#fab005", "overlay-opacity": 0.45, "overlay-padding": 6 } },
    { selector: ".flash", style: { "overlay-color": "#40c057", "overlay-opacity": 0.35, "overlay-padding": 6 } },
    // A style transition would repaint everything every frame for its duration: at scale a removed
    // element just dims, then goes.
    {
      selector: ".gone",
      style: big ? { opacity: 0.2 } : { opacity: 0.05, "transition-property": "opacity", "transition-duration": "0.4s" },
    },
    { selector: ".hidden", style: { display: "none" } },
  ];
}

const TEMPLATE = `
<div class="nsm-toolbar" role="toolbar" aria-label="Graph controls">
  <div class="nsm-seg" role="group" aria-label="View">
    <button type="button" data-act="view-graph" aria-pressed="true">Graph</button>
    <button type="button" data-act="view-table" aria-pressed="false">Table</button>
  </div>
  <form class="nsm-search" role="search">
    <label for="nsm-q" class="sr-only">Search</label>
    <input id="nsm-q" type="search" autocomplete="off" spellcheck="false"
      placeholder="Search (/): eth0, ns:, addr:, kind:…"
      title="Free text (name, namespace, 10.0.0.1, MAC, pid, container id), or field:value with name ns addr mac ctr pid kind state host, e.g. kind:veth state:down. Press / to get here, Escape to clear.">
    <label class="nsm-check"><input type="checkbox" id="nsm-only"> only matches</label>
    <button type="submit">Find</button>
    <button type="button" data-act="clear">Clear</button>
  </form>
  <div class="nsm-group" role="group" aria-label="Layout">
    <button type="button" data-act="fit" title="Fit the graph in the window">Fit</button>
    <button type="button" data-act="zoom-in" aria-label="Zoom in">+</button>
    <button type="button" data-act="zoom-out" aria-label="Zoom out">−</button>
    <button type="button" data-act="expand-all">Expand all</button>
    <button type="button" data-act="collapse-all">Collapse all</button>
    <button type="button" data-act="arrange" title="Force-directed layout (fcose) of what is shown">Arrange</button>
    <button type="button" data-act="reset-layout" title="Forget my arrangement">Reset layout</button>
    <button type="button" data-act="show-all" hidden>Show all</button>
    <label class="nsm-check" hidden><input type="checkbox" id="nsm-alledges"> all edges</label>
  </div>
  <details class="nsm-export">
    <summary>Export</summary>
    <div class="nsm-menu">
      <button type="button" data-act="export-png">PNG (view)</button>
      <button type="button" data-act="export-svg">SVG (view)</button>
      <button type="button" data-act="export-json">Graph JSON</button>
      <button type="button" data-act="export-dot">Graphviz dot</button>
    </div>
  </details>
  <span class="nsm-conn" role="status" aria-live="polite" data-state="connecting">connecting…</span>
</div>
<div class="nsm-main">
  <div class="nsm-views">
    <div class="nsm-graph" aria-label="Topology graph: click an interface for details, double-click a namespace to expand or collapse it"></div>
    <div class="nsm-table" hidden>
      <div class="nsm-table-info" aria-live="polite"></div>
      <div class="nsm-table-scroll">
        <table>
          <caption class="sr-only">Interfaces</caption>
          <thead><tr></tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <div class="nsm-pager"></div>
    </div>
    <div class="nsm-notice" hidden></div>
  </div>
  <aside class="nsm-details" aria-label="Details" tabindex="-1">
    <div class="nsm-results"></div>
    <div class="nsm-detail-body"><p class="nsm-hint">Click an interface or a namespace to see its details.
      Double-click a namespace box to expand or collapse it.</p></div>
  </aside>
</div>
<div class="nsm-legend" aria-label="Legend">
  <span><i class="lg s-up"></i>UP</span><span><i class="lg s-down"></i>DOWN</span>
  <span><i class="lg s-nocarrier"></i>no carrier</span>
  <span>● veth</span><span>▭ bridge</span><span>◆ lo</span><span>■ device</span><span>▲ macvlan</span>
  <span>⬢ vxlan</span><span>∨ tun/tap</span><span><i class="ln veth"></i>veth pair</span>
  <span><i class="ln port"></i>bridge port</span><span><i class="lg unres"></i>peer unresolved</span>
  <span>★ root namespace</span>
  <span class="nsm-counts" aria-live="polite"></span>
</div>`;

const COLUMNS = [
  ["host", "Host"],
  ["namespace", "Namespace"],
  ["name", "Interface"],
  ["kind", "Kind"],
  ["state", "State"],
  ["ifindex", "ifindex"],
  ["peer", "Peer"],
  ["master", "Master"],
  ["mac", "MAC"],
  ["mtu", "MTU"],
  ["addresses", "Addresses"],
];

/**
 * Mount the dashboard into `root`. config: {username, wsUrl, apiBase, source ("ws"|"none"),
 * initialView ("auto"|"graph"|"table"), collapseThreshold, tableThreshold}.
 */
export function mount(root, config = {}) {
  const cfg = {
    username: "anonymous",
    apiBase: "/api/v1/",
    source: "ws",
    initialView: "auto",
    collapseThreshold: 40,
    tableThreshold: 400,
    ...config,
  };
  root.classList.add("nsm");
  root.innerHTML = TEMPLATE;
  const $ = (sel) => root.querySelector(sel);
  const graphEl = $(".nsm-graph");
  const tableEl = $(".nsm-table");
  const connEl = $(".nsm-conn");
  const detailEl = $(".nsm-detail-body");
  const resultsEl = $(".nsm-results");
  const qEl = $("#nsm-q");
  const onlyEl = $("#nsm-only");
  const noticeEl = $(".nsm-notice");
  const allEdgesEl = $("#nsm-alledges");

  const layoutKey = `nsmap.layout.v1.${cfg.username}`;
  const viewKey = `nsmap.view.v1.${cfg.username}`;
  const store = new M.Store();
  const view = { collapseAll: false, expanded: new Set(), collapsed: new Set(), autoCollapsed: new Set() };
  let current = new Map(); // descriptors now in cytoscape
  let cy = null;
  let slots = new Map(); // parent id -> placement cursor for new arrivals
  let saved = loadSaved();
  let mode = null; // "graph" | "table"
  let selected = null;
  // inNs: namespaces holding a matched interface (what "only matches" keeps visible).
  let matches = { interfaces: new Set(), namespaces: new Set(), inNs: new Set(), query: "" };
  let focusNs = null; // "only this namespace and neighbours"
  let focusSet = null;
  const fading = new Set();
  // lastPatchMs: store + (when due) graph update of the last patch; syncMs: each graph update.
  // graphs: full graph messages (first, resync, server's own catch-up); graphMs: time to apply each.
  const metrics = {
    firstRenderMs: null,
    graphArrivedMs: null,
    lastPatchMs: null,
    lastSyncMs: null,
    syncMs: [],
    graphMs: [],
    patches: 0,
    graphs: 0,
    resyncs: 0,
  };
  let renderedResolve;
  const rendered = new Promise((r) => (renderedResolve = r));
  let tSourceStart = performance.now();
  let ws = null;
  let attempts = 0;
  let staleSince = null;
  let awaitingGraph = true;
  let reconnectTimer = null;
  let tableTimer = null;
  let tableState = { key: "namespace", dir: "asc", page: 0 };
  let rowsCache = null;

  // ------------------------------------------------------------ persistence
  function loadSaved() {
    try {
      const raw = localStorage.getItem(layoutKey);
      if (raw) return JSON.parse(raw);
    } catch {
      /* unreadable or blocked storage: start fresh */
    }
    return null;
  }

  let saveTimer = null;
  function saveLayout() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      if (!cy) return;
      const pos = {};
      cy.nodes().forEach((n) => {
        if (n.isChildless() && !n.hasClass("host")) {
          const p = n.position();
          pos[n.id()] = [Math.round(p.x), Math.round(p.y)];
        }
      });
      saved = { pos, expanded: [...view.expanded], collapsed: [...view.collapsed] };
      try {
        localStorage.setItem(layoutKey, JSON.stringify(saved));
      } catch {
        /* quota: the layout is a convenience, not data */
      }
    }, 400);
  }

  // ------------------------------------------------------------ cytoscape
  let bigMode = false;
  let edgeNodes = new Set(); // at scale: nodes whose collapsed-level edges are shown
  let edgeIfs = new Set(); // ... and interfaces inside collapsed boxes whose own edges are shown

  function transient(id, d) {
    let c = "";
    if (d && d.group === "edges") {
      if (bigMode && (allEdgesEl.checked || edgeNodes.has(d.data.source) || edgeNodes.has(d.data.target) || edgeIfs.has(d.data.a) || edgeIfs.has(d.data.b))) {
        c += " on";
      }
      return c;
    }
    if (matches.interfaces.has(id) || matches.namespaces.has(id)) c += " match";
    if (!visible(id)) c += " hidden";
    return c;
  }

  function visible(id) {
    if (focusSet) {
      const o = store.get(id);
      if (!o) return true;
      if (store.hosts.has(id)) {
        for (const ns of focusSet) if (store.namespaces.get(ns)?.host === id) return true;
        return false;
      }
      const nsId = store.namespaces.has(id) ? id : o.namespace;
      if (!focusSet.has(nsId)) return false;
    }
    if (onlyEl.checked && matches.query) {
      if (store.hosts.has(id)) return true;
      if (store.namespaces.has(id)) return matches.namespaces.has(id) || matches.inNs.has(id);
      if (store.interfaces.has(id)) {
        const i = store.interfaces.get(id);
        return matches.interfaces.has(id) || matches.namespaces.has(i.namespace);
      }
    }
    return true;
  }

  function toEl(d, position) {
    const el = { group: d.group, data: d.data, classes: d.classes + transient(d.data.id, d) };
    if (position) el.position = { x: position.x, y: position.y };
    return el;
  }

  function savedPos(id) {
    const p = saved && saved.pos && saved.pos[id];
    return p ? { x: p[0], y: p[1] } : null;
  }

  function createGraph() {
    if (saved) {
      view.expanded = new Set(saved.expanded || []);
      view.collapsed = new Set(saved.collapsed || []);
    }
    view.collapseAll = store.namespaces.size > cfg.collapseThreshold;
    view.flatHosts = store.namespaces.size > cfg.collapseThreshold;
    view.autoCollapsed = M.crowdedNamespaces(store, NS_IF_LIMIT);
    const els = placeAll();
    const big = bigMode;
    cy = cytoscape({
      container: graphEl,
      elements: els,
      layout: { name: "preset", fit: false },
      style: styleFor(big),
      minZoom: 0.02,
      maxZoom: 4,
      boxSelectionEnabled: false,
      textureOnViewport: big,
      hideEdgesOnViewport: big,
      hideLabelsOnViewport: big,
      motionBlur: false,
      pixelRatio: big ? 1 : "auto",
    });
    fitAll();
    wireGraph();
    cy.one("render", () => {
      requestAnimationFrame(() => {
        if (metrics.firstRenderMs == null) metrics.firstRenderMs = performance.now() - tSourceStart;
        renderedResolve(metrics.firstRenderMs);
      });
    });
    cy.forceRender?.();
    const leaves = cy.nodes().filter((n) => n.isChildless()).length;
    if (!saved && !view.collapseAll && leaves <= 120 && HAS_FCOSE) arrange(false);
    updateCounts();
  }

  /**
   * Every element of the view placed afresh (a saved position first, else the shelf layout):
   * sets current, slots and the scale mode; returns the cytoscape elements to add.
   */
  function placeAll() {
    current = M.buildElements(store, view);
    const layout = M.shelfLayout(store, view);
    slots = layout.slots;
    bigMode = current.size > BIG;
    allEdgesEl.parentElement.hidden = !bigMode;
    return [...current.values()].map((d) =>
      toEl(d, d.group === "nodes" ? savedPos(d.data.id) || layout.pos.get(d.data.id) : null),
    );
  }

  /** After placeAll: frames fixed and sized, everything in view. */
  function fitAll() {
    cy.nodes(".frame").ungrabify();
    fitFrames();
    cy.fit(undefined, 30);
  }

  /** Size each flat host frame to the namespaces drawn on it (flat mode only; cheap). */
  function fitFrames(onlyHosts) {
    if (!cy || !view.flatHosts) return;
    const byHost = new Map();
    cy.nodes(".ns").forEach((n) => {
      if (n.hasClass("gone") || n.isChild()) return;
      const h = n.data("host");
      if (onlyHosts && !onlyHosts.has(h)) return;
      if (!byHost.has(h)) byHost.set(h, cy.collection());
      byHost.get(h).merge(n);
    });
    for (const [h, eles] of byHost) {
      const frame = cy.getElementById(h);
      if (frame.empty() || !frame.hasClass("frame")) continue;
      const bb = eles.boundingBox({ includeLabels: true });
      const pad = 30;
      frame.position({ x: (bb.x1 + bb.x2) / 2, y: (bb.y1 + bb.y2) / 2 });
      frame.data({ w: bb.w + 2 * pad, h: bb.h + 2 * pad });
    }
  }

  function wireGraph() {
    cy.on("tap", "node", (ev) => showDetails(ev.target.id(), false));
    cy.on("tap", "edge", (ev) => showEdge(ev.target));
    cy.on("tap", (ev) => {
      if (ev.target === cy) clearSelection();
    });
    cy.on("dbltap", "node.ns", (ev) => toggleExpand(ev.target.id()));
    cy.on("dragfree", "node", (ev) => {
      if (view.flatHosts && ev.target.hasClass("ns")) fitFrames(new Set([ev.target.data("host")]));
      saveLayout();
    });
  }

  /** Where a node that was not there before goes: its saved place, else next to its parent. */
  function placeNew(d, pending) {
    const id = d.data.id;
    const sp = savedPos(id);
    if (sp) return sp;
    const parentId = d.data.parent;
    if (d.data.kind === "if") {
      let slot = slots.get(parentId);
      if (!slot) {
        let anchor = pending.get(parentId);
        const pn = cy.getElementById(parentId);
        const kids = pn.nonempty() ? pn.children().length : 0;
        if (!anchor && pn.nonempty()) {
          if (kids) {
            const bb = pn.children().boundingBox();
            anchor = { x: bb.x1 + 12, y: bb.y2 + M.GEOM.ifH };
          } else {
            // A box being expanded keeps its top-left corner: it grows right and down, where
            // makeRoom() pushes the neighbours, never over the ones above or to the left.
            const bb = pn.boundingBox({ includeLabels: false });
            anchor = { x: bb.x1 + M.GEOM.ifW / 2 + 8, y: bb.y1 + 40 }; // 16 px for its label on top
          }
        }
        anchor = anchor || { x: 0, y: 0 };
        const n = expandedCount(parentId);
        const cols = Math.max(2, Math.ceil(Math.sqrt(n)));
        slot = { ox: anchor.x, oy: anchor.y, cols, next: 0 };
        slots.set(parentId, slot);
      }
      const k = slot.next++;
      return { x: slot.ox + (k % slot.cols) * M.GEOM.ifW, y: slot.oy + Math.floor(k / slot.cols) * M.GEOM.ifH };
    }
    if (d.data.kind === "ns") {
      const hostKey = d.data.host || parentId || "";
      const hs = slots.get(hostKey);
      const w = M.GEOM.collW;
      if (hs) {
        if (hs.x > 0 && hs.x + w > hs.rowWidth) {
          hs.x = 0;
          hs.y += hs.rowH + M.GEOM.nsGap;
          hs.rowH = 0;
        }
        const p = { x: (hs.x0 || 0) + hs.x + w / 2, y: hs.y + M.GEOM.collH / 2 };
        const collapsed = d.classes.includes("collapsed");
        const n = collapsed ? 1 : expandedCount(id);
        const cols = Math.max(2, Math.ceil(Math.sqrt(n)));
        hs.x += (collapsed ? w : Math.max(w, cols * M.GEOM.ifW + 2 * M.GEOM.nsPad)) + M.GEOM.nsGap;
        hs.rowH = Math.max(
          hs.rowH,
          collapsed ? M.GEOM.collH : Math.max(2, Math.ceil(n / cols)) * M.GEOM.ifH + 2 * M.GEOM.nsPad + 20,
        );
        slots.set(id, { ox: p.x - w / 2 + M.GEOM.nsPad + M.GEOM.ifW / 2, oy: p.y, cols, next: 0 });
        return p;
      }
      // No cursor (a new host, or after "Arrange"): start a new row under everything drawn.
      const bb = cy.elements().boundingBox();
      const x0 = Number.isFinite(bb.x1) ? bb.x1 : 0;
      const y0 = (Number.isFinite(bb.y2) ? bb.y2 : 0) + M.GEOM.nsGap;
      slots.set(hostKey, { x0, x: 0, y: y0, rowH: 0, rowWidth: Math.max(1200, Number.isFinite(bb.w) ? bb.w : 0) });
      return placeNew(d, pending);
    }
    return { x: 0, y: 0 };
  }

  /** Recompute the crowded (auto-collapsed) namespaces; true when the set changed. */
  function crowdingChanged() {
    const next = M.crowdedNamespaces(store, NS_IF_LIMIT);
    if (sameSet(next, view.autoCollapsed)) return false;
    view.autoCollapsed = next;
    return true;
  }

  function expandedCount(nsId) {
    let n = 0;
    for (const i of store.interfaces.values()) if (i.namespace === nsId) n += 1;
    return n;
  }

  /** Bring cytoscape in line with the store: add, update, fade out; never relayout. */
  // Patches reach the store at once; the picture follows at most every SYNC_MIN_MS at scale, so a
  // stream of 50 patches/s costs ~10 redraws/s instead of 50 (each redraw paints everything).
  let pending = null;
  let syncTimer = null;
  let lastSync = -1e9;

  // Fade-outs and highlight ends share one timer and one batch, so a stream of patches does not
  // add a repaint per element (each repaint draws everything at scale).
  const timed = [];
  let timedTimer = null;

  function later(ms, fn) {
    timed.push([performance.now() + ms, fn]);
    if (!timedTimer) timedTimer = setTimeout(runTimed, bigMode ? 250 : 60);
  }

  function runTimed() {
    timedTimer = null;
    const now = performance.now();
    const due = [];
    for (let k = timed.length - 1; k >= 0; k--) if (timed[k][0] <= now) due.push(...timed.splice(k, 1));
    if (due.length && cy) cy.batch(() => due.forEach(([, fn]) => fn()));
    if (timed.length) timedTimer = setTimeout(runTimed, bigMode ? 250 : 60);
  }

  function queueSync(t) {
    if (!pending) pending = { added: [], changed: [], removed: [], before: new Map(), kinds: new Set() };
    pending.added.push(...t.added);
    pending.changed.push(...t.changed);
    pending.removed.push(...t.removed);
    for (const [k, v] of t.before) if (!pending.before.has(k)) pending.before.set(k, v);
    for (const k of t.kinds) pending.kinds.add(k);
    // Small graphs follow every patch at once, unless patches come faster than frames (a flood).
    const gap = bigMode ? 150 : 30;
    const now = performance.now();
    if (syncTimer) return;
    if (now - lastSync >= gap) flushSync();
    else syncTimer = setTimeout(flushSync, gap - (now - lastSync));
  }

  function flushSync() {
    clearTimeout(syncTimer);
    syncTimer = null;
    const t = pending;
    pending = null;
    lastSync = performance.now();
    if (t) sync({ animate: true, flash: t.added, touched: t });
    const ms = performance.now() - lastSync;
    metrics.lastSyncMs = ms;
    metrics.syncMs.push(ms);
    if (metrics.syncMs.length > 2000) metrics.syncMs.splice(0, 1000);
  }

  function sync({ animate = true, flash = [], touched = null } = {}) {
    if (!cy) return;
    if (!touched && (pending || syncTimer)) {
      clearTimeout(syncTimer);
      syncTimer = null;
      pending = null; // a full diff covers them
    }
    let d;
    if (touched) d = M.updateElements(store, view, current, touched);
    else {
      const next = M.buildElements(store, view);
      d = M.diffElements(current, next);
      current = next;
    }
    if (!d.add.length && !d.remove.length && !d.update.length) return;
    const added = [];
    cy.batch(() => {
      for (const id of d.remove) {
        const ele = cy.getElementById(id);
        if (ele.empty()) continue;
        if (!animate || ele.isEdge() || fading.size > 200) {
          ele.remove();
          continue;
        }
        ele.addClass("gone").unselect();
        fading.add(ele);
        later(450, () => {
          fading.delete(ele);
          if (!ele.removed()) ele.remove();
        });
      }
      const pending = new Map();
      const els = [];
      for (const n of d.add) {
        const old = cy.getElementById(n.data.id);
        if (old.nonempty()) {
          fading.delete(old);
          old.remove();
        }
        let p = null;
        if (n.group === "nodes") {
          p = placeNew(n, pending);
          pending.set(n.data.id, p);
        }
        els.push(toEl(n, p));
      }
      if (els.length) added.push(...cy.add(els));
      for (const n of d.update) {
        const ele = cy.getElementById(n.data.id);
        if (ele.empty()) {
          cy.add(toEl(n, n.group === "nodes" ? placeNew(n, new Map()) : null));
          continue;
        }
        ele.data("label", n.data.label);
        const keep = ele.hasClass("flash") ? " flash" : "";
        ele.classes(n.classes + transient(n.data.id, n) + keep);
      }
    });
    // Boxes that grew (expanded, or interfaces arrived in them) push their neighbours aside.
    const grown = new Set();
    for (const n of d.add) if (n.data.kind === "if" && n.data.parent) grown.add(n.data.parent);
    if (grown.size) makeRoom(grown);
    if (view.flatHosts) {
      // Grow a host's frame around a namespace that arrived (never a full re-measure per patch).
      for (const n of d.add) {
        if (n.data.kind === "host") cy.getElementById(n.data.id).ungrabify();
        if (n.data.kind !== "ns") continue;
        const frame = cy.getElementById(n.data.host);
        const ele = cy.getElementById(n.data.id);
        if (frame.empty() || ele.empty() || ele.isChild()) continue;
        const fb = frame.boundingBox({ includeLabels: false });
        const nb = ele.boundingBox({ includeLabels: true });
        const pad = 30;
        const x1 = Math.min(fb.x1, nb.x1 - pad);
        const y1 = Math.min(fb.y1, nb.y1 - pad);
        const x2 = Math.max(fb.x2, nb.x2 + pad);
        const y2 = Math.max(fb.y2, nb.y2 + pad);
        if (x1 < fb.x1 || y1 < fb.y1 || x2 > fb.x2 || y2 > fb.y2) {
          frame.position({ x: (x1 + x2) / 2, y: (y1 + y2) / 2 });
          frame.data({ w: x2 - x1, h: y2 - y1 });
        }
      }
    }
    if (animate) {
      const want = new Set(flash);
      const toFlash = cy.collection();
      for (const e of added) if (e.isNode() && (want.has(e.id()) || !want.size)) toFlash.merge(e);
      // New interfaces inside a collapsed namespace light up the namespace.
      for (const id of flash) {
        const i = store.interfaces.get(id);
        if (i && !current.has(id)) toFlash.merge(cy.getElementById(i.namespace));
      }
      if (toFlash.length && toFlash.length <= 50) {
        toFlash.addClass("flash");
        later(1500, () => toFlash.removeClass("flash"));
      }
    }
    updateCounts();
  }

  /**
   * Namespace boxes that grew must not cover their neighbours: a box in the same row moves right
   * (with everything right of it in that row), a box below moves down (with every row below it),
   * by just enough. Nothing else moves, so the user's arrangement is otherwise kept.
   */
  function makeRoom(ids) {
    const gap = M.GEOM.nsGap / 2;
    const opts = { includeLabels: true, includeOverlays: false };
    const boxes = cy.nodes(".ns").filter((n) => !n.hasClass("gone"));
    const leaves = (n) => (n.isParent() ? n.descendants().filter((x) => x.isChildless()) : n);
    let moved = false;
    for (const id of ids) {
      const g = cy.getElementById(id);
      if (g.empty() || g.hasClass("gone") || !g.isParent()) continue;
      for (let round = 0; round < 100; round++) {
        const gb = g.boundingBox(opts);
        // The first neighbour it covers on its right (same row) or below; boxes above or to the
        // left stay: growth goes right and down.
        let shift = null;
        let which = null;
        for (const b of boxes) {
          if (b.same(g)) continue;
          const bb = b.boundingBox(opts);
          if (!(bb.x1 < gb.x2 + gap && bb.x2 > gb.x1 - gap && bb.y1 < gb.y2 + gap && bb.y2 > gb.y1 - gap)) continue;
          if ((bb.y1 + bb.y2) / 2 < gb.y1) continue; // a row above, within the gap
          if (bb.y1 < gb.y1 + M.GEOM.collH / 2 && bb.x1 > gb.x1) {
            shift = { x: gb.x2 + gap - bb.x1, y: 0 };
            const mid = (bb.y1 + bb.y2) / 2; // its row: the boxes level with its middle
            which = (o) => o.x1 >= bb.x1 - 1 && o.y1 <= mid && o.y2 >= mid;
          } else if (bb.y1 > gb.y1) {
            shift = { x: 0, y: gb.y2 + gap - bb.y1 };
            which = (o) => o.y1 >= bb.y1 - 1;
          } else continue;
          break;
        }
        if (!shift) break;
        const move = cy.collection();
        for (const b of boxes) if (!b.same(g) && which(b.boundingBox(opts))) move.merge(leaves(b));
        move.shift(shift);
        moved = true;
      }
    }
    if (moved) {
      fitFrames();
      saveLayout();
    }
  }

  function updateCounts() {
    const c = $(".nsm-counts");
    const n = (k, word) => `${k} ${word}${k === 1 ? "" : "s"}`;
    c.textContent = `${n(store.hosts.size, "host")} · ${n(store.namespaces.size, "namespace")} · ${n(store.interfaces.size, "interface")}`;
  }

  // ------------------------------------------------------------ view switching
  function setMode(m, explicit) {
    if (explicit) {
      try {
        localStorage.setItem(viewKey, m);
      } catch {
        /* ignore */
      }
    }
    mode = m;
    root.querySelector('[data-act="view-graph"]').setAttribute("aria-pressed", String(m === "graph"));
    root.querySelector('[data-act="view-table"]').setAttribute("aria-pressed", String(m === "table"));
    graphEl.hidden = m !== "graph";
    tableEl.hidden = m !== "table";
    root.dataset.mode = m;
    for (const a of ["fit", "zoom-in", "zoom-out", "expand-all", "collapse-all", "arrange", "reset-layout"]) {
      root.querySelector(`[data-act="${a}"]`).disabled = m !== "graph";
    }
    if (m === "graph") {
      if (!cy) createGraph();
      else {
        cy.resize();
        sync({ animate: false });
      }
    } else {
      renderTable();
      if (!cy) requestAnimationFrame(() => renderedResolve(performance.now() - tSourceStart));
    }
  }

  function chooseMode() {
    if (cfg.initialView === "graph" || cfg.initialView === "table") return cfg.initialView;
    let pref = null;
    try {
      pref = localStorage.getItem(viewKey);
    } catch {
      /* ignore */
    }
    if (pref === "graph" || pref === "table") return pref;
    if (store.namespaces.size > cfg.tableThreshold) {
      noticeEl.hidden = false;
      noticeEl.innerHTML = `${store.namespaces.size} namespaces are too many to read as a graph: showing the table.
        <button type="button" data-act="view-graph">Show the graph anyway</button>`;
      return "table";
    }
    return "graph";
  }

  // ------------------------------------------------------------ table
  function renderTable() {
    if (mode !== "table") return;
    if (!rowsCache) rowsCache = M.tableRows(store);
    let rows = rowsCache;
    if (matches.query) {
      rows = rows.filter((r) => matches.interfaces.has(r.id) || matches.namespaces.has(r.nsId));
    }
    if (focusSet) rows = rows.filter((r) => focusSet.has(r.nsId));
    rows = M.sortRows(rows.slice(), tableState.key, tableState.dir);
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    tableState.page = Math.min(tableState.page, pages - 1);
    const start = tableState.page * PAGE;
    const slice = rows.slice(start, start + PAGE);
    updateCounts();
    const head = tableEl.querySelector("thead tr");
    head.innerHTML = COLUMNS.map(([k, label]) => {
      const sort = tableState.key === k ? (tableState.dir === "asc" ? "ascending" : "descending") : "none";
      const arrow = sort === "ascending" ? " ▲" : sort === "descending" ? " ▼" : "";
      return `<th scope="col" aria-sort="${sort}"><button type="button" data-sort="${k}">${label}${arrow}</button></th>`;
    }).join("");
    const body = tableEl.querySelector("tbody");
    body.innerHTML = slice
      .map(
        (r) => `<tr data-id="${esc(r.id)}"${selected === r.id ? ' class="sel"' : ""}>
<td>${esc(r.host)}</td><td><button type="button" class="link" data-select="${esc(r.nsId)}">${esc(r.namespace)}</button></td>
<td><button type="button" class="link" data-select="${esc(r.id)}">${esc(r.name)}</button></td><td>${esc(r.kind)}</td>
<td><span class="st st-${esc(r.state.toLowerCase())}">${esc(r.state)}</span></td><td>${esc(r.ifindex)}</td>
<td>${r.peerId ? `<button type="button" class="link" data-select="${esc(r.peerId)}">${esc(r.peer)}</button>` : esc(r.peer)}</td>
<td>${esc(r.master)}</td><td class="mono">${esc(r.mac)}</td><td>${esc(r.mtu)}</td><td class="mono">${esc(r.addresses)}</td></tr>`,
      )
      .join("");
    $(".nsm-table-info").textContent =
      `${rows.length} of ${rowsCache.length} interfaces${matches.query ? ` matching “${matches.query}”` : ""}` +
      (pages > 1 ? ` · rows ${start + 1}–${Math.min(start + PAGE, rows.length)}` : "");
    $(".nsm-pager").innerHTML =
      pages > 1
        ? `<button type="button" data-page="${tableState.page - 1}" ${tableState.page === 0 ? "disabled" : ""}>‹ Previous</button>
           <span>page ${tableState.page + 1} of ${pages}</span>
           <button type="button" data-page="${tableState.page + 1}" ${tableState.page >= pages - 1 ? "disabled" : ""}>Next ›</button>`
        : "";
  }

  function scheduleTable() {
    rowsCache = null;
    if (mode !== "table" || tableTimer) return;
    tableTimer = setTimeout(() => {
      tableTimer = null;
      renderTable();
    }, 250);
  }

  // ------------------------------------------------------------ details
  function nsLink(nsId) {
    const ns = store.namespaces.get(nsId);
    return ns ? `<button type="button" class="link" data-select="${esc(nsId)}">${esc(M.nsLabel(ns))}</button>` : "—";
  }

  function ifLink(id) {
    const i = store.interfaces.get(id);
    return i ? `<button type="button" class="link" data-select="${esc(id)}">${esc(i.name)}</button>` : esc(id);
  }

  function row(k, v) {
    return `<tr><th scope="row">${esc(k)}</th><td>${v}</td></tr>`;
  }

  function showDetails(id, fromOutside = true) {
    const o = store.get(id);
    if (!o) return;
    selected = id;
    if (cy) {
      cy.elements(".sel").removeClass("sel");
      const ele = drawnAs(id);
      if (ele.nonempty()) {
        cy.elements(":selected").unselect();
        ele.select();
        if (store.interfaces.has(id)) edgesOf(id).addClass("sel");
      }
    }
    refreshEdges();
    if (store.interfaces.has(id)) renderInterface(o);
    else if (store.namespaces.has(id)) renderNamespace(o);
    else renderHost(o);
    if (fromOutside) root.querySelector(".nsm-details").focus({ preventScroll: true });
    if (mode === "table") {
      for (const tr of tableEl.querySelectorAll("tr.sel")) tr.classList.remove("sel");
      tableEl.querySelector(`tr[data-id="${CSS.escape(id)}"]`)?.classList.add("sel");
    }
  }

  function renderInterface(i) {
    const host = store.hosts.get(i.host);
    const peer = i.peer ? store.interfaces.get(i.peer) : null;
    const master = i.master ? store.interfaces.get(i.master) : null;
    const ports = [...store.interfaces.values()].filter((p) => p.master === i.id);
    let peerHtml;
    if (peer) {
      peerHtml = `<span class="nsm-peer">${ifLink(peer.id)} in ${nsLink(peer.namespace)}</span>`;
    } else if (i.peer_status === "unresolved") {
      peerHtml = `<span class="warn">unresolved</span>${i.peer_note ? ` — ${esc(i.peer_note)}` : ""}`;
    } else peerHtml = "—";
    const st = M.ifState(i);
    detailEl.innerHTML = `
      <h2 class="nsm-title"><span class="st st-${esc(st.toLowerCase())}">${esc(st)}</span> ${esc(M.ifLabel(i, store))}</h2>
      <table class="nsm-kv"><tbody>
        ${row("name", esc(i.name))}
        ${row("namespace", nsLink(i.namespace))}
        ${row("host", esc(host ? host.name : i.host))}
        ${row("kind", esc(M.ifKind(i)))}
        ${row("ifindex", esc(i.ifindex))}
        ${i.peer_ifindex != null || peer ? row("peer ifindex", esc(i.peer_ifindex ?? (peer ? peer.ifindex : "—"))) : ""}
        ${M.ifKind(i) === "veth" || i.peer || i.peer_ifindex != null ? row("peer", peerHtml) : ""}
        ${row("state", `${esc(st)} <span class="muted">(operstate ${esc(i.operstate || "?")}, admin ${i.up === false ? "down" : "up"})</span>`)}
        ${row("MAC", `<span class="mono">${esc(i.mac || "—")}</span>`)}
        ${row("MTU", esc(i.mtu ?? "—"))}
        ${row("addresses", (i.addresses || []).length ? (i.addresses || []).map((a) => `<div class="mono">${esc(a)}</div>`).join("") : "—")}
        ${row("master", master ? ifLink(master.id) : "—")}
        ${ports.length ? row("ports", ports.map((p) => `${ifLink(p.id)} <span class="muted">(${esc(M.nsLabel(store.namespaces.get(p.namespace)))})</span>`).join("<br>")) : ""}
        ${(i.altnames || []).length ? row("altnames", esc(i.altnames.join(", "))) : ""}
        ${i.alias ? row("alias", esc(i.alias)) : ""}
        ${row("first seen", esc(M.fmtDateTime(i.first_seen)))}
        ${row("changed", esc(M.fmtDateTime(i.changed)))}
        ${row("id", `<span class="mono small">${esc(i.id)}</span>`)}
      </tbody></table>
      <div class="nsm-btns">
        <button type="button" data-act="focus" data-ns="${esc(i.namespace)}">Show only this namespace and neighbours</button>
      </div>
      <h3>Last changes</h3><div class="nsm-changes">loading…</div>`;
    loadChanges(i.id);
  }

  function renderNamespace(ns) {
    const ifs = [...store.interfaces.values()].filter((i) => i.namespace === ns.id).sort(M.ifOrder);
    const collapsed = !M.isExpanded(ns.id, view);
    detailEl.innerHTML = `
      <h2 class="nsm-title">${esc(M.nsLabel(ns))}</h2>
      <table class="nsm-kv"><tbody>
        ${row("kind", esc(ns.kind))}
        ${row("names", esc((ns.names || []).join(", ") || "—"))}
        ${row("processes", (ns.pids || []).map((p) => `${esc(p.pid)} <span class="muted">${esc(p.comm || "")}</span>`).join(", ") || "—")}
        ${row("container", ns.container_id ? `<span class="mono small">${esc(ns.container_id)}</span>` : "—")}
        ${row("inode", esc(ns.inode ?? "—"))}
        ${row("host", esc(store.hosts.get(ns.host)?.name || ns.host))}
        ${row("first seen", esc(M.fmtDateTime(ns.first_seen)))}
        ${row("changed", esc(M.fmtDateTime(ns.changed)))}
        ${row("interfaces", ifs.map((i) => `${ifLink(i.id)} <span class="st st-${M.ifState(i).toLowerCase()}">${M.ifState(i)}</span>`).join("<br>") || "—")}
      </tbody></table>
      <div class="nsm-btns">
        ${mode === "graph" ? `<button type="button" data-act="toggle-ns" data-ns="${esc(ns.id)}">${collapsed ? "Expand" : "Collapse"}</button>` : ""}
        <button type="button" data-act="focus" data-ns="${esc(ns.id)}">Show only this namespace and neighbours</button>
      </div>
      <h3>Last changes</h3><div class="nsm-changes">loading…</div>`;
    loadChanges(ns.id);
  }

  function renderHost(h) {
    detailEl.innerHTML = `
      <h2 class="nsm-title">${esc(h.name || h.id)}</h2>
      <table class="nsm-kv"><tbody>
        ${row("state", `<span class="host-${esc(h.state)}">${esc(h.state)}</span>`)}
        ${row("last seen", esc(M.fmtDateTime(h.last_seen)))}
        ${row("agent run", `<span class="mono small">${esc(h.run || "—")}</span>`)}
        ${row("namespaces", esc([...store.namespaces.values()].filter((n) => n.host === h.id).length))}
        ${row("interfaces", esc([...store.interfaces.values()].filter((i) => i.host === h.id).length))}
      </tbody></table>`;
  }

  function showEdge(edge) {
    // Show the edge's first interface (a veth pair's lower id, a bridge port's port).
    const ia = store.interfaces.get(edge.data("a"));
    showDetails(ia ? ia.id : edge.data("source"), false);
  }

  let changesFor = null;
  async function loadChanges(id) {
    changesFor = id;
    const box = () => detailEl.querySelector(".nsm-changes");
    if (cfg.source !== "ws") {
      if (box()) box().textContent = "(history not available here)";
      return;
    }
    // Only this object's lifetime: keys are reused when the kernel recycles a namespace inode.
    const o = store.get(id);
    const born = o && o.first_seen ? Date.parse(o.first_seen) : NaN;
    const since = Number.isFinite(born) ? `&since=${encodeURIComponent(new Date(born - 2000).toISOString())}` : "";
    const url = `${cfg.apiBase}changes/?key=${encodeURIComponent(id)}&page_size=10${since}`;
    const get = () => fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    try {
      // Once more after a network blip (Chromium cancels requests when local interfaces change).
      const r = await get().catch(() => new Promise((ok) => setTimeout(ok, 500)).then(get));
      if (changesFor !== id || !box()) return;
      if (!r.ok) {
        box().textContent = `history unavailable (${r.status})`;
        return;
      }
      const data = await r.json();
      const items = (data.results || []).slice(0, 10);
      box().innerHTML = items.length
        ? `<ol class="nsm-changelist">${items
            .map((c) => `<li><time datetime="${esc(c.time)}">${esc(M.fmtDateTime(c.time))}</time> <b>${esc(c.action)}</b> ${esc(summarise(c))}<span class="muted"> · ${esc(c.actor || "")}</span></li>`)
            .join("")}</ol>`
        : "no recorded changes";
    } catch (e) {
      if (changesFor === id && box()) box().textContent = `history unavailable (${e.message})`;
    }
  }

  function summarise(c) {
    const b = c.before || {};
    const a = c.after || {};
    if (c.action !== "changed") return c.name || "";
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
      (k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]) && k !== "changed",
    );
    return `${c.name || ""}: ${keys
      .slice(0, 4)
      .map((k) => `${k} ${brief(b[k])} → ${brief(a[k])}`)
      .join(", ")}`;
  }

  /** A change-log value in a few characters: addresses as 10.0.0.1/24, long JSON cut. */
  function brief(v) {
    if (Array.isArray(v) && v.every((x) => x && typeof x === "object" && "address" in x)) {
      return `[${v.map((x) => `${x.address}/${x.prefixlen ?? x.prefix ?? ""}`).join(" ")}]`;
    }
    const text = JSON.stringify(v ?? null);
    return text.length > 48 ? `${text.slice(0, 45)}…` : text;
  }

  function clearSelection() {
    selected = null;
    if (cy) {
      cy.elements(":selected").unselect();
      cy.elements(".sel").removeClass("sel");
    }
    detailEl.innerHTML = '<p class="nsm-hint">Click an interface or a namespace to see its details.</p>';
    refreshEdges();
  }

  /** What stands for `id` in the graph: its own element, or the box of its collapsed namespace. */
  function drawnAs(id) {
    const ele = cy.getElementById(id);
    if (ele.nonempty() || !store.interfaces.has(id)) return ele;
    return cy.getElementById(store.interfaces.get(id).namespace);
  }

  /** The drawn edges of interface `id` (only its own, also when they start at its namespace's box). */
  function edgesOf(id) {
    const ele = drawnAs(id);
    if (ele.id() === id) return ele.connectedEdges();
    return ele.connectedEdges().filter((e) => e.data("a") === id || e.data("b") === id);
  }

  /**
   * Select an element from anywhere (search result, peer link, table): expand its namespace,
   * frame it with its peer, show it. A crowded namespace (hundreds of host-side veths in root)
   * stays a box: expanded it would be an unreadable grid, and the details panel answers.
   */
  function select(id) {
    const o = store.get(id);
    if (!o) return;
    if (mode === "graph" && cy) {
      const nsId = store.interfaces.has(id) ? o.namespace : null;
      if (nsId && !M.isExpanded(nsId, view) && !view.autoCollapsed.has(nsId)) {
        view.expanded.add(nsId);
        view.collapsed.delete(nsId);
        sync({ animate: false });
        saveLayout();
      }
      if (focusSet && !visible(id)) clearFocus();
      const ele = drawnAs(id);
      if (ele.nonempty()) {
        // An interface with its peer in view: the answer to "which veth is this eth0's"
        // (unless they are so far apart that both would be too small to read).
        const peer = o.peer && store.interfaces.has(o.peer) ? drawnAs(o.peer) : cy.collection();
        frameEles(peer.nonempty() && peer.visible() && !peer.same(ele) ? ele.union(peer) : ele, 60, ele);
      }
    }
    showDetails(id, true);
  }

  /**
   * Bring elements into view (fit, but never closer than 1.5x). When that would shrink labels
   * below what can be read and `alone` is given, frame `alone` instead.
   */
  function frameEles(eles, padding = 60, alone = null) {
    const fitZoom = (c) => {
      const bb = c.boundingBox();
      const w = Math.max(bb.w, 1) + 2 * padding;
      const h = Math.max(bb.h, 1) + 2 * padding;
      return Math.max(cy.minZoom(), Math.min(1.5, cy.width() / w, cy.height() / h));
    };
    let zoom = fitZoom(eles);
    if (alone && zoom < READABLE_ZOOM) {
      eles = alone;
      zoom = fitZoom(alone);
    }
    cy.stop();
    cy.animate({ zoom, center: { eles } }, { duration: 250 });
  }

  // ------------------------------------------------------------ expand / collapse / focus
  function toggleExpand(nsId, force) {
    const exp = force ?? !M.isExpanded(nsId, view);
    if (exp) {
      view.expanded.add(nsId);
      view.collapsed.delete(nsId);
    } else {
      view.collapsed.add(nsId);
      view.expanded.delete(nsId);
      slots.delete(nsId);
    }
    sync({ animate: false });
    saveLayout();
    if (selected === nsId) showDetails(nsId, false);
  }

  function setAll(expand) {
    view.expanded.clear();
    view.collapsed.clear();
    view.collapseAll = !expand;
    view.flatHosts = store.namespaces.size > cfg.collapseThreshold;
    view.autoCollapsed = expand ? new Set() : M.crowdedNamespaces(store, NS_IF_LIMIT);
    clearTimeout(syncTimer);
    syncTimer = null;
    pending = null;
    if (!cy) return;
    // A global change re-places everything deterministically: it is a new picture anyway.
    cy.elements().remove();
    saved = null;
    const els = placeAll();
    cy.style(styleFor(bigMode));
    cy.add(els);
    fitAll();
    saveLayout();
    updateCounts();
  }

  function setFocus(nsId) {
    focusNs = nsId;
    focusSet = M.neighbourNamespaces(store, nsId);
    applyVisibility();
    refreshEdges();
    root.querySelector('[data-act="show-all"]').hidden = false;
    if (cy) {
      frameEles(cy.elements().not(".hidden"), 40);
    }
    renderTable();
  }

  function clearFocus() {
    focusNs = null;
    focusSet = null;
    applyVisibility();
    refreshEdges();
    root.querySelector('[data-act="show-all"]').hidden = true;
    renderTable();
  }

  /** At scale: show the collapsed-level edges of the selection, the matches and the focus. */
  function refreshEdges() {
    if (!cy || !bigMode) return;
    // Whole boxes show all their edges; an interface inside a collapsed box shows its own only
    // (selecting one host-side veth must not draw root's thousand pairs).
    const want = new Set();
    const wantIf = new Set();
    const addIf = (id) => (cy.getElementById(id).nonempty() ? want.add(id) : wantIf.add(id));
    if (selected && store.interfaces.has(selected)) addIf(selected);
    else if (selected) want.add(selected);
    for (const id of matches.interfaces) addIf(id);
    for (const id of matches.namespaces) want.add(id);
    if (focusSet) for (const id of focusSet) want.add(id);
    edgeNodes = want;
    edgeIfs = wantIf;
    cy.batch(() => {
      if (allEdgesEl.checked) {
        cy.edges(".agg").addClass("on");
        return;
      }
      cy.edges(".on").removeClass("on");
      for (const id of want) {
        const n = cy.getElementById(id);
        if (n.nonempty()) n.connectedEdges().addClass("on");
        const kids = n.nonempty() && n.isParent() ? n.children().connectedEdges() : null;
        if (kids) kids.addClass("on");
      }
      if (wantIf.size) {
        cy.edges(".agg").forEach((e) => {
          if (wantIf.has(e.data("a")) || wantIf.has(e.data("b"))) e.addClass("on");
        });
      }
    });
  }

  function applyVisibility() {
    if (!cy) return;
    cy.batch(() => {
      cy.nodes().forEach((n) => {
        const v = visible(n.id());
        if (v && n.hasClass("hidden")) n.removeClass("hidden");
        else if (!v && !n.hasClass("hidden")) n.addClass("hidden");
      });
    });
  }

  // ------------------------------------------------------------ search
  /** Keep the result `r` of M.search for query `q`. */
  function setMatches(r, q) {
    const inNs = new Set();
    for (const id of r.interfaces) inNs.add(store.interfaces.get(id).namespace);
    matches = { interfaces: new Set(r.interfaces), namespaces: new Set(r.namespaces), inNs, query: q };
  }

  function runSearch(frame = true) {
    const q = qEl.value.trim();
    const r = M.search(store, q);
    setMatches(r, q);
    if (cy) {
      cy.batch(() => {
        cy.elements(".match").removeClass("match");
        for (const id of [...r.interfaces, ...r.namespaces]) {
          const ele = cy.getElementById(id);
          if (ele.nonempty()) ele.addClass("match");
          else if (store.interfaces.has(id)) cy.getElementById(store.interfaces.get(id).namespace).addClass("match");
        }
      });
      applyVisibility();
      refreshEdges();
      if (frame && q) {
        const m = cy.elements(".match");
        if (m.length) frameEles(m);
      }
    }
    const total = r.interfaces.length + r.namespaces.length;
    if (!q) resultsEl.innerHTML = "";
    else {
      const items = [
        ...r.namespaces.map((id) => ({ id, text: M.nsLabel(store.namespaces.get(id)), sub: "namespace" })),
        ...r.interfaces.map((id) => {
          const i = store.interfaces.get(id);
          return { id, text: M.ifLabel(i, store), sub: M.nsLabel(store.namespaces.get(i.namespace)) };
        }),
      ];
      resultsEl.innerHTML = `<h2>${total} match${total === 1 ? "" : "es"} for “${esc(q)}”</h2>
        <ul class="nsm-hits">${items
          .slice(0, 60)
          .map((x) => `<li><button type="button" class="link" data-select="${esc(x.id)}">${esc(x.text)}</button> <span class="muted">${esc(x.sub)}</span></li>`)
          .join("")}${items.length > 60 ? `<li class="muted">… ${items.length - 60} more (refine the search or use the table)</li>` : ""}</ul>`;
    }
    tableState.page = 0;
    renderTable();
    return r;
  }

  // ------------------------------------------------------------ layout actions
  function arrange(animate = true) {
    if (!cy || !HAS_FCOSE) return;
    const eles = cy.elements().not(".hidden");
    if (eles.length > 3000) {
      resetLayout();
      return;
    }
    cy.layout({
      name: "fcose",
      eles,
      animate,
      animationDuration: 400,
      randomize: true,
      quality: "default",
      nodeDimensionsIncludeLabels: true,
      packComponents: true,
      idealEdgeLength: 80,
      nodeRepulsion: 6000,
      nestingFactor: 0.2,
      fit: true,
      padding: 30,
      stop: () => saveLayout(),
    }).run();
    slots = new Map();
  }

  function resetLayout() {
    saved = null;
    setAll(store.namespaces.size <= cfg.collapseThreshold);
    // setAll queued a save, cancelled here; no timer runs before this line, so one removal does.
    try {
      localStorage.removeItem(layoutKey);
    } catch {
      /* ignore */
    }
    clearTimeout(saveTimer);
  }

  // ------------------------------------------------------------ export
  function download(name, blob) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
  }

  function stamp() {
    const d = new Date();
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  }

  function exportAs(kind) {
    if ((kind === "png" || kind === "svg") && mode !== "graph") setMode("graph", false);
    if (kind === "png") download(`nsmap-${stamp()}.png`, cy.png({ output: "blob", bg: "#ffffff", scale: 2, full: false }));
    else if (kind === "svg") download(`nsmap-${stamp()}.svg`, new Blob([toSvg(cy, { title: `nsmap ${stamp()}` })], { type: "image/svg+xml" }));
    else if (kind === "json") download(`nsmap-${stamp()}.json`, new Blob([JSON.stringify(store.toGraph(), null, 1)], { type: "application/json" }));
    else if (kind === "dot") download(`nsmap-${stamp()}.dot`, new Blob([M.toDot(store)], { type: "text/vnd.graphviz" }));
    root.querySelector(".nsm-export").open = false;
  }

  // ------------------------------------------------------------ messages and connection
  /** One message from the server (or the bench): {"type": "graph"} or {"type": "patch"}. */
  function receive(msg) {
    if (msg.type === "graph") {
      const first = mode === null;
      const t0 = performance.now();
      metrics.graphs += 1;
      if (first) metrics.graphArrivedMs = t0 - tSourceStart;
      store.load({ ...msg.graph, seq: msg.seq ?? msg.graph.seq });
      rowsCache = null;
      awaitingGraph = false;
      setConn("live");
      if (first) {
        tSourceStart = Math.min(tSourceStart, t0);
        setMode(chooseMode(), false);
      } else {
        sync({ animate: true });
        scheduleTable();
      }
      if (matches.query) runSearch(false);
      if (selected && store.get(selected)) showDetails(selected, false);
      metrics.graphMs.push(performance.now() - t0);
      return;
    }
    if (msg.type !== "patch") return;
    if (awaitingGraph) return;
    if (store.seq != null && msg.seq <= store.seq) return; // already have it
    if (store.seq == null || msg.seq !== store.seq + 1) {
      resync(`gap: had ${store.seq}, got ${msg.seq}`);
      return;
    }
    const t0 = performance.now();
    const touched = store.apply(msg);
    if (focusNs && focusSet) focusSet = M.neighbourNamespaces(store, focusNs);
    // Before drawing: what the patch adds is drawn with its match (and "only matches") state.
    if (matches.query && (touched.added.length || touched.changed.length || touched.removed.length)) {
      const was = matches;
      setMatches(M.search(store, matches.query), matches.query);
      // "Only matches": a namespace box that gained (or lost) its matches shows (or hides) now;
      // an unchanged box is not redrawn by the patch.
      if (onlyEl.checked && !(sameSet(was.namespaces, matches.namespaces) && sameSet(was.inNs, matches.inNs))) {
        applyVisibility();
      }
    }
    if (mode === "graph" && cy) {
      if (!view.flatHosts && store.namespaces.size > 2 * cfg.collapseThreshold) {
        // Grew from a few namespaces to many while open: switch to the scale rules once.
        setAll(false);
      } else if (touched.kinds.has("interfaces") && crowdingChanged()) {
        sync({ animate: false }); // a namespace crossed NS_IF_LIMIT: boxes change, full diff
      } else queueSync(touched);
    }
    scheduleTable();
    if (selected) {
      if (!store.get(selected)) clearSelection();
      else if (detailTouches(touched)) showDetails(selected, false);
    }
    metrics.lastPatchMs = performance.now() - t0;
    metrics.patches += 1;
  }

  function detailTouches(t) {
    const ids = new Set([...t.added, ...t.changed, ...t.removed]);
    if (ids.has(selected)) return true;
    const o = store.interfaces.get(selected);
    return !!(o && ((o.peer && ids.has(o.peer)) || (o.master && ids.has(o.master))));
  }

  function resync(why) {
    metrics.resyncs += 1;
    awaitingGraph = true;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "resync", reason: why }));
  }

  function setConn(state) {
    connEl.dataset.state = state;
    root.classList.toggle("nsm-offline", state !== "live");
    if (state === "live") {
      staleSince = null;
      connEl.textContent = "● live";
    } else if (state === "reconnecting") {
      connEl.textContent = `reconnecting…\nstale since ${M.fmtTime(staleSince)}`;
    } else if (state === "signed-out") {
      connEl.innerHTML = `signed out · <a href="/login/?next=${encodeURIComponent(location.pathname)}">sign in</a>\nstale since ${esc(M.fmtTime(staleSince))}`;
    } else connEl.textContent = "connecting…";
  }

  function connect() {
    clearTimeout(reconnectTimer);
    const url = cfg.wsUrl || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/topology/`;
    try {
      ws = new WebSocket(url);
    } catch {
      scheduleReconnect();
      return;
    }
    ws.onopen = () => {
      attempts = 0;
      awaitingGraph = true;
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      receive(msg);
    };
    ws.onclose = () => {
      ws = null;
      scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows and reconnects */
    };
  }

  async function scheduleReconnect() {
    if (!staleSince) staleSince = new Date().toISOString();
    attempts += 1;
    if (attempts >= 3 && attempts % 3 === 0) {
      try {
        const r = await fetch(`${cfg.apiBase}nodes/`, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (r.status === 401 || r.status === 403) {
          setConn("signed-out");
          return;
        }
      } catch {
        /* server down: keep trying */
      }
    }
    setConn("reconnecting");
    const delay = Math.min(15000, 500 * 2 ** Math.min(attempts - 1, 5)) * (0.8 + Math.random() * 0.4);
    reconnectTimer = setTimeout(connect, delay);
  }

  // ------------------------------------------------------------ controls
  root.addEventListener("click", (ev) => {
    const t = ev.target.closest("button, [data-select]");
    if (!t || !root.contains(t)) return;
    if (t.dataset.select) {
      select(t.dataset.select);
      return;
    }
    if (t.dataset.sort) {
      const k = t.dataset.sort;
      tableState = { key: k, dir: tableState.key === k && tableState.dir === "asc" ? "desc" : "asc", page: 0 };
      renderTable();
      root.querySelector(`[data-sort="${k}"]`)?.focus();
      return;
    }
    if (t.dataset.page) {
      tableState.page = Number(t.dataset.page);
      renderTable();
      return;
    }
    switch (t.dataset.act) {
      case "view-graph":
        noticeEl.hidden = true;
        setMode("graph", true);
        break;
      case "view-table":
        setMode("table", true);
        break;
      case "clear":
        qEl.value = "";
        runSearch(false);
        break;
      case "fit":
        cy?.animate({ fit: { eles: cy.elements().not(".hidden"), padding: 30 } }, { duration: 200 });
        break;
      case "zoom-in":
        cy?.zoom({ level: cy.zoom() * 1.25, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
        break;
      case "zoom-out":
        cy?.zoom({ level: cy.zoom() / 1.25, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
        break;
      case "expand-all":
        setAll(true);
        break;
      case "collapse-all":
        setAll(false);
        break;
      case "arrange":
        arrange(true);
        break;
      case "reset-layout":
        resetLayout();
        break;
      case "show-all":
        clearFocus();
        cy?.animate({ fit: { eles: cy.elements(), padding: 30 } }, { duration: 200 });
        break;
      case "focus":
        setFocus(t.dataset.ns);
        break;
      case "toggle-ns":
        toggleExpand(t.dataset.ns);
        break;
      case "export-png":
      case "export-svg":
      case "export-json":
      case "export-dot":
        exportAs(t.dataset.act.slice(7));
        break;
      default:
        break;
    }
  });
  root.querySelector(".nsm-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    runSearch(true);
  });
  onlyEl.addEventListener("change", () => runSearch(false));
  allEdgesEl.addEventListener("change", () => refreshEdges());
  let typeTimer = null;
  qEl.addEventListener("input", () => {
    clearTimeout(typeTimer);
    typeTimer = setTimeout(() => runSearch(false), 300);
  });
  const exportEl = $(".nsm-export");
  document.addEventListener("keydown", (ev) => {
    const active = document.activeElement;
    const typing = active && (active.matches("textarea, select, input:not([type=checkbox]):not([type=radio])") || active.isContentEditable);
    if (ev.key === "/" && !ev.ctrlKey && !ev.metaKey && !ev.altKey && !typing) {
      ev.preventDefault();
      qEl.focus();
      qEl.select();
    } else if (ev.key === "Escape" && active === qEl) {
      qEl.value = "";
      runSearch(false);
    } else if (ev.key === "Escape" && exportEl.open) {
      exportEl.open = false;
      exportEl.querySelector("summary").focus();
    }
  });
  // The Export menu closes when the pointer or the focus goes elsewhere, like any menu.
  document.addEventListener("click", (ev) => {
    if (exportEl.open && !exportEl.contains(ev.target)) exportEl.open = false;
  });
  exportEl.addEventListener("focusout", (ev) => {
    if (ev.relatedTarget && !exportEl.contains(ev.relatedTarget)) exportEl.open = false;
  });
  // role="toolbar": besides Tab, the arrow keys (and Home / End) move between its controls.
  const toolbarEl = $(".nsm-toolbar");
  toolbarEl.addEventListener("keydown", (ev) => {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(ev.key) || ev.target === qEl) return;
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.target.closest(".nsm-menu")) return;
    const items = [...toolbarEl.querySelectorAll("button, input, summary")].filter(
      (el) => !el.disabled && !el.closest("[hidden]") && !el.closest(".nsm-menu"),
    );
    const k = items.indexOf(ev.target);
    if (k < 0) return;
    const next = { ArrowLeft: k - 1, ArrowRight: k + 1, Home: 0, End: items.length - 1 }[ev.key];
    ev.preventDefault();
    items[(next + items.length) % items.length].focus();
  });
  if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => cy?.resize()).observe(graphEl);

  setConn("connecting");
  if (cfg.source === "ws") connect();

  const app = {
    store,
    view,
    metrics,
    rendered,
    receive,
    select,
    search: (q) => {
      qEl.value = q;
      return runSearch(true);
    },
    setMode: (m) => setMode(m, false),
    setFocus,
    clearFocus,
    toggleExpand,
    exportDot: () => M.toDot(store),
    /** The SVG the "SVG (view)" export downloads (options: full, bg, title). */
    exportSvg: (opts) => (cy ? toSvg(cy, opts) : null),
    get cy() {
      return cy;
    },
    get mode() {
      return mode;
    },
    get seq() {
      return store.seq;
    },
    get connection() {
      return connEl.dataset.state;
    },
    /** For tests: the drawn edge between two interfaces (or their collapsed namespaces), if any. */
    edgeBetween(a, b) {
      if (!cy) return null;
      const x = current.get(a) ? a : store.interfaces.get(a)?.namespace;
      const y = current.get(b) ? b : store.interfaces.get(b)?.namespace;
      const e = cy.getElementById(x).edgesWith(cy.getElementById(y)).not(".gone");
      return e.length ? e[0].id() : null;
    },
    /** Tests: drop the socket as a network failure would (the page must reconnect and resync). */
    dropConnection() {
      if (ws) ws.close();
    },
    close() {
      clearTimeout(reconnectTimer);
      if (ws) {
        ws.onclose = null;
        ws.close();
      }
    },
  };
  return app;
}
