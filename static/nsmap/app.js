// nsmap dashboard: wires the parts. Each part lives in its own module and is started by one
// initX(); this file builds the page skeleton, holds the shared state and routes messages
// between them. All topology logic is in model.js.
import * as M from "./model.js";
import { fill, findByKey, focusKey, h } from "./dom.js";
import { initLayoutStore } from "./layout-store.js";
import { initLive } from "./live.js";
import { initGraph } from "./graph-view.js";
import { initTable } from "./table.js";
import { initDetails } from "./details.js";
import { initSearch } from "./search.js";
import { initExport } from "./export.js";
import { buildToolbar, initToolbar } from "./toolbar.js";
import { initTimeTravel } from "./timetravel.js";
import { canAct, initActions } from "./actions.js";

// Constant markup, no data: every value shown later is set as text (dom.js).
const SKELETON = `
<div class="nsm-toolbar" role="toolbar" aria-label="Graph controls"></div>
<div class="nsm-banner" role="alert" hidden></div>
<div class="nsm-main">
  <div class="nsm-views">
    <div class="nsm-graph" role="region" aria-label="Topology graph" aria-describedby="nsm-graph-about"></div>
    <p id="nsm-graph-about" class="sr-only">A drawing of the hosts, their network namespaces and interfaces, with lines
      for veth pairs and bridge ports. It is made for the mouse: click an interface or a namespace for its details,
      double-click a namespace to expand it. The Table view (the Table button above) shows the same data and works
      with the keyboard and screen readers; the search finds any interface or namespace.</p>
    <div class="nsm-table" hidden>
      <div class="nsm-table-info" aria-live="polite"></div>
      <div class="nsm-table-scroll" tabindex="-1">
        <table>
          <caption class="sr-only">Interfaces</caption>
          <thead><tr></tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <div class="nsm-pager"></div>
    </div>
    <div class="nsm-notice" hidden></div>
    <div class="nsm-empty" role="status" hidden></div>
  </div>
  <aside class="nsm-details" aria-label="Details" tabindex="-1">
    <button type="button" class="nsm-details-close" data-act="close-details" aria-label="Close the details">×</button>
    <div class="nsm-results"></div>
    <div class="nsm-detail-body"></div>
  </aside>
</div>
<div class="nsm-legend" aria-label="Legend">
  <span><i class="lg s-up"></i>UP</span><span><i class="lg s-down"></i>DOWN</span>
  <span><i class="lg s-nocarrier"></i>no carrier</span>
  <span>● veth</span><span>▭ bridge</span><span>◆ lo</span><span>■ device</span><span>▲ macvlan</span>
  <span>⬢ vxlan</span><span>∨ tun/tap</span><span><svg class="sym oct" viewBox="0 0 14 14" aria-hidden="true"><polygon points="4.5,1 9.5,1 13,4.5 13,9.5 9.5,13 4.5,13 1,9.5 1,4.5"/></svg>other kinds (ifb, dummy…)</span><span><i class="ln veth"></i>veth pair</span>
  <span><i class="ln port"></i>bridge port</span><span><i class="lg unres"></i>peer unresolved</span>
  <span>★ root namespace</span>
  <span class="nsm-counts"></span>
</div>
<div class="sr-only" role="status" aria-live="polite" id="nsm-announce"></div>
<dialog class="nsm-help" aria-labelledby="nsm-help-title"></dialog>`;

