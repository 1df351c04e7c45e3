// Export: the view as PNG (Cytoscape's own renderer) or SVG (svg-export.js), the graph as JSON
// or Graphviz dot. Files are named nsmap-YYYYMMDD-HHMMSS.ext.
import * as M from "./model.js";
import { toSvg } from "./svg-export.js";

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

/** initExport(ctx, {showGraph(), cy()}) -> {exportAs(kind), dot(), svg(opts)}. */
export function initExport(ctx, on) {
  const { store } = ctx;
  return {
    /** kind: "png" | "svg" (the graph as drawn; switches to it) | "json" | "dot". */
    exportAs(kind) {
      if (kind === "png" || kind === "svg") on.showGraph();
      const cy = on.cy();
      const name = `nsmap-${stamp()}.${kind}`;
      if (kind === "png") download(name, cy.png({ output: "blob", bg: "#ffffff", scale: 2, full: false }));
      else if (kind === "svg") download(name, new Blob([toSvg(cy, { title: `nsmap ${stamp()}` })], { type: "image/svg+xml" }));
      else if (kind === "json") download(name, new Blob([JSON.stringify(store.toGraph(), null, 1)], { type: "application/json" }));
      else if (kind === "dot") download(name, new Blob([M.toDot(store)], { type: "text/vnd.graphviz" }));
    },
    dot: () => M.toDot(store),
    /** The SVG the "SVG (view)" export downloads (options: full, bg, title). */
    svg: (opts) => (on.cy() ? toSvg(on.cy(), opts) : null),
  };
}
