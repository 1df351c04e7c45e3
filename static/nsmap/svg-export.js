// SVG export of what Cytoscape shows, from its public API only (positions, sizes, bounding boxes,
// computed styles): our own code instead of the GPL-licensed cytoscape-svg plugin. One <g> per
// drawn node or edge (class "node" / "edge", data-id), in Cytoscape's drawing order, so the file
// can be opened, searched and restyled. Labels are always written, even when Cytoscape hides them
// at the current zoom: an SVG is meant to be zoomed into.

const XML_BAD = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text or attribute value safe for XML 1.0: markup escaped, characters XML forbids dropped. */
export function xmlEscape(s) {
  return String(s ?? "")
    .replace(XML_BAD, "")
    .replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]);
}

const r2 = (v) => Math.round(v * 100) / 100;

// Unit polygons of Cytoscape's node shapes (x, y in [-1, 1], y down), as its renderer builds them.
function ngon(n) {
  const step = (2 * Math.PI) / n;
  const start = n % 2 === 0 ? Math.PI / 2 + step / 2 : Math.PI / 2;
  const pts = [];
  for (let k = 0; k < n; k++) pts.push([Math.cos(start + k * step), Math.sin(-(start + k * step))]);
  // Stretched to fill the square, like Cytoscape's "fit to square" polygons.
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  return pts.map(([x, y]) => [((x - x0) / (x1 - x0)) * 2 - 1, ((y - y0) / (y1 - y0)) * 2 - 1]);
}
const POLYGONS = {
  triangle: ngon(3),
  pentagon: ngon(5),
  hexagon: ngon(6),
  heptagon: ngon(7),
  octagon: ngon(8),
  diamond: [[0, -1], [1, 0], [0, 1], [-1, 0]],
  vee: [[-1, -1], [0, -0.333], [1, -1], [0, 1]],
  rhomboid: [[-1, -1], [0.333, -1], [1, 1], [-0.333, 1]],
  star: (() => {
    const pts = [];
    for (let k = 0; k < 10; k++) {
      const a = -Math.PI / 2 + (k * Math.PI) / 5;
      const r = k % 2 ? 0.382 : 1;
      pts.push([r * Math.cos(a), r * Math.sin(a)]);
    }
    return pts;
  })(),
};

const DASH = { dashed: "6 3", dotted: "1 2" };

function num(ele, prop) {
  const v = ele.pstyle(prop);
  return v ? Number(v.pfValue ?? v.value) || 0 : 0;
}

function str(ele, prop) {
  const v = ele.pstyle(prop);
  return v ? String(v.strValue ?? v.value ?? "") : "";
}

/** The SVG element for a node's body: its shape at its position and padded size. */
function nodeShape(node, attrs) {
  const { x, y } = node.position();
  const bw = num(node, "border-width");
  const w = Math.max(0, node.outerWidth() - bw);
  const h = Math.max(0, node.outerHeight() - bw);
  const shape = str(node, "shape");
  if (shape === "ellipse") return `<ellipse cx="${r2(x)}" cy="${r2(y)}" rx="${r2(w / 2)}" ry="${r2(h / 2)}"${attrs}/>`;
  const poly = POLYGONS[shape];
  if (poly) {
    const pts = poly.map(([px, py]) => `${r2(x + (px * w) / 2)},${r2(y + (py * h) / 2)}`).join(" ");
    return `<polygon points="${pts}"${attrs}/>`;
  }
  // Rectangles and everything else: Cytoscape's round-rectangle radius, min(w/4, h/4, 8).
  const rx = /round/.test(shape) ? Math.min(w / 4, h / 4, 8) : 0;
  return `<rect x="${r2(x - w / 2)}" y="${r2(y - h / 2)}" width="${r2(w)}" height="${r2(h)}"${rx ? ` rx="${r2(rx)}"` : ""}${attrs}/>`;
}

let measureCtx = null;
function measure(text, font) {
  if (!measureCtx) measureCtx = document.createElement("canvas").getContext("2d");
  measureCtx.font = font;
  return measureCtx.measureText(text).width;
}

