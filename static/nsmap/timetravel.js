// Time travel on the dashboard: draw the graph as it was at a moment (read-only, marked "as of"),
// or what changed between two moments, from the change log (/api/v1/topology/?at=, /api/v1/diff/).
// The URL carries the moments (?at=ISO, and &from=ISO for a diff) so a link can be shared.
// Live messages are held while a past moment is shown; "Live" asks for the whole graph again.
import { h, fill } from "./dom.js";
import { activityChart } from "./activity.js";
import { getJson, toIso, toLocalInput } from "./io.js";
import { fmtDateTime } from "./model.js";

const PANEL = `
  <summary>Time travel</summary>
  <div class="nsm-tt-body">
    <div class="nsm-tt-row">
      <label for="nsm-at">As of</label>
      <input id="nsm-at" type="datetime-local" step="1">
      <button type="button" data-act="tt-show">Show</button>
      <button type="button" data-act="tt-live" disabled>Live</button>
    </div>
    <input id="nsm-slider" type="range" min="0" max="1000" value="1000" aria-label="Moment, from the first recorded change to now">
    <div class="nsm-tt-row">
      <label for="nsm-from">Compare from</label>
      <input id="nsm-from" type="datetime-local" step="1">
      <button type="button" data-act="tt-diff">Diff</button>
    </div>
    <div class="nsm-tt-activity" aria-label="Change activity per host"></div>
    <p class="nsm-tt-status" role="status" aria-live="polite"></p>
    <div class="nsm-tt-list"></div>
  </div>`;

const DIFF_PARTS = [
  ["added", "Added"],
  ["removed", "Removed"],
  ["changed", "Changed"],
];

/** Merge the graph at `start` into the graph at `end`: the later graph plus what was removed
 * since, each element marked with `diff` ("added" | "removed" | "changed"). Pure. */
export function diffGraph(before, after, diff) {
  const marks = new Map();
  for (const [part] of DIFF_PARTS) for (const item of diff[part] || []) marks.set(item.id, part);
  const merged = { seq: after.seq, hosts: [], namespaces: [], interfaces: [] };
  for (const kind of ["hosts", "namespaces", "interfaces"]) {
    const seen = new Set();
    for (const item of after[kind] || []) {
      seen.add(item.id);
      merged[kind].push(marks.has(item.id) ? { ...item, diff: marks.get(item.id) } : item);
    }
    for (const item of before[kind] || []) {
      if (!seen.has(item.id) && marks.get(item.id) === "removed") merged[kind].push({ ...item, diff: "removed" });
    }
  }
  return merged;
}

/**
 * initTimeTravel(ctx, {live, showGraph(msg), select(id)}) -> {travel(iso), compare(fromIso, toIso),
 * back(), asOf}. The panel goes into the toolbar's tools (a <details>, closed until opened).
 */
