// The details panel: what the selected interface, namespace or host is, with links to its peer,
// namespace and ports, an operator's lab actions (actions.js), and its last recorded changes
// (/api/v1/changes/). Re-rendered in place on
// a live patch, keeping the keyboard focus on the same control.
import * as M from "./model.js";
import { fill, h, joined, keepFocus } from "./dom.js";
import { badgeClass } from "./styles.js";

const HINT = "Select an interface or a namespace (in the graph, the table or the search results) to see its details. Double-click a namespace box to expand or collapse it.";

/** initDetails(ctx) -> {show(id, focus), clear(), refresh(), touches(t), setStale(stale, since, why)}. */
export function initDetails(ctx) {
  const { cfg, store, state, view, els } = ctx;
  const panel = els.details;
  const body = els.detailBody;
  let changesFor = null;

  const muted = (text) => h("span", { class: "muted" }, text);
  const mono = (text, small) => h("span", { class: small ? "mono small" : "mono" }, text);
  const row = (k, ...v) => h("tr", null, h("th", { scope: "row" }, k), h("td", null, ...v));
  const btn = (text, dataset) => h("button", { type: "button", dataset }, text);

  function nsLink(nsId) {
    const ns = store.namespaces.get(nsId);
    return ns ? h("button", { type: "button", class: "link", dataset: { select: nsId } }, M.nsLabel(ns)) : "—";
  }

  function ifLink(id) {
    const i = store.interfaces.get(id);
    return i ? h("button", { type: "button", class: "link", dataset: { select: id } }, i.name) : id;
  }

  /** The lab actions for `o` (actions.js), for operators only; viewers get nothing. */
  const labSection = (o) => (ctx.lab ? ctx.lab.section(o) : null);

  function changesBox() {
    return [h("h3", null, "Last changes"), h("div", { class: "nsm-changes", "aria-live": "polite" }, "loading…")];
  }

  function interfaceView(i) {
    const host = store.hosts.get(i.host);
    const peer = i.peer ? store.interfaces.get(i.peer) : null;
    const master = i.master ? store.interfaces.get(i.master) : null;
    const ports = [...store.interfaces.values()].filter((p) => p.master === i.id);
    let peerView;
    if (peer) peerView = h("span", { class: "nsm-peer" }, ifLink(peer.id), " in ", nsLink(peer.namespace));
    else if (i.peer_status === "unresolved") peerView = [h("span", { class: "warn" }, "unresolved"), i.peer_note ? ` — ${i.peer_note}` : null];
    else peerView = "—";
    const st = M.ifState(i);
    const kind = M.ifKind(i);
    const addrs = i.addresses || [];
    return [
      h("h2", { class: "nsm-title" }, h("span", { class: badgeClass(st) }, st), " ", M.ifLabel(i, store)),
      h(
        "table",
        { class: "nsm-kv" },
        h(
          "tbody",
          null,
          row("name", i.name),
          row("namespace", nsLink(i.namespace)),
          row("host", host ? host.name : i.host),
          row("kind", kind),
          row("ifindex", i.ifindex),
          (i.peer_ifindex != null || peer) && row("peer ifindex", i.peer_ifindex ?? (peer ? peer.ifindex : "—")),
          (kind === "veth" || i.peer || i.peer_ifindex != null) && row("peer", peerView),
          row("state", st, " ", muted(`(operstate ${i.operstate || "?"}, admin ${i.up === false ? "down" : "up"})`)),
          row("MAC", mono(i.mac || "—")),
          row("MTU", i.mtu ?? "—"),
          row("addresses", addrs.length ? addrs.map((a) => h("div", { class: "mono" }, a)) : "—"),
          row("master", master ? ifLink(master.id) : "—"),
          ports.length > 0 &&
            row(
              "ports",
              joined(
                ports.map((p) => [ifLink(p.id), " ", muted(`(${M.nsLabel(store.namespaces.get(p.namespace))})`)]),
                () => h("br"),
              ),
            ),
          (i.altnames || []).length > 0 && row("altnames", i.altnames.join(", ")),
          i.alias && row("alias", i.alias),
          row("first seen", M.fmtDateTime(i.first_seen)),
          row("changed", M.fmtDateTime(i.changed)),
          row("id", mono(i.id, true)),
        ),
      ),
      h("div", { class: "nsm-btns" }, btn("Show only this namespace and neighbours", { act: "focus", ns: i.namespace })),
      labSection(i),
      changesBox(),
    ];
  }

  /** Who owns the namespace, as its runtime names it (agent/owners.py); text only. */
  function ownerRows(owner) {
    if (!owner) return [];
    const list = (items) => (items && items.length ? items.join(", ") : null);
    return [
      row("runtime", owner.runtime || "—"),
      owner.name && row("owner", owner.name),
      owner.pod && row("pod", M.ownerLabel(owner)), // a pod owner's label is "namespace/pod"
      owner.pod_uid && row("pod uid", mono(owner.pod_uid, true)),
      owner.id && row("owner id", mono(owner.id, true)),
      list(owner.containers) && row("containers", list(owner.containers)),
      owner.project && row("project", owner.project),
      list(owner.networks) && row("networks", list(owner.networks)),
    ].filter(Boolean);
  }

  function namespaceView(ns) {
    const ifs = [...store.interfaces.values()].filter((i) => i.namespace === ns.id).sort(M.ifOrder);
    const collapsed = !M.isExpanded(ns.id, view);
    const pids = ns.pids || [];
    return [
      h("h2", { class: "nsm-title" }, M.nsLabel(ns)),
      h(
        "table",
        { class: "nsm-kv" },
        h(
          "tbody",
          null,
          row("kind", ns.kind),
          row("names", (ns.names || []).join(", ") || "—"),
          row("processes", pids.length ? joined(pids.map((p) => [String(p.pid), " ", muted(p.comm || "")]), ", ") : "—"),
          ...ownerRows(ns.owner),
          ns.holder && row("held by", ns.holder),
          row("container", ns.container_id ? mono(ns.container_id, true) : "—"),
          row("inode", ns.inode ?? "—"),
          row("host", store.hosts.get(ns.host)?.name || ns.host),
          row("first seen", M.fmtDateTime(ns.first_seen)),
          row("changed", M.fmtDateTime(ns.changed)),
          row(
            "interfaces",
            ifs.length
              ? joined(
                  ifs.map((i) => [ifLink(i.id), " ", h("span", { class: badgeClass(M.ifState(i)) }, M.ifState(i))]),
                  () => h("br"),
                )
              : "—",
          ),
        ),
      ),
      h(
        "div",
        { class: "nsm-btns" },
        state.mode === "graph" && btn(collapsed ? "Expand" : "Collapse", { act: "toggle-ns", ns: ns.id }),
        btn("Show only this namespace and neighbours", { act: "focus", ns: ns.id }),
      ),
      labSection(ns),
      changesBox(),
    ];
  }

  function hostView(host) {
    return [
      h("h2", { class: "nsm-title" }, host.name || host.id),
      h(
        "table",
        { class: "nsm-kv" },
        h(
          "tbody",
          null,
          row("state", h("span", { class: `host-${["online", "stale", "offline"].includes(host.state) ? host.state : "other"}` }, host.state)),
          row("last seen", M.fmtDateTime(host.last_seen)),
          row("agent run", mono(host.run || "—", true)),
          row("namespaces", [...store.namespaces.values()].filter((n) => n.host === host.id).length),
          row("interfaces", [...store.interfaces.values()].filter((i) => i.host === host.id).length),
        ),
      ),
      labSection(host),
    ];
  }

  /** Show `id`; `focus`: move the keyboard focus to the panel (a choice made elsewhere). */
  function show(id, focus = false) {
    const o = store.get(id);
    if (!o) return;
    state.selected = id;
    keepFocus(panel, () => {
      if (store.interfaces.has(id)) fill(body, interfaceView(o));
      else if (store.namespaces.has(id)) fill(body, namespaceView(o));
      else fill(body, hostView(o));
    }, panel);
    if (store.interfaces.has(id) || store.namespaces.has(id)) loadChanges(id);
    if (focus) panel.focus({ preventScroll: true });
  }

  function clear() {
    state.selected = null;
    keepFocus(panel, () => fill(body, h("p", { class: "nsm-hint" }, HINT)), panel);
  }

  async function loadChanges(id) {
    changesFor = id;
    const box = () => body.querySelector(".nsm-changes");
    if (cfg.source !== "ws") {
      if (box()) box().textContent = "(history not available here)";
      return;
    }
    // Only this object's lifetime: keys are reused when the kernel recycles a namespace inode.
    const o = store.get(id);
    const born = o && o.first_seen ? Date.parse(o.first_seen) : NaN;
    const since = Number.isFinite(born) ? `&since=${encodeURIComponent(new Date(born - 2000).toISOString())}` : "";
    const url = `${cfg.apiBase}changes/?key=${encodeURIComponent(id)}&page_size=10${since}`;
    const get = () => fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    try {
      // Once more after a network blip (Chromium cancels requests when local interfaces change).
      const r = await get().catch(() => new Promise((ok) => setTimeout(ok, 500)).then(get));
      if (changesFor !== id || !box()) return;
      if (!r.ok) {
        box().textContent = `history unavailable (the server answered ${r.status})`;
        return;
      }
      const data = await r.json();
      const items = (data.results || []).slice(0, 10);
      fill(
        box(),
        items.length
          ? h(
              "ol",
              { class: "nsm-changelist" },
              items.map((c) =>
                h("li", null, h("time", { datetime: c.time }, M.fmtDateTime(c.time)), " ", h("b", null, c.action), " ", summarise(c), muted(` · ${c.actor || ""}`)),
              ),
            )
          : "no recorded changes",
      );
    } catch {
      if (changesFor === id && box()) box().textContent = "history unavailable while the server cannot be reached";
    }
  }

  return {
    show,
    clear,
    /** Re-render the selection (a patch touched it), or clear it when it is gone. */
    refresh() {
      if (!state.selected) return;
      if (store.get(state.selected)) show(state.selected, false);
      else clear();
    },
    /** Whether a patch's touched ids change what the panel shows. */
    touches(t) {
      const sel = state.selected;
      if (!sel) return false;
      const ids = new Set([...t.added, ...t.changed, ...t.removed]);
      if (ids.has(sel)) return true;
      const o = store.interfaces.get(sel);
      return !!(o && ((o.peer && ids.has(o.peer)) || (o.master && ids.has(o.master))));
    },
    /** Mark what the panel shows as possibly out of date (the server cannot be reached). */
    setStale(stale, since, why) {
      panel.classList.toggle("nsm-stale", stale);
      panel.querySelector(".nsm-stale-note")?.remove();
      if (stale) body.before(h("p", { class: "nsm-stale-note", role: "note" }, `Out of date: as last known at ${since}; ${why}.`));
    },
  };
}

function summarise(c) {
  const b = c.before || {};
  const a = c.after || {};
  if (c.action !== "changed") return c.name || "";
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]) && k !== "changed");
  return `${c.name || ""}: ${keys
    .slice(0, 4)
    .map((k) => `${k} ${brief(b[k])} → ${brief(a[k])}`)
    .join(", ")}`;
}

/** A change-log value in a few characters: addresses as 10.0.0.1/24, long JSON cut. */
function brief(v) {
  if (Array.isArray(v) && v.every((x) => x && typeof x === "object" && "address" in x)) {
    return `[${v.map((x) => `${x.address}/${x.prefixlen ?? x.prefix ?? ""}`).join(" ")}]`;
  }
  const text = JSON.stringify(v ?? null);
  return text.length > 48 ? `${text.slice(0, 45)}…` : text;
}
