// The lab actions' gestures on the graph: the right-click menu (cxtmenu) offering an object's
// choices, "Draw links" (edgehandles: a link drawn between two namespaces, or to a bridge, opens
// the new veth pair's form) and dropping an interface into another namespace's box (opens its
// move form). What each gesture opens lives in actions.js; this module only reads the gesture.
import * as M from "./model.js";
import { h } from "./dom.js";

/**
 * initGestures(ctx, {graph, choices, past, vethForm, moveForm, showRefusal, say}) ->
 * {attach(cy), setMode(m)}: the callbacks are actions.js's (what an object offers, whether a past
 * moment is shown, the forms a gesture opens, a refusal, an announcement).
 */
export function initGestures(ctx, { graph, choices, past, vethForm, moveForm, showRefusal, say }) {
  const { store, root, els } = ctx;
  const ifOf = (id) => store.interfaces.get(id);
  const nsOf = (id) => store.namespaces.get(id);
  const isBridge = (i) => M.ifKind(i) === "bridge";

  const drawBtn = h("button", { type: "button", class: "nsm-draw", "aria-pressed": "false", title: "Drag from a namespace or an interface to another namespace (or a bridge) to make a veth pair" }, "Draw links");
  els.toolbar.querySelector(".nsm-tools .nsm-group")?.after(h("div", { class: "nsm-group", role: "group", "aria-label": "Lab" }, drawBtn));
  let eh = null;

  /** Where a drawn link's end lands: {ns} for a namespace (or an interface's namespace), {bridge} for a bridge. */
  function endOf(node) {
    const id = node.id();
    if (store.namespaces.has(id)) return { ns: id };
    const i = ifOf(id);
    if (!i) return null;
    return isBridge(i) ? { ns: i.namespace, bridge: id } : { ns: i.namespace };
  }

  function attach(cy) {
    cy.cxtmenu({
      selector: "node.ns, node.if",
      openMenuEvents: "cxttapstart",
      fillColor: "rgba(31, 41, 51, 0.92)",
      activeFillColor: "rgba(25, 113, 194, 0.95)",
      itemColor: "#ffffff",
      menuRadius: () => 110,
      commands: (ele) => {
        const opts = past() ? [] : choices(store.get(ele.id()));
        if (!opts.length) return [{ content: h("span", { class: "nsm-cxt-item" }, past() ? "Back to Live to act" : "Nothing to do here"), enabled: false }];
        return opts.map(([label, fn]) => ({ content: h("span", { class: "nsm-cxt-item" }, label.replace("…", "")), select: () => fn() }));
      },
    });
    eh = cy.edgehandles({
      snap: false,
      hoverDelay: 100,
      noEdgeEventsInDraw: true,
      disableBrowserGestures: true,
      canConnect: (source, target) => {
        const s = endOf(source);
        const t = endOf(target);
        return !!(s && t && !past() && !source.same(target) && (s.ns !== t.ns || s.bridge || t.bridge));
      },
      edgeParams: () => ({ data: { kind: "draft" } }),
    });
    cy.on("ehcomplete", (event, source, target, added) => {
      added.remove();
      const s = endOf(source);
      const t = endOf(target);
      if (!s || !t) return;
      // From a bridge to a namespace: the namespace holds the first end, the bridge takes the other.
      if (s.bridge && !t.bridge) vethForm(t.ns, s.bridge);
      else vethForm(s.ns, t.bridge || t.ns);
    });
    cy.on("ehstop", () => cy.edges('[kind = "draft"]').remove()); // a draft never stays in the picture

    // Drop an interface into another namespace's box: ask to move it; it goes back either way
    // (the kernel's report draws it in its new place).
    let grabbed = null;
    cy.on("grab", "node.if", (ev) => {
      grabbed = { id: ev.target.id(), pos: { ...ev.target.position() } };
    });
    cy.on("free", "node.if", (ev) => {
      const node = ev.target;
      const g = grabbed;
      grabbed = null;
      if (!g || g.id !== node.id()) return;
      const i = ifOf(node.id());
      const p = node.position();
      if (!i || past() || (Math.abs(p.x - g.pos.x) < 2 && Math.abs(p.y - g.pos.y) < 2)) return;
      const into = dropTarget(cy, node, i);
      if (!into) return;
      const back = () => {
        if (node.removed()) return;
        node.position(g.pos);
        graph.saveLayout();
      };
      const ns = nsOf(into);
      if (ns.host !== i.host) {
        back();
        showRefusal(`${i.name} cannot move to ${M.nsLabel(ns)}: it is on another host (${ns.host}).`);
        return;
      }
      moveForm(i, into, back);
    });
  }

  /** The namespace box (other than its own) an interface was dropped into, the innermost one. */
  function dropTarget(cy, node, i) {
    const p = node.position();
    let best = null;
    let area = Infinity;
    cy.nodes("node.ns").forEach((n) => {
      if (n.id() === i.namespace || n.hasClass("gone") || !n.visible()) return;
      const bb = n.boundingBox({ includeLabels: false });
      if (p.x < bb.x1 || p.x > bb.x2 || p.y < bb.y1 || p.y > bb.y2) return;
      if (bb.w * bb.h < area) {
        area = bb.w * bb.h;
        best = n.id();
      }
    });
    return best;
  }

  function setDrawing(on) {
    drawBtn.setAttribute("aria-pressed", String(on));
    if (on) eh.enableDrawMode();
    else eh.disableDrawMode();
    root.classList.toggle("nsm-drawing", on);
    say(on ? "Draw links on: drag from a namespace or an interface to another namespace or a bridge." : "Draw links off: dragging moves things again.", false);
  }
  drawBtn.addEventListener("click", () => eh && setDrawing(drawBtn.getAttribute("aria-pressed") !== "true"));

  return {
    attach,
    /** Drawing is for the graph view: off and disabled in the table. */
    setMode(m) {
      if (m !== "graph" && drawBtn.getAttribute("aria-pressed") === "true") setDrawing(false);
      drawBtn.disabled = m !== "graph";
    },
  };
}