export function initTimeTravel(ctx, { live, showGraph, select }) {
  const { cfg, els } = ctx;
  const panel = document.createElement("details");
  panel.className = "nsm-tt";
  // eslint-disable-next-line no-restricted-syntax -- constant markup, no data
  panel.innerHTML = PANEL;
  (els.toolbar.querySelector(".nsm-tools") || els.toolbar).append(panel);
  const $ = (s) => panel.querySelector(s);
  const at = $("#nsm-at");
  const from = $("#nsm-from");
  const slider = $("#nsm-slider");
  const status = $(".nsm-tt-status");
  const list = $(".nsm-tt-list");
  const liveButton = panel.querySelector('[data-act="tt-live"]');
  let first = null; // the first recorded moment (the slider's left end), from the activity
  let asOf = null;

  function setUrl(params) {
    const url = new URL(location.href);
    for (const name of ["at", "from"]) {
      if (params[name]) url.searchParams.set(name, params[name]);
      else url.searchParams.delete(name);
    }
    history.replaceState(null, "", url);
  }

  function markPast() {
    els.conn.dataset.state = "past";
    els.conn.textContent = "past";
  }

  function banner(text, extra = []) {
    fill(els.banner, h("strong", null, text), ...extra, " ", h("button", { type: "button", "data-act": "tt-live" }, "Back to live"));
    els.banner.dataset.state = "past";
    els.banner.hidden = false;
  }

  async function travel(iso) {
    if (!iso) return;
    status.textContent = "Loading the graph as it was…";
    try {
      const graph = await getJson(`${cfg.apiBase}topology/?at=${encodeURIComponent(iso)}`);
      live.pause();
      asOf = iso;
      showGraph({ type: "graph", seq: graph.seq, graph });
      at.value = toLocalInput(iso);
      placeSlider(iso);
      fill(list);
      setUrl({ at: iso });
      liveButton.disabled = false;
      ctx.root.classList.add("nsm-past");
      markPast();
      banner(`As of ${fmtDateTime(iso)}`, [" — a past moment, read-only; live changes are held."]);
      status.textContent = `Showing the graph as of ${fmtDateTime(iso)}.`;
    } catch (error) {
      status.textContent = `That moment could not be shown: ${error.message}`;
    }
  }

  async function compare(startIso, endIso) {
    if (!startIso || !endIso) {
      status.textContent = "Choose both moments: “Compare from” and “As of”.";
      return;
    }
    status.textContent = "Comparing…";
    try {
      const q = (iso) => encodeURIComponent(iso);
      const [before, after, diff] = await Promise.all([
        getJson(`${cfg.apiBase}topology/?at=${q(startIso)}`),
        getJson(`${cfg.apiBase}topology/?at=${q(endIso)}`),
        getJson(`${cfg.apiBase}diff/?from=${q(startIso)}&to=${q(endIso)}`),
      ]);
      live.pause();
      asOf = endIso;
      const merged = diffGraph(before, after, diff);
      showGraph({ type: "graph", seq: merged.seq, graph: merged });
      at.value = toLocalInput(endIso);
      from.value = toLocalInput(startIso);
      setUrl({ at: endIso, from: startIso });
      liveButton.disabled = false;
      ctx.root.classList.add("nsm-past");
      markPast();
      showList(diff);
      const counts = DIFF_PARTS.map(([part, word]) => `${(diff[part] || []).length} ${word.toLowerCase()}`).join(", ");
      banner(`Changes from ${fmtDateTime(startIso)} to ${fmtDateTime(endIso)}`, [` — ${counts}; read-only.`]);
      status.textContent = `Compared: ${counts}.`;
    } catch (error) {
      status.textContent = `The two moments could not be compared: ${error.message}`;
    }
  }

  function showList(diff) {
    const sections = DIFF_PARTS.map(([part, word]) => {
      const items = diff[part] || [];
      return h(
        "section",
        { class: `nsm-tt-${part}` },
        h("h3", null, `${word} (${items.length})`),
        items.length
          ? h(
              "ul",
              null,
              items.slice(0, 200).map((item) =>
                h(
                  "li",
                  null,
                  h("button", { type: "button", class: "link", "data-tt-select": item.id }, item.name || item.id),
                  " ",
                  h("span", { class: "muted" }, item.kind),
                  part === "changed" ? h("span", { class: "muted" }, ` — ${Object.keys(item.fields || {}).join(", ")}`) : null,
                ),
              ),
            )
          : h("p", { class: "muted" }, "none"),
      );
    });
    fill(list, ...sections);
  }

  function back() {
    asOf = null;
    live.resume();
    setUrl({});
    fill(list);
    liveButton.disabled = true;
    ctx.root.classList.remove("nsm-past");
    els.banner.hidden = true;
    slider.value = slider.max;
    status.textContent = "Live again.";
  }

  function placeSlider(iso) {
    if (!first) return;
    const start = new Date(first).getTime();
    const span = Date.now() - start;
    if (span > 0) slider.value = String(Math.round(((new Date(iso).getTime() - start) / span) * 1000));
  }

  function sliderMoment() {
    if (!first) return null;
    const start = new Date(first).getTime();
    return new Date(start + ((Date.now() - start) * Number(slider.value)) / 1000).toISOString();
  }

  async function loadActivity() {
    try {
      const data = await getJson(`${cfg.apiBase}changes/activity/?buckets=48`);
      first = data.buckets.length ? data.buckets[0].start : null;
      activityChart($(".nsm-tt-activity"), data, (bucket) => travel(bucket.end));
      if (asOf) placeSlider(asOf);
    } catch (error) {
      fill($(".nsm-tt-activity"), h("p", { class: "muted" }, `Activity unavailable: ${error.message}`));
    }
  }

  panel.addEventListener("toggle", () => {
    if (panel.open && first === null) loadActivity();
  });
  panel.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    const act = target.dataset.act;
    if (act === "tt-show") travel(toIso(at.value));
    else if (act === "tt-diff") compare(toIso(from.value), toIso(at.value) || new Date().toISOString());
    else if (target.dataset.ttSelect) select(target.dataset.ttSelect);
  });
  // "Back to live" sits in the page's banner
  els.banner.addEventListener("click", (event) => {
    if (event.target.closest('[data-act="tt-live"]')) back();
  });
  liveButton.addEventListener("click", back);
  slider.addEventListener("change", () => travel(sliderMoment()));

  const params = new URL(location.href).searchParams;
  if (params.get("at")) {
    panel.open = true;
    if (params.get("from")) compare(params.get("from"), params.get("at"));
    else travel(params.get("at"));
  }

  return {
    travel,
    compare,
    back,
    get asOf() {
      return asOf;
    },
  };
}
