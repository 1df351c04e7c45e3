// The graph view: Cytoscape fed by the pure model's element diffs. Nothing is re-laid out by a
// patch: new elements are placed beside their parent, grown boxes push their neighbours aside,
// and at scale patches are coalesced into one redraw per 150 ms (static/nsmap/README.md).
// One module although long: placement, the coalesced sync, selection and visibility marks all
// read and write the same Cytoscape instance and element map, which no other module touches.
import * as M from "./model.js";
import { graphStyle } from "./styles.js";
import { sameSet } from "./dom.js";

const BIG = 1500; // elements above which cheaper rendering settings are used
const READABLE_ZOOM = 0.6; // interface labels (10 px) stay at least 6 px high
export const NS_IF_LIMIT = 60; // interfaces above which a namespace starts collapsed

// Cytoscape injects an inline <style> unless an element with this id exists (its renderer's
// init); nsmap.css carries that one rule, so the Content-Security-Policy needs no inline styles.
const CY_SHEET_ID = "__________cytoscape_stylesheet";

let extensionsRegistered = false;
function cytoscapeLib() {
  const cytoscape = window.cytoscape;
  if (!extensionsRegistered) {
    // The UMD build registers itself when it finds window.cytoscape; register it if it did not.
    if (window.cytoscapeFcose && !cytoscape("layout", "fcose")) cytoscape.use(window.cytoscapeFcose);
    if (window.cytoscapeEdgehandles && !cytoscape("core", "edgehandles")) cytoscape.use(window.cytoscapeEdgehandles);
    if (window.cytoscapeCxtmenu && !cytoscape("core", "cxtmenu")) cytoscape.use(window.cytoscapeCxtmenu);
    if (!document.getElementById(CY_SHEET_ID)) {
      const marker = document.createElement("meta");
      marker.id = CY_SHEET_ID;
      document.head.appendChild(marker);
    }
    extensionsRegistered = true;
  }
  return cytoscape;
}

/**
 * initGraph(ctx, {tap(id), tapEdge(edge), tapBackground(), expanded(nsId), created(cy)}) -> the graph view's API (see the
 * returned object). ctx: {cfg, store, view, state, els, metrics, layout, rendered}.
 */