/**
 * Mount the dashboard into `root`. config: {username, roles, csrfToken, wsUrl, apiBase, source
 * ("ws"|"none"), initialView ("auto"|"graph"|"table"), collapseThreshold, tableThreshold}.
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
  // eslint-disable-next-line no-restricted-syntax -- constant markup, no data
  root.innerHTML = SKELETON;
  const $ = (sel) => root.querySelector(sel);
  const els = {
    toolbar: $(".nsm-toolbar"),
    graph: $(".nsm-graph"),
    table: $(".nsm-table"),
    notice: $(".nsm-notice"),
    empty: $(".nsm-empty"),
    banner: $(".nsm-banner"),
    details: $(".nsm-details"),
    detailBody: $(".nsm-detail-body"),
    results: $(".nsm-results"),
    counts: $(".nsm-counts"),
    announce: $("#nsm-announce"),
    help: $(".nsm-help"),
  };
  Object.assign(els, buildToolbar(els.toolbar, els.help));

  // lastPatchMs: store + (when due) graph update of the last patch; syncMs: each graph update.
  // graphs: full graph messages (first, resync, server's own catch-up); graphMs: time to apply each.
  const metrics = { firstRenderMs: null, graphArrivedMs: null, lastPatchMs: null, lastSyncMs: null, syncMs: [], graphMs: [], patches: 0, graphs: 0, resyncs: 0 };
  const ctx = {
    cfg,
    root,
    els,
    metrics,
    store: new M.Store(),
    view: { collapseAll: false, expanded: new Set(), collapsed: new Set(), autoCollapsed: new Set() },
    // inNs: namespaces holding a matched interface (what "only matches" keeps visible).
    state: { mode: null, selected: null, matches: { interfaces: new Set(), namespaces: new Set(), inNs: new Set(), query: "" }, focusNs: null, focusSet: null },
    layout: initLayoutStore(cfg.username),
    tSourceStart: performance.now(),
  };
  const rendered = new Promise((r) => (ctx.renderedResolve = r));
  const { store, state } = ctx;

  const details = initDetails(ctx);
  const graph = initGraph(ctx, {
    tap: (id) => showDetails(id, false),
    tapEdge: (edge) => {
      // The edge's first interface (a veth pair's lower id, a bridge port's port).
      const ia = store.interfaces.get(edge.data("a"));
      showDetails(ia ? ia.id : edge.data("source"), false);
    },
    tapBackground: () => clearSelection(),
    expanded: (nsId) => {
      if (state.selected === nsId) showDetails(nsId, false);
    },
    created: (cy) => lab && lab.attach(cy),
  });
  const table = initTable(ctx);
  const search = initSearch(ctx, { graph, table });
  const exporter = initExport(ctx, { showGraph: () => state.mode !== "graph" && setMode("graph", false), cy: () => graph.cy });
  // Operators and admins only: a viewer's page has no action control at all (actions.js).
  const lab = canAct(cfg) ? initActions(ctx, { graph }) : null;
  ctx.lab = lab;
  ctx.refreshDetails = () => details.refresh();
  const live = initLive(ctx, { graph: onGraph, patch: onPatch, state: onConnection, command: (c) => lab && lab.onCommand(c) });

  function updateCounts() {
    const n = (k, word) => `${k} ${word}${k === 1 ? "" : "s"}`;
    els.counts.textContent = `${n(store.hosts.size, "host")} · ${n(store.namespaces.size, "namespace")} · ${n(store.interfaces.size, "interface")}`;
  }

  let opener = null; // what had the focus when a choice opened the details (Escape returns there)

  function showDetails(id, focus) {
    if (!store.get(id)) return;
    if (focus && !els.details.contains(document.activeElement)) opener = focusKey(document.activeElement);
    state.selected = id;
    graph.markSelected(id);
    details.show(id, focus);
    table.markSelected(id);
    root.classList.add("nsm-has-details");
  }

  function clearSelection() {
    details.clear();
    graph.markSelected(null);
    table.markSelected(null);
    root.classList.remove("nsm-has-details");
  }

  /** Select from anywhere (search result, peer link, table): frame it in the graph, show it. */
  function select(id) {
    if (!store.get(id)) return;
    if (state.mode === "graph") {
      if (state.focusSet && !graph.visible(id)) clearFocus();
      graph.reveal(id);
    }
    showDetails(id, true);
  }

  function setFocus(nsId) {
    state.focusNs = nsId;
    state.focusSet = M.neighbourNamespaces(store, nsId);
    graph.applyVisibility();
    graph.refreshEdges();
    toolbar.showAllButton(true);
    graph.frameShown();
    table.render();
  }

  function clearFocus() {
    state.focusNs = null;
    state.focusSet = null;
    graph.applyVisibility();
    graph.refreshEdges();
    toolbar.showAllButton(false);
    table.render();
  }

  function setMode(m, explicit) {
    if (explicit) ctx.layout.setViewPref(m);
    state.mode = m;
    toolbar.setMode(m);
    if (lab) lab.setMode(m);
    els.graph.hidden = m !== "graph";
    els.table.hidden = m !== "table";
    root.dataset.mode = m;
    markCurrentPage(m);
    if (m === "graph") graph.show();
    else {
      table.render();
      if (!graph.cy) requestAnimationFrame(() => ctx.renderedResolve(performance.now() - ctx.tSourceStart));
    }
    search.showEmpty();
  }

  /** The header's Graph / Table links follow the switch (base.html's nav). */
  function markCurrentPage(m) {
    for (const a of document.querySelectorAll(".site-header nav a[data-page]")) {
      if (a.dataset.page === m) a.setAttribute("aria-current", "page");
      else if (a.dataset.page === "graph" || a.dataset.page === "table") a.removeAttribute("aria-current");
    }
  }

  function chooseMode() {
    if (cfg.initialView === "graph" || cfg.initialView === "table") return cfg.initialView;
    const pref = ctx.layout.viewPref();
    if (pref) return pref;
    if (store.namespaces.size > cfg.tableThreshold) {
      fill(
        els.notice,
        `${store.namespaces.size} namespaces are too many to read as a graph: showing the table. `,
        h("button", { type: "button", dataset: { act: "view-graph" } }, "Show the graph anyway"),
      );
      els.notice.hidden = false;
      return "table";
    }
    return "graph";
  }

  function onGraph(msg) {
    const first = state.mode === null;
    const t0 = performance.now();
    metrics.graphs += 1;
    if (first) metrics.graphArrivedMs = t0 - ctx.tSourceStart;
    store.load({ ...msg.graph, seq: msg.seq ?? msg.graph.seq });
    if (lab) lab.prune();
    table.invalidate();
    if (first) {
      ctx.tSourceStart = Math.min(ctx.tSourceStart, t0);
      setMode(chooseMode(), false);
    } else {
      graph.sync({ animate: true });
      table.schedule();
    }
    if (state.matches.query) search.run(false);
    updateCounts();
    details.refresh();
    metrics.graphMs.push(performance.now() - t0);
  }

  function onPatch(msg) {
    const t0 = performance.now();
    const touched = store.apply(msg);
    if (lab) lab.prune(); // before drawing: a changed edge loses its ping note
    if (state.focusNs && state.focusSet) state.focusSet = M.neighbourNamespaces(store, state.focusNs);
    // Before drawing: what the patch adds is drawn with its match (and "only matches") state.
    if (search.rematch(touched)) graph.applyVisibility();
    if (state.mode === "graph") graph.onPatch(touched);
    table.schedule();
    updateCounts();
    if (state.selected) {
      if (!store.get(state.selected)) clearSelection();
      else if (details.touches(touched)) details.show(state.selected, false);
    }
    metrics.lastPatchMs = performance.now() - t0;
    metrics.patches += 1;
  }

  function onConnection(s) {
    const conn = els.conn;
    // Back from a dropped socket (live.js says "live" just before the graph that follows): command
    // reports sent meanwhile are lost. Not on every graph: a resync or a return from the past lost none.
    if (lab && s === "live" && conn.dataset.state === "reconnecting") lab.catchUp();
    conn.dataset.state = s;
    root.classList.toggle("nsm-offline", s !== "live");
    const since = live.staleSince ? M.fmtTime(live.staleSince) : "";
    if (s === "live") conn.textContent = "● live";
    else if (s === "reconnecting") conn.textContent = `reconnecting…\nstale since ${since}`;
    else if (s === "signed-out") conn.textContent = `signed out\nstale since ${since}`;
    else conn.textContent = "connecting…";
    const why = s === "signed-out" ? "your session has ended" : "the server cannot be reached";
    details.setStale(s === "reconnecting" || s === "signed-out", live.lastUpdate ? M.fmtTime(live.lastUpdate) : "never", why);
    showBanner(s);
  }

  function showBanner(s) {
    const banner = els.banner;
    const last = live.lastUpdate ? M.fmtTime(live.lastUpdate) : "never";
    banner.dataset.state = s;
    if (s === "reconnecting") {
      fill(
        banner,
        h("strong", null, "The server cannot be reached."),
        ` What you see is as of ${last} and may be out of date; search, the table, details and export still work on it. Reconnecting by itself…`,
      );
      banner.hidden = false;
    } else if (s === "signed-out") {
      fill(
        banner,
        h("strong", null, "Your session has ended."),
        ` What you see is as of ${last}. `,
        h("a", { href: `/login/?next=${encodeURIComponent(location.pathname + location.search)}` }, "Sign in again"),
        " to see live changes.",
      );
      banner.hidden = false;
      const user = document.querySelector(".site-header .user");
      if (user) fill(user, h("span", null, "signed out"), h("a", { class: "signin", href: `/login/?next=${encodeURIComponent(location.pathname)}` }, "Sign in"));
    } else banner.hidden = true;
  }

  const toolbar = initToolbar(ctx, {
    select,
    search: (frame) => search.run(frame),
    escape: () => {
      if (root.classList.contains("nsm-has-details") && matchMedia("(max-width: 700px)").matches) closeDetails();
    },
    actions: {
      "view-graph": () => {
        els.notice.hidden = true;
        setMode("graph", true);
      },
      "view-table": () => setMode("table", true),
      clear: () => {
        els.q.value = "";
        search.run(false);
      },
      fit: () => graph.fitShown(),
      "zoom-in": () => graph.zoomIn(),
      "zoom-out": () => graph.zoomOut(),
      "expand-all": () => graph.setAll(true),
      "collapse-all": () => graph.setAll(false),
      arrange: () => graph.arrange(true),
      "reset-layout": () => graph.resetLayout(),
      "show-all": () => {
        clearFocus();
        graph.fitAll();
      },
      focus: (t) => setFocus(t.dataset.ns),
      "toggle-ns": (t) => graph.toggleExpand(t.dataset.ns),
      "close-details": () => closeDetails(),
      "export-png": () => exporter.exportAs("png"),
      "export-svg": () => exporter.exportAs("svg"),
      "export-json": () => exporter.exportAs("json"),
      "export-dot": () => exporter.exportAs("dot"),
    },
  });
  els.allEdges.addEventListener("change", () => graph.refreshEdges());

  /** Small screens: the details slide over the view; closing gives the focus back to the control
   * that opened them (or to the search). */
  function closeDetails() {
    root.classList.remove("nsm-has-details", "nsm-has-results");
    const back = findByKey(root, opener);
    (back && back.offsetParent ? back : els.q).focus();
  }

  details.clear();
  onConnection("connecting");
  if (cfg.source === "ws") live.connect();
  const timeTravel = cfg.source === "ws" ? initTimeTravel(ctx, { live, showGraph: onGraph, select }) : null;

  return {
    store,
    view: ctx.view,
    metrics,
    rendered,
    receive: live.receive,
    select,
    search: (q) => {
      els.q.value = q;
      return search.run(true);
    },
    setMode: (m) => setMode(m, false),
    setFocus,
    clearFocus,
    toggleExpand: (nsId, force) => graph.toggleExpand(nsId, force),
    exportDot: exporter.dot,
    exportSvg: exporter.svg,
    get cy() {
      return graph.cy;
    },
    get mode() {
      return state.mode;
    },
    get seq() {
      return store.seq;
    },
    get connection() {
      return live.state;
    },
    edgeBetween: graph.edgeBetween,
    lab,
    timeTravel,
    dropConnection: live.drop,
    close: live.close,
  };
}
