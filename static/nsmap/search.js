// Search: M.search over the store, results listed above the details panel, matches marked in the
// graph and filtering the table; the count is announced to screen readers, an unknown field
// (`bogus:zz`) is named, and "only matches" with no match says what to do instead of an empty box.
import * as M from "./model.js";
import { fill, h, sameSet } from "./dom.js";

const SHOWN = 60; // results listed; the rest are in the table

/** Fields the user typed as `word:` that the search does not know (then searched as text). */
export function unknownFields(q) {
  const out = [];
  for (const raw of String(q || "").trim().split(/\s+/)) {
    const m = raw.match(/^([a-z]+):./i);
    if (m && M.parseQuery(raw)[0]?.field == null) out.push(m[1].toLowerCase());
  }
  return out;
}

/** initSearch(ctx, {graph, table}) -> {run(frame), rematch(touched), showEmpty()}. */
export function initSearch(ctx, parts) {
  const { store, state, els } = ctx;

  function setMatches(r, q) {
    const inNs = new Set();
    for (const id of r.interfaces) inNs.add(store.interfaces.get(id).namespace);
    state.matches = { interfaces: new Set(r.interfaces), namespaces: new Set(r.namespaces), inNs, query: q };
  }

  function describe(total, q, bad) {
    const count = `${total} match${total === 1 ? "" : "es"} for “${q}”`;
    if (!bad.length) return count;
    const names = bad.map((f) => `“${f}:”`).join(", ");
    return `${count} — ${names} ${bad.length === 1 ? "is not a search field" : "are not search fields"}, searched as text (press ? for the fields)`;
  }

  /** "Only matches" with no match in the graph: say so, and what to do, instead of an empty box. */
  function showEmpty() {
    const { query: q, interfaces, namespaces } = state.matches;
    const empty = !!q && interfaces.size + namespaces.size === 0 && els.only.checked && state.mode === "graph";
    els.empty.hidden = !empty;
    if (empty) fill(els.empty, `Nothing matches “${q}”, so nothing is shown. Change the search, press Clear, or untick “only matches”.`);
  }

  /** Search for what the box says; `frame`: bring the matches into view. */
  function run(frame = true) {
    const q = els.q.value.trim();
    const r = M.search(store, q);
    setMatches(r, q);
    parts.graph.markMatches([...r.interfaces, ...r.namespaces], frame && !!q);
    const total = r.interfaces.length + r.namespaces.length;
    const bad = unknownFields(q);
    if (!q) {
      fill(els.results);
      els.announce.textContent = "";
    } else {
      const items = [
        ...r.namespaces.map((id) => ({ id, text: M.nsLabel(store.namespaces.get(id)), sub: "namespace" })),
        ...r.interfaces.map((id) => {
          const i = store.interfaces.get(id);
          return { id, text: M.ifLabel(i, store), sub: M.nsLabel(store.namespaces.get(i.namespace)) };
        }),
      ];
      const text = describe(total, q, bad);
      fill(
        els.results,
        h("h2", null, text),
        h(
          "ul",
          { class: "nsm-hits" },
          items.slice(0, SHOWN).map((x) => h("li", null, h("button", { type: "button", class: "link", dataset: { select: x.id } }, x.text), " ", h("span", { class: "muted" }, x.sub))),
          items.length > SHOWN && h("li", { class: "muted" }, `… ${items.length - SHOWN} more (refine the search or use the table)`),
          !total && h("li", { class: "muted" }, "Try part of a name, an address, or a field such as kind:veth or state:down."),
        ),
      );
      els.announce.textContent = text;
    }
    ctx.root.classList.toggle("nsm-has-results", !!q);
    showEmpty();
    parts.table.firstPage();
    parts.table.render();
    return r;
  }

  /** A patch changed the store: recompute the matches before it is drawn; true when "only
   * matches" must show or hide namespace boxes because of it. */
  function rematch(touched) {
    const { query } = state.matches;
    if (!query || !(touched.added.length || touched.changed.length || touched.removed.length)) return false;
    const was = state.matches;
    setMatches(M.search(store, query), query);
    showEmpty();
    const now = state.matches;
    return els.only.checked && !(sameSet(was.namespaces, now.namespaces) && sameSet(was.inNs, now.inNs));
  }

  return { run, rematch, showEmpty };
}
