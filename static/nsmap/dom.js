// The one way the page turns data into DOM: elements built with text nodes, never markup from
// strings. Every value a server or an agent sent (names, addresses, error messages...) goes
// through h() or textContent.

/**
 * h("td", {class: "mono", dataset: {id}}, "text", child, [more], null) -> an element.
 * Children: strings and numbers become text nodes, null / undefined / false are skipped, arrays
 * are flattened. Props: "class", "dataset" (object), "hidden"/"disabled" (booleans), "on"
 * ({event: handler}); everything else is set as an attribute.
 */
export function h(tag, props = null, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replace the children of `el` (same child rules as h()). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Items joined by a separator (a string or a function returning a fresh node). */
export function joined(items, sep) {
  const out = [];
  items.forEach((x, k) => {
    if (k) out.push(typeof sep === "function" ? sep() : sep);
    out.push(x);
  });
  return out;
}

/**
 * What identifies a control across a re-render: its data-* attributes, and where it sits (its
 * row's data-id and its cell), since a table holds the same link in many rows.
 */
export function focusKey(el) {
  if (!el || !el.dataset) return null;
  const d = Object.entries(el.dataset)
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  if (!d) return el.id ? `#${el.id}` : null;
  const row = el.parentElement?.closest("[data-id]");
  const cell = el.closest("td, th");
  return `${row ? row.dataset.id : ""}|${cell ? cell.cellIndex : ""}|${el.tagName}|${d}`;
}

/**
 * Run `render` (which rebuilds part of `container`) and give the focus back to the same control
 * (same data-* attributes) if it had it; else to `fallback` (if the focus was inside and its
 * control is gone), so a live update never drops the keyboard user back to <body>.
 */
export function keepFocus(container, render, fallback = container) {
  const active = document.activeElement;
  const inside = active && active !== document.body && container.contains(active);
  const key = inside ? focusKey(active) : null;
  render();
  if (!inside || container.contains(active)) return;
  (findByKey(container, key) || fallback)?.focus({ preventScroll: true });
}

/** The control in `container` that focusKey() names `key`, or null. */
export function findByKey(container, key) {
  if (!key) return null;
  for (const el of container.querySelectorAll("button, a, input, summary, [tabindex]")) {
    if (focusKey(el) === key) return el;
  }
  return null;
}

/** Whether two Sets hold the same items. */
export function sameSet(a, b) {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
