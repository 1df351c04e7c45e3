// The table view: the same data as rows of interfaces, sortable, filtered by the search and the
// focus, 500 rows a page. Rebuilt from the store (at most every 250 ms while patches arrive),
// keeping the keyboard focus on the same control.
import * as M from "./model.js";
import { fill, h, keepFocus } from "./dom.js";
import { badgeClass } from "./styles.js";

const PAGE = 500; // table rows per page

// Key columns (host, namespace, interface, state) stay on a narrow screen; the rest go first.
const COLUMNS = [
  ["host", "Host", "key"],
  ["namespace", "Namespace", "key"],
  ["name", "Interface", "key"],
  ["kind", "Kind", ""],
  ["state", "State", "key"],
  ["ifindex", "ifindex", "opt"],
  ["peer", "Peer", ""],
  ["master", "Master", "opt"],
  ["mac", "MAC", "opt"],
  ["mtu", "MTU", "opt"],
  ["addresses", "Addresses", ""],
];

/** initTable(ctx) -> {render(), schedule(), invalidate(), firstPage(), markSelected(id)}. */
export function initTable(ctx) {
  const { store, state, els } = ctx;
  const tableEl = els.table;
  const head = tableEl.querySelector("thead tr");
  const body = tableEl.querySelector("tbody");
  const info = tableEl.querySelector(".nsm-table-info");
  const pager = tableEl.querySelector(".nsm-pager");
  let sort = { key: "namespace", dir: "asc", page: 0 };
  let rowsCache = null;
  let timer = null;

  const link = (id, text) => h("button", { type: "button", class: "link", dataset: { select: id } }, text);

  function rowOf(r) {
    return h(
      "tr",
      { class: state.selected === r.id ? "sel" : null, dataset: { id: r.id } },
      h("td", null, r.host),
      h("td", null, link(r.nsId, r.namespace)),
      h("td", null, link(r.id, r.name)),
      h("td", null, r.kind),
      h("td", null, h("span", { class: badgeClass(r.state) }, r.state)),
      h("td", { class: "opt" }, r.ifindex),
      h("td", null, r.peerId ? link(r.peerId, r.peer) : r.peer),
      h("td", { class: "opt" }, r.master),
      h("td", { class: "mono opt" }, r.mac),
      h("td", { class: "opt" }, r.mtu),
      h("td", { class: "mono" }, r.addresses),
    );
  }

  function render() {
    if (state.mode !== "table") return;
    if (!rowsCache) rowsCache = M.tableRows(store);
    const { matches, focusSet } = state;
    let rows = rowsCache;
    if (matches.query) rows = rows.filter((r) => matches.interfaces.has(r.id) || matches.namespaces.has(r.nsId));
    if (focusSet) rows = rows.filter((r) => focusSet.has(r.nsId));
    rows = M.sortRows(rows.slice(), sort.key, sort.dir);
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    sort.page = Math.min(sort.page, pages - 1);
    const start = sort.page * PAGE;
    const slice = rows.slice(start, start + PAGE);
    keepFocus(tableEl, () => {
      fill(
        head,
        COLUMNS.map(([k, label, cls]) => {
          const s = sort.key === k ? (sort.dir === "asc" ? "ascending" : "descending") : "none";
          const arrow = s === "ascending" ? " ▲" : s === "descending" ? " ▼" : "";
          return h("th", { scope: "col", class: cls === "opt" ? "opt" : null, "aria-sort": s }, h("button", { type: "button", dataset: { sort: k } }, label + arrow));
        }),
      );
      fill(body, slice.map(rowOf));
      fill(
        pager,
        pages > 1 && [
          h("button", { type: "button", dataset: { page: sort.page - 1 }, disabled: sort.page === 0 }, "‹ Previous"),
          h("span", null, `page ${sort.page + 1} of ${pages}`),
          h("button", { type: "button", dataset: { page: sort.page + 1 }, disabled: sort.page >= pages - 1 }, "Next ›"),
        ],
      );
    });
    info.textContent =
      `${rows.length} of ${rowsCache.length} interfaces${matches.query ? ` matching “${matches.query}”` : ""}` +
      (pages > 1 ? ` · rows ${start + 1}–${Math.min(start + PAGE, rows.length)}` : "");
    if (!rows.length) info.textContent += emptyHint();
  }

  function emptyHint() {
    if (!rowsCache.length) return " — no interfaces reported yet: start an agent on a host (see the README).";
    if (state.matches.query) return " — nothing matches: change the search or press Clear.";
    return " — nothing in this focus: press Show all.";
  }

  tableEl.addEventListener("click", (ev) => {
    const t = ev.target.closest("button");
    if (!t) return;
    if (t.dataset.sort) {
      const k = t.dataset.sort;
      sort = { key: k, dir: sort.key === k && sort.dir === "asc" ? "desc" : "asc", page: 0 };
      render();
    } else if (t.dataset.page) {
      sort.page = Number(t.dataset.page);
      render();
    }
  });

  return {
    render,
    /** The store changed: rebuild within 250 ms (at most once in that time). */
    schedule() {
      rowsCache = null;
      if (state.mode !== "table" || timer) return;
      timer = setTimeout(() => {
        timer = null;
        render();
      }, 250);
    },
    invalidate() {
      rowsCache = null;
    },
    firstPage() {
      sort.page = 0;
    },
    /** Mark the selected row. */
    markSelected(id) {
      for (const tr of tableEl.querySelectorAll("tr.sel")) tr.classList.remove("sel");
      if (id) tableEl.querySelector(`tr[data-id="${CSS.escape(id)}"]`)?.classList.add("sel");
    },
  };
}