/** The label's lines as Cytoscape draws them: explicit line breaks, wrapping, or an ellipsis. */
function labelLines(ele, text, font) {
  const mode = str(ele, "text-wrap");
  const max = num(ele, "text-max-width");
  if (mode === "none") return [text.replace(/\n/g, " ")];
  if (mode === "ellipsis") {
    let t = text.replace(/\n/g, " ");
    if (!max || measure(t, font) <= max) return [t];
    while (t.length && measure(`${t}…`, font) > max) t = t.slice(0, -1);
    return [`${t}…`];
  }
  const lines = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(" ")) {
      const next = line ? `${line} ${word}` : word;
      if (line && max && measure(next, font) > max) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    lines.push(line);
  }
  return lines;
}

/** A <text> at the centre of the box Cytoscape computed for the element's label. */
function labelSvg(ele) {
  const text = str(ele, "label");
  if (!text) return "";
  const bb = ele.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false });
  if (!Number.isFinite(bb.x1) || bb.w === 0) return "";
  const size = num(ele, "font-size");
  const weight = str(ele, "font-weight") || "normal";
  const style = str(ele, "font-style") || "normal";
  const family = str(ele, "font-family");
  const lines = labelLines(ele, text, `${style} ${weight} ${size}px ${family}`);
  const lh = size * (num(ele, "line-height") || 1);
  const cx = (bb.x1 + bb.x2) / 2;
  const top = (bb.y1 + bb.y2) / 2 - (lines.length * lh) / 2;
  const opacity = num(ele, "text-opacity");
  const attrs =
    `x="${r2(cx)}" text-anchor="middle" dominant-baseline="central" font-size="${r2(size)}"` +
    `${weight !== "normal" ? ` font-weight="${xmlEscape(weight)}"` : ""}${style !== "normal" ? ` font-style="${xmlEscape(style)}"` : ""}` +
    ` fill="${xmlEscape(str(ele, "color"))}"${opacity < 1 ? ` fill-opacity="${r2(opacity)}"` : ""}`;
  if (lines.length === 1) return `<text y="${r2(top + lh / 2)}" ${attrs}>${xmlEscape(lines[0])}</text>`;
  const spans = lines.map((l, k) => `<tspan x="${r2(cx)}" y="${r2(top + (k + 0.5) * lh)}">${xmlEscape(l)}</tspan>`);
  return `<text ${attrs}>${spans.join("")}</text>`;
}

function overlaySvg(node) {
  const o = num(node, "overlay-opacity");
  if (!(o > 0)) return "";
  const { x, y } = node.position();
  const pad = num(node, "overlay-padding");
  const w = node.outerWidth() + 2 * pad;
  const h = node.outerHeight() + 2 * pad;
  return `<rect class="overlay" x="${r2(x - w / 2)}" y="${r2(y - h / 2)}" width="${r2(w)}" height="${r2(h)}" rx="4" fill="${xmlEscape(str(node, "overlay-color"))}" fill-opacity="${r2(o)}"/>`;
}

function nodeSvg(node) {
  const bw = num(node, "border-width");
  const bs = str(node, "border-style");
  const attrs =
    ` fill="${xmlEscape(str(node, "background-color"))}" fill-opacity="${r2(num(node, "background-opacity"))}"` +
    (bw > 0
      ? ` stroke="${xmlEscape(str(node, "border-color"))}" stroke-width="${r2(bw)}" stroke-opacity="${r2(num(node, "border-opacity"))}"${DASH[bs] ? ` stroke-dasharray="${DASH[bs]}"` : ""}`
      : "");
  return nodeShape(node, attrs) + overlaySvg(node) + labelSvg(node);
}

