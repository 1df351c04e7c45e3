// The history page: every change record, newest first, filtered by what the URL says.
// Data reaches the page only as text (DOM text nodes); nothing here builds markup from data.

import { activityChart } from "./activity.js";
import { h } from "./dom.js";
import { getJson, toIso, toLocalInput } from "./io.js";
import { fmtDateTime } from "./model.js";

const FILTERS = ["node", "namespace", "interface", "action", "field", "actor", "since", "until", "key", "request_id"];
const PAGE_SIZE = 50;

function show(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) {
    if (!value.length) return "none";
    return value.map((v) => (typeof v === "object" && v !== null ? addressText(v) ?? JSON.stringify(v) : String(v))).join(", ");
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function addressText(v) {
  return "address" in v && "prefixlen" in v ? `${v.address}/${v.prefixlen}` : null;
}

export function filtersFromUrl(search) {
  const params = new URLSearchParams(search);
  const out = {};
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value) out[name] = value;
  }
  return out;
}

export function queryOf(filters, extra = {}) {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]) params.set(name, filters[name]);
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  return params.toString();
}

// the fields of a record that differ, [name, before, after]
export function changedFields(record) {
  const before = record.before || {};
  const after = record.after || {};
  if (record.action !== "changed") return [];
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out = [];
  for (const name of [...names].sort()) {
    if (JSON.stringify(before[name]) !== JSON.stringify(after[name])) out.push([name, before[name], after[name]]);
  }
  return out;
}

function timeCell(iso) {
  return h("time", { datetime: iso, title: iso }, fmtDateTime(iso));
}

function row(record, apiBase) {
  const fields = changedFields(record);
  const what = h("td", { class: "hist-what" });
  if (fields.length) {
    const list = h("ul", { class: "hist-fields" });
    for (const [name, before, after] of fields) {
      list.append(
        h(
          "li",
          {},
          h("span", { class: "hist-field" }, name),
          " ",
          h("span", { class: "hist-before" }, show(before)),
          " → ",
          h("span", { class: "hist-after" }, show(after)),
        ),
      );
    }
    what.append(list);
  } else if (record.action === "moved") {
    what.append(`${show(record.before?.namespace)} → ${show(record.after?.namespace)}`);
  }
  const object = h(
    "a",
    { href: `?${queryOf({ key: record.object_id })}`, title: `every change of ${record.object_id}` },
    record.name || record.object_id,
  );
  const actor = h("td", { class: "hist-actor" }, record.actor);
  if (record.request_id) {
    actor.append(
      " ",
      h("a", { href: `${apiBase}commands/${encodeURIComponent(record.request_id)}/`, title: `command ${record.request_id}` }, "command"),
    );
  }
  return h(
    "tr",
    { "data-id": record.id },
    h("td", {}, timeCell(record.time)),
    h("td", null, record.node),
    h("td", {}, h("span", { class: "hist-kind" }, record.object_kind), " ", object),
    h("td", {}, h("span", { class: `hist-action hist-${record.action}` }, record.action)),
    what,
    actor,
  );
}

export function initHistory(root, config) {
  const apiBase = config.apiBase || "/api/v1/";
  const form = root.querySelector("#history-filters");
  const body = root.querySelector("#history-rows");
  const status = root.querySelector("#history-status");
  const more = root.querySelector("#history-more");
  const exportCsv = root.querySelector("#history-export-csv");
  const exportJson = root.querySelector("#history-export-json");
  const chart = root.querySelector("#history-activity");
  let filters = filtersFromUrl(location.search);
  let next = null;
  let loaded = 0;

  function fillForm() {
    for (const name of FILTERS) {
      const input = form.elements.namedItem(name);
      if (!input) continue;
      input.value = name === "since" || name === "until" ? toLocalInput(filters[name]) : filters[name] || "";
    }
  }

  function readForm() {
    const out = {};
    for (const name of FILTERS) {
      const input = form.elements.namedItem(name);
      const value = input ? input.value.trim() : filters[name];
      if (!value) continue;
      out[name] = name === "since" || name === "until" ? toIso(value) : value;
    }
    return out;
  }

  async function load(append) {
    const url = append && next ? next : `${apiBase}changes/?${queryOf(filters, { count: "false", page_size: PAGE_SIZE })}`;
    status.textContent = append ? "Loading older changes…" : "Loading…";
    more.hidden = true;
    try {
      const data = await getJson(url);
      if (!append) {
        body.replaceChildren();
        loaded = 0;
      }
      for (const record of data.results) body.append(row(record, apiBase));
      loaded += data.results.length;
      next = data.next;
      body.dataset.query = queryOf(filters); // what the rows show (tests wait on it)
      more.hidden = !next;
      status.textContent = loaded
        ? `${loaded} change${loaded === 1 ? "" : "s"} shown${next ? ", more below" : ""}.`
        : "No change matches these filters. Widen the time range or clear a filter.";
    } catch (error) {
      status.textContent = `The history could not be loaded: ${error.message}`;
    }
  }

  async function loadActivity() {
    try {
      const data = await getJson(`${apiBase}changes/activity/?${queryOf(filters)}`);
      activityChart(chart, data, (bucket) => {
        filters = { ...filters, since: bucket.start, until: bucket.end };
        apply(true);
      });
    } catch (error) {
      chart.replaceChildren(h("p", { class: "muted" }, `Activity unavailable: ${error.message}`));
    }
  }

  function exports() {
    exportCsv.href = `${apiBase}changes/export/?${queryOf(filters, { output: "csv" })}`;
    exportJson.href = `${apiBase}changes/export/?${queryOf(filters, { output: "json" })}`;
  }

  function apply(push) {
    if (push) history.pushState(null, "", `?${queryOf(filters)}`);
    fillForm();
    exports();
    load(false);
    loadActivity();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters = readForm();
    apply(true);
  });
  form.addEventListener("reset", (event) => {
    event.preventDefault();
    filters = {};
    apply(true);
  });
  more.addEventListener("click", () => load(true));
  window.addEventListener("popstate", () => {
    filters = filtersFromUrl(location.search);
    apply(false);
  });
  apply(false);
  return { reload: () => apply(false), get filters() { return { ...filters }; } };
}