export function initGraph(ctx, on) {
  const { cfg, store, view, state, els, metrics, layout } = ctx;
  const cytoscape = cytoscapeLib();
  const hasFcose = !!cytoscape("layout", "fcose");
  let cy = null;
  let current = new Map(); // descriptors now in cytoscape
  let slots = new Map(); // parent id -> placement cursor for new arrivals
  let saved = layout.load();
  const fading = new Set();
  let bigMode = false;
  let edgeNodes = new Set(); // at scale: nodes whose collapsed-level edges are shown
  let edgeIfs = new Set(); // ... and interfaces inside collapsed boxes whose own edges are shown

  function saveLayout() {
    layout.save(() => {
      if (!cy) return null;
      const pos = {};
      cy.nodes().forEach((n) => {
        if (n.isChildless() && !n.hasClass("host")) {
          const p = n.position();
          pos[n.id()] = [Math.round(p.x), Math.round(p.y)];
        }
      });
      saved = { pos, expanded: [...view.expanded], collapsed: [...view.collapsed] };
      return saved;
    });
  }

  function transient(id, d) {
    let c = "";
    if (d && d.group === "edges") {
      const m = edgeNodes;
      if (bigMode && (els.allEdges.checked || m.has(d.data.source) || m.has(d.data.target) || edgeIfs.has(d.data.a) || edgeIfs.has(d.data.b))) {
        c += " on";
      }
      return c;
    }
    if (state.matches.interfaces.has(id) || state.matches.namespaces.has(id)) c += " match";
    if (!visible(id)) c += " hidden";
    return c;
  }

  /** Whether `id` is shown under the current focus and "only matches". */
  function visible(id) {
    const { focusSet, matches } = state;
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
    if (els.only.checked && matches.query) {
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

  function create() {
    if (saved) {
      view.expanded = new Set(saved.expanded || []);
      view.collapsed = new Set(saved.collapsed || []);
    }
    view.collapseAll = store.namespaces.size > cfg.collapseThreshold;
    view.flatHosts = store.namespaces.size > cfg.collapseThreshold;
    view.autoCollapsed = M.crowdedNamespaces(store, NS_IF_LIMIT);
    const elements = placeAll();
    const big = bigMode;
    cy = cytoscape({
      container: els.graph,
      elements,
      layout: { name: "preset", fit: false },
      style: graphStyle(big),
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
    wire();
    if (on.created) on.created(cy);
    cy.one("render", () => {
      requestAnimationFrame(() => {
        if (metrics.firstRenderMs == null) metrics.firstRenderMs = performance.now() - ctx.tSourceStart;
        ctx.renderedResolve(metrics.firstRenderMs);
      });
    });
    cy.forceRender?.();
    const leaves = cy.nodes().filter((n) => n.isChildless()).length;
    if (!saved && !view.collapseAll && leaves <= 120 && hasFcose) arrange(false);
  }

  /**
   * Every element of the view placed afresh (a saved position first, else the shelf layout):
   * sets current, slots and the scale mode; returns the cytoscape elements to add.
   */
  function placeAll() {
    current = M.buildElements(store, view);
    const shelf = M.shelfLayout(store, view);
    slots = shelf.slots;
    bigMode = current.size > BIG;
    els.allEdges.parentElement.hidden = !bigMode;
    return [...current.values()].map((d) =>
      toEl(d, d.group === "nodes" ? savedPos(d.data.id) || shelf.pos.get(d.data.id) : null),
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

  function wire() {
    cy.on("tap", "node", (ev) => on.tap(ev.target.id()));
    cy.on("tap", "edge", (ev) => on.tapEdge(ev.target));
    cy.on("tap", (ev) => {
      if (ev.target === cy) on.tapBackground();
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

  // Patches reach the store at once; the picture follows at most every 150 ms at scale, so a
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

  /** Bring cytoscape in line with the store: add, update, fade out; never relayout. */
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
      const placed = new Map();
      const adds = [];
      for (const n of d.add) {
        const old = cy.getElementById(n.data.id);
        if (old.nonempty()) {
          fading.delete(old);
          old.remove();
        }
        let p = null;
        if (n.group === "nodes") {
          p = placeNew(n, placed);
          placed.set(n.data.id, p);
        }
        adds.push(toEl(n, p));
      }
      if (adds.length) added.push(...cy.add(adds));
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
    if (view.flatHosts) growFrames(d.add);
    if (animate) flashAdded(added, flash);
  }

  /** Grow a host's frame around a namespace that arrived (never a full re-measure per patch). */
  function growFrames(adds) {
    for (const n of adds) {
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

  function flashAdded(added, flash) {
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

  /** Mark `id` (or nothing) as the selection in the picture. */
  function markSelected(id) {
    if (cy) {
      cy.elements(".sel").removeClass("sel");
      cy.elements(":selected").unselect();
      const ele = id ? drawnAs(id) : cy.collection();
      if (ele.nonempty()) {
        ele.select();
        if (store.interfaces.has(id)) edgesOf(id).addClass("sel");
      }
    }
    refreshEdges();
  }

  /**
   * Bring `id` into view from anywhere (search result, peer link, table): expand its namespace,
   * frame it with its peer. A crowded namespace (hundreds of host-side veths in root) stays a
   * box: expanded it would be an unreadable grid, and the details panel answers.
   */
  function reveal(id) {
    const o = store.get(id);
    if (!o || !cy) return;
    const nsId = store.interfaces.has(id) ? o.namespace : null;
    if (nsId && !M.isExpanded(nsId, view) && !view.autoCollapsed.has(nsId)) {
      view.expanded.add(nsId);
      view.collapsed.delete(nsId);
      sync({ animate: false });
      saveLayout();
    }
    const ele = drawnAs(id);
    if (ele.nonempty()) {
      // An interface with its peer in view: the answer to "which veth is this eth0's"
      // (unless they are so far apart that both would be too small to read).
      const peer = o.peer && store.interfaces.has(o.peer) ? drawnAs(o.peer) : cy.collection();
      frameEles(peer.nonempty() && peer.visible() && !peer.same(ele) ? ele.union(peer) : ele, 60, ele);
    }
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
    on.expanded(nsId);
  }

  /** Expand (true) or collapse (false) everything: a new picture, placed afresh. */
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
    cy.elements().remove();
    saved = null;
    const elements = placeAll();
    cy.style(graphStyle(bigMode));
    cy.add(elements);
    fitAll();
    saveLayout();
  }

  /** At scale: show the collapsed-level edges of the selection, the matches and the focus. */
  function refreshEdges() {
    if (!cy || !bigMode) return;
    // Whole boxes show all their edges; an interface inside a collapsed box shows its own only
    // (selecting one host-side veth must not draw root's thousand pairs).
    const { selected, matches, focusSet } = state;
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
      if (els.allEdges.checked) {
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

  /** Highlight search results (ids of interfaces and namespaces); frame them if asked. */
  function markMatches(ids, frame) {
    if (!cy) return;
    cy.batch(() => {
      cy.elements(".match").removeClass("match");
      for (const id of ids) {
        const ele = cy.getElementById(id);
        if (ele.nonempty()) ele.addClass("match");
        else if (store.interfaces.has(id)) cy.getElementById(store.interfaces.get(id).namespace).addClass("match");
      }
    });
    applyVisibility();
    refreshEdges();
    if (frame) {
      const m = cy.elements(".match");
      if (m.length) frameEles(m);
    }
  }

  function arrange(animate = true) {
    if (!cy || !hasFcose) return;
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
    layout.forget(); // setAll queued a save: cancelled with the stored layout
  }

  /** A patch reached the store: follow it (coalesced), or switch to the scale rules once. */
  function onPatch(touched) {
    if (!cy) return;
    if (!view.flatHosts && store.namespaces.size > 2 * cfg.collapseThreshold) {
      setAll(false); // grew from a few namespaces to many while open
    } else if (touched.kinds.has("interfaces") && crowdingChanged()) {
      sync({ animate: false }); // a namespace crossed NS_IF_LIMIT: boxes change, full diff
    } else queueSync(touched);
  }

  const animateFit = (eles) => cy?.animate({ fit: { eles, padding: 30 } }, { duration: 200 });
  const zoomBy = (f) => cy?.zoom({ level: cy.zoom() * f, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });

  if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => cy?.resize()).observe(els.graph);

  return {
    /** Draw the graph (first time) or bring it in line after the table was shown. */
    show() {
      if (!cy) create();
      else {
        cy.resize();
        sync({ animate: false });
      }
    },
    sync,
    onPatch,
    saveLayout,
    setAll,
    toggleExpand,
    arrange,
    resetLayout,
    reveal,
    markSelected,
    markMatches,
    applyVisibility,
    refreshEdges,
    visible,
    fitShown: () => cy && animateFit(cy.elements().not(".hidden")),
    fitAll: () => cy && animateFit(cy.elements()),
    frameShown: () => cy && frameEles(cy.elements().not(".hidden"), 40),
    zoomIn: () => zoomBy(1.25),
    zoomOut: () => zoomBy(1 / 1.25),
    get cy() {
      return cy;
    },
    /** For tests: the drawn edge between two interfaces (or their collapsed namespaces), if any. */
    edgeBetween(a, b) {
      if (!cy) return null;
      const x = current.get(a) ? a : store.interfaces.get(a)?.namespace;
      const y = current.get(b) ? b : store.interfaces.get(b)?.namespace;
      const e = cy.getElementById(x).edgesWith(cy.getElementById(y)).not(".gone");
      return e.length ? e[0].id() : null;
    },
  };
}