/** The edge's path: straight between its endpoints, or through Cytoscape's control/segment points. */
function edgePath(edge) {
  const s = edge.sourceEndpoint() || edge.source().position();
  const t = edge.targetEndpoint() || edge.target().position();
  const curve = str(edge, "curve-style");
  let d = `M${r2(s.x)},${r2(s.y)}`;
  const seg = curve === "segments" ? edge.segmentPoints() : null;
  const ctrl = /bezier/.test(curve) ? edge.controlPoints() : null;
  if (seg && seg.length) d += seg.map((p) => ` L${r2(p.x)},${r2(p.y)}`).join("") + ` L${r2(t.x)},${r2(t.y)}`;
  else if (ctrl && ctrl.length) {
    // Cytoscape chains quadratic curves, passing through the midpoints between control points.
    for (let k = 0; k < ctrl.length; k++) {
      const end = k === ctrl.length - 1 ? t : { x: (ctrl[k].x + ctrl[k + 1].x) / 2, y: (ctrl[k].y + ctrl[k + 1].y) / 2 };
      d += ` Q${r2(ctrl[k].x)},${r2(ctrl[k].y)} ${r2(end.x)},${r2(end.y)}`;
    }
  } else d += ` L${r2(t.x)},${r2(t.y)}`;
  return d;
}

function edgeSvg(edge) {
  const ls = str(edge, "line-style");
  const w = num(edge, "width");
  const path =
    `<path d="${edgePath(edge)}" fill="none" stroke="${xmlEscape(str(edge, "line-color"))}" stroke-width="${r2(w)}"` +
    `${DASH[ls] ? ` stroke-dasharray="${DASH[ls]}"` : ""} stroke-linecap="butt"/>`;
  return path + labelSvg(edge);
}

/** Cytoscape's drawing order: z-compound-depth, then nesting depth, edges under nodes, then z-index. */
function drawOrder(eles) {
  const zcd = { bottom: -1, auto: 0, top: 1 };
  const depth = (n) => n.parents().length;
  const keyed = eles.map((ele, i) => {
    const d = ele.isNode() ? depth(ele) : Math.max(depth(ele.source()), depth(ele.target()));
    return [zcd[str(ele, "z-compound-depth")] ?? 0, d, ele.isNode() ? 1 : 0, num(ele, "z-index"), i, ele];
  });
  keyed.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3] || a[4] - b[4]);
  return keyed.map((k) => k[5]);
}

function intersects(a, b) {
  return a.x1 <= b.x2 && a.x2 >= b.x1 && a.y1 <= b.y2 && a.y2 >= b.y1;
}

/**
 * The current view of `cy` as an SVG document (a string). full: the whole drawing instead of the
 * viewport; bg: background colour or null; title: the document's <title>.
 */
export function toSvg(cy, { full = false, bg = "#ffffff", title = "nsmap" } = {}) {
  const shown = cy.elements().filter((e) => e.visible() && e.effectiveOpacity() > 0);
  let box;
  if (full) {
    const bb = shown.boundingBox();
    const pad = 20;
    box = Number.isFinite(bb.x1) ? { x1: bb.x1 - pad, y1: bb.y1 - pad, x2: bb.x2 + pad, y2: bb.y2 + pad } : { x1: 0, y1: 0, x2: 1, y2: 1 };
  } else {
    const e = cy.extent();
    box = { x1: e.x1, y1: e.y1, x2: e.x2, y2: e.y2 };
  }
  const w = box.x2 - box.x1;
  const h = box.y2 - box.y1;
  const scale = full ? 1 : cy.zoom();
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${r2(w * scale)}" height="${r2(h * scale)}" viewBox="${r2(box.x1)} ${r2(box.y1)} ${r2(w)} ${r2(h)}" font-family="${xmlEscape(str(cy.nodes().first(), "font-family") || "sans-serif")}">`,
    `<title>${xmlEscape(title)}</title>`,
  ];
  if (bg) out.push(`<rect class="background" x="${r2(box.x1)}" y="${r2(box.y1)}" width="${r2(w)}" height="${r2(h)}" fill="${xmlEscape(bg)}"/>`);
  for (const ele of drawOrder(shown)) {
    if (!intersects(ele.boundingBox(), box)) continue;
    const op = ele.effectiveOpacity();
    const cls = `${ele.isNode() ? "node" : "edge"} ${ele.classes().join(" ")}`.trim();
    out.push(
      `<g class="${xmlEscape(cls)}" data-id="${xmlEscape(ele.id())}"${op < 1 ? ` opacity="${r2(op)}"` : ""}>` +
        (ele.isNode() ? nodeSvg(ele) : edgeSvg(ele)) +
        "</g>",
    );
  }
  out.push("</svg>");
  return out.join("\n");
}
