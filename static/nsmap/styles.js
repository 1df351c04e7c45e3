// Cytoscape's stylesheet for the graph: shapes per interface kind, colours per state, and the
// cheaper settings used at scale (`big`). Colours match the legend in nsmap.css.
import { GEOM } from "./model.js";

/** The Cytoscape style for a graph of normal size, or a big one (edges between boxes hidden). */
export function graphStyle(big) {
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
        width: GEOM.collW - 16,
        height: GEOM.collH - 16,
        "text-valign": "center",
        "text-wrap": "ellipsis",
        "text-max-width": GEOM.collW - 24,
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
        "text-max-width": GEOM.ifW - 8,
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
    // A ping's outcome on the link it left by (actions.js): small, on a light plate, level.
    {
      selector: "edge[label != '']",
      style: {
        label: "data(label)",
        "font-size": 10,
        color: "#1f2933",
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.9,
        "text-background-padding": 2,
        "text-background-shape": "roundrectangle",
        "text-border-color": "#1971c2",
        "text-border-width": 1,
        "text-border-opacity": 0.6,
      },
    },
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
    // a time-travel diff (static/nsmap/timetravel.js): colour and line style both say which
    { selector: ".diff-added", style: { "border-width": 4, "border-color": "#2b8a3e", "border-style": "double" } },
    { selector: ".diff-removed", style: { "border-width": 3, "border-color": "#c92a2a", "border-style": "dashed", opacity: 0.6 } },
    { selector: ".diff-changed, .diff-inside", style: { "border-width": 4, "border-color": "#e67700" } },
    // a link being drawn (edgehandles, actions.js): a draft, never a real edge
    { selector: "edge.eh-preview, edge.eh-ghost-edge", style: { width: 3, "line-color": "#1971c2", "line-style": "dashed", opacity: 0.9 } },
    { selector: "node.eh-ghost-node", style: { width: 1, height: 1, opacity: 0, label: "", events: "no" } },
    { selector: "node.eh-source, node.eh-target", style: { "border-width": 4, "border-color": "#1971c2" } },
  ];
}

const BADGE = { UP: "st st-up", DOWN: "st st-down", "NO-CARRIER": "st st-no-carrier" };

/** The CSS class of a state badge (UP / DOWN / NO-CARRIER; anything else looks neutral). */
export function badgeClass(state) {
  return BADGE[state] || "st st-other";
}
