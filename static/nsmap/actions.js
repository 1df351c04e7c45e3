// Lab actions for operators: forms (a modal <dialog>) for every verb, opened from the details
// panel (the keyboard path), from a right-click menu (cxtmenu), by drawing a link between two
// namespaces (edgehandles, "Draw links" mode) or by dropping an interface into another
// namespace's box; each form posts one command (POST /api/v1/commands/) and its progress comes
// back on the page's WebSocket ({"type": "command"}), shown in the "Lab actions" list and
// announced. The page never fakes the graph: a new pair appears when the kernel reports it.
// Viewers get none of this: app.js does not start the module for them.
// This module keeps the command lifecycle (send, status reports, catch-up), the status list, the
// ping notes and each verb's form; the generic form dialog is lab-dialog.js and the graph's
// gestures (menu, draw, drop) are lab-gestures.js.
import * as M from "./model.js";
import * as A from "./actions-model.js";
import { fill, h } from "./dom.js";
import { getJson } from "./io.js";
import { initDialog, randomKey } from "./lab-dialog.js";
import { initGestures } from "./lab-gestures.js";

const KEEP_DONE_MS = 15000; // a finished command's line stays this long (a failure stays until dismissed)
const LIST_MAX = 6;

/** Whether the page's user may act (operator or admin); viewers see no action control. */
export function canAct(cfg) {
  const roles = cfg.roles || [];
  return roles.includes("operator") || roles.includes("admin");
}

/**
 * initActions(ctx, {graph}) -> {section(o), prune(), catchUp(), onCommand(cmd), attach(cy), setMode(m), commands}.
 * section(o): the details panel's "Lab actions" part for an interface, namespace or host.
 */
export function initActions(ctx, { graph }) {
  const { cfg, store, root, els } = ctx;
  const tracked = new Map(); // command id -> {id, verb, args, what, status, error, result, li, after}
  const early = new Map(); // command id -> the most advanced report that came before the POST's answer
  const pings = new Map(); // namespace id -> {address, result, error, time, edge | reason} (pingEdge)
  // Ping outcomes pinned to the edge they left by: drawn as its label (model.js descEdge reads
  // view.edgeNotes) and shown in both ends' details, while the edge stays the same (edgeStamp).
  const notes = new Map(); // edge id -> {edge, label, stamp, from, address, time}
  ctx.view.edgeNotes = notes;

  // ------------------------------------------------------------ status list and announcements
  const list = h("ol", { class: "nsm-lab-list" });
  const polite = h("div", { class: "sr-only", role: "status", "aria-live": "polite", id: "nsm-lab-polite" });
  const assertive = h("div", { class: "sr-only", role: "alert", "aria-live": "assertive", id: "nsm-lab-alert" });
  const panel = h("section", { class: "nsm-lab", "aria-labelledby": "nsm-lab-head", hidden: true }, h("h2", { id: "nsm-lab-head", class: "nsm-lab-head" }, "Lab actions"), list);
  root.querySelector(".nsm-views").append(panel);
  root.append(polite, assertive);

  function say(text, urgent) {
    const region = urgent ? assertive : polite;
    region.textContent = "";
    // A fresh text node after a tick: screen readers announce a change, not a repeat of the same node.
    setTimeout(() => (region.textContent = text), 30);
  }

  const STATUS_WORDS = { requested: "requested…", sent: "sent to the host…", running: "running…", done: "done", failed: "failed" };

  function renderItem(entry) {
    const { li, status } = entry;
    li.className = `nsm-lab-item st-${status}`;
    li.dataset.status = status;
    const cmdText = entry.what;
    fill(
      li,
      h("span", { class: "nsm-lab-what" }, cmdText),
      " ",
      h("span", { class: `nsm-lab-status st-${status}` }, STATUS_WORDS[status] || status),
      entry.status === "failed" && h("div", { class: "nsm-lab-why" }, A.explainFailure(entry.error)),
      entry.verb === "ping" && entry.status === "done" && h("div", { class: "nsm-lab-result" }, A.pingText(entry.result)),
      A.FINISHED.has(status) && h("button", { type: "button", class: "nsm-lab-dismiss", dataset: { labDismiss: entry.id }, "aria-label": `Dismiss: ${cmdText}` }, "×"),
    );
  }

  /** A new line on top of the list (a command or a refusal); the oldest go past LIST_MAX. */
  function prependItem(li) {
    list.prepend(li);
    while (list.children.length > LIST_MAX) list.lastElementChild.remove();
    panel.hidden = false;
  }

  function addItem(entry) {
    entry.li = h("li", { dataset: { command: entry.id } });
    prependItem(entry.li);
  }

  function removeItem(li) {
    li.remove();
    panel.hidden = list.children.length === 0;
  }

  /** A status report (the POST's answer or a WebSocket message) for a command of this page. */
  function update(cmd) {
    const entry = tracked.get(cmd.id);
    if (!entry) {
      // Reports come from two threads (the web process says "sent", the agent "running" and
      // "done") and may arrive out of order: keep the most advanced one, not the last.
      const prev = early.get(cmd.id);
      if (!prev || A.advances(prev.status, cmd.status)) early.set(cmd.id, cmd);
      if (early.size > 100) early.delete(early.keys().next().value);
      return;
    }
    if (!A.advances(entry.status, cmd.status)) return;
    entry.status = cmd.status;
    entry.error = cmd.error;
    entry.result = cmd.result;
    renderItem(entry);
    const what = entry.what;
    if (entry.verb === "ping" && A.FINISHED.has(cmd.status)) keepPing(entry.args, cmd);
    if (cmd.status === "failed") say(`${what}: ${A.explainFailure(cmd.error)}`, true);
    else if (cmd.status === "done") {
      say(`${what}: ${entry.verb === "ping" ? A.pingText(cmd.result) : "done"}`, false);
      if (entry.after) entry.after(cmd);
      const li = entry.li;
      setTimeout(() => li.isConnected && li.dataset.status === "done" && removeItem(li), KEEP_DONE_MS);
    }
  }

  /** A finished ping: kept with its namespace (the details panel shows the last one) and on its edge. */
  function keepPing({ namespace, address }, cmd) {
    const time = new Date().toISOString();
    const way = A.pingEdge(store, namespace, address, cmd.result);
    pings.set(namespace, { address, result: cmd.result, error: cmd.error, time, ...way });
    // A newer ping from here to there replaces the last one, on whichever edge that was.
    for (const [id, n] of notes) if (n.from === namespace && n.address === address) notes.delete(id);
    if (way.edge) {
      notes.set(way.edge.id, { edge: way.edge, label: A.pingLabel(cmd.result, cmd.error), stamp: M.edgeStamp(store, way.edge), from: namespace, address, time });
    }
    graph.sync({ animate: false });
    if (ctx.state.selected) ctx.refreshDetails();
  }

  /** After a patch: notes whose edge changed or went are dropped (they never come back). */
  function prune() {
    for (const [id, n] of notes) if (M.edgeStamp(store, n.edge) !== n.stamp) notes.delete(id);
  }

  /** The notes on the edges of interface `id` (prune() already dropped those that no longer hold). */
  const notesOf = (id) => [...notes.values()].filter((n) => n.edge.a === id || n.edge.b === id);

  /**
   * POST one command; resolves {ok: true, command, what} or {ok: false, status, body, what} (`what`:
   * the command in words, from before anything changed). The entry shows in the list from the
   * moment the server accepted it.
   */
  async function send(node, verb, args, key, after) {
    // Described before anything changes: a moved or deleted interface leaves the store soon.
    const what = A.describe(verb, args, store);
    let response;
    try {
      response = await fetch(`${cfg.apiBase}commands/`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": cfg.csrfToken || "" },
        body: JSON.stringify({ node, verb, args, idempotency_key: key }),
      });
    } catch {
      return { ok: false, status: 0, what, body: { error: "The server cannot be reached: the action may not have been sent. Retry when the page is live again (the same request runs at most once)." } };
    }
    const body = await response.json().catch(() => ({}));
    if (response.status !== 202 && response.status !== 200 && response.status !== 409) return { ok: false, status: response.status, body, what };
    if (!tracked.has(body.id)) {
      const entry = { id: body.id, verb, args, what, status: null, after };
      tracked.set(body.id, entry);
      addItem(entry); // drawn by the update() below, which sets its first status
    }
    update(body);
    const later = early.get(body.id);
    early.delete(body.id);
    if (later) update(later);
    return { ok: true, command: body, what };
  }

  /**
   * After the socket came back (a dropped connection, a slow reader cut off by the server): the
   * reports sent meanwhile are lost, so ask the API where each unfinished command is.
   */
  function catchUp() {
    for (const entry of tracked.values()) {
      if (A.FINISHED.has(entry.status)) continue;
      getJson(`${cfg.apiBase}commands/${encodeURIComponent(entry.id)}/`)
        .then(update)
        .catch(() => {}); // still offline: the next reconnection asks again
    }
  }

  const { openForm } = initDialog(ctx, { send });

  // ------------------------------------------------------------ the verbs' forms
  const ifOf = (id) => store.interfaces.get(id);
  const nsOf = (id) => store.namespaces.get(id);
  const nsName = (id) => M.nsLabel(nsOf(id));
  const isBridge = (i) => M.ifKind(i) === "bridge";
  const hostNamespaces = (host) => [...store.namespaces.values()].filter((n) => n.host === host).sort((a, b) => M.nsLabel(a).localeCompare(M.nsLabel(b)));
  const bridgesOn = (host) => [...store.interfaces.values()].filter((i) => i.host === host && isBridge(i));

  /** A verb with no question to ask (bring up / down, a move's follow-ups); a refusal is shown. */
  function runNow(node, verb, args) {
    return send(node, verb, args, randomKey(), null).then((sent) => {
      if (!sent.ok) showRefusal(`${sent.what}: not sent. ${A.explainSend(sent, []).general.join(" ")}`);
      return sent;
    });
  }

  function vethForm(aNs, target) {
    const a = nsOf(aNs);
    if (!a) return;
    const refusal = target ? A.vethRefusal(store, aNs, target) : null;
    if (refusal) {
      showRefusal(`No veth pair made: ${refusal}.`);
      return;
    }
    const targetValue = (t) => (store.interfaces.has(t) ? `bridge:${t}` : t);
    const bNsOf = (value) => (value.startsWith("bridge:") ? ifOf(value.slice(7))?.namespace : value);
    const options = [
      ...hostNamespaces(a.host).map((n) => ({ value: n.id, label: `namespace ${M.nsLabel(n)}` })),
      ...bridgesOn(a.host).map((b) => ({ value: `bridge:${b.id}`, label: `bridge ${b.name} (port, in ${nsName(b.namespace)})` })),
    ];
    const first = targetValue(target || aNs);
    const [nameA, nameB] = A.proposeNames(store, aNs, bNsOf(first));
    let touched = false;
    const { form } = openForm({
      title: "New veth pair",
      intro: `A pair of connected interfaces, one end in ${M.nsLabel(a)}. Names are proposed free; MTU 1500 and DOWN unless you choose otherwise.`,
      node: a.host,
      verb: "veth.create",
      fixed: { "a.namespace": aNs },
      fields: [
        { key: "a.name", label: `First end's name (in ${M.nsLabel(a)})`, value: nameA, help: "1 to 15 bytes; no spaces, '/' or ':'." },
        { key: "a.address", label: "First end's address (optional)", placeholder: "10.1.1.2/24" },
        {
          key: "b.namespace",
          label: "Other end in",
          type: "select",
          value: first,
          options,
          onChange: (els2) => {
            if (touched) return;
            const [x, y] = A.proposeNames(store, aNs, bNsOf(els2["b.namespace"].value));
            els2["a.name"].value = x;
            els2["b.name"].value = y;
          },
        },
        { key: "b.name", label: "Other end's name", value: nameB },
        { key: "b.address", label: "Other end's address (optional)", placeholder: "10.1.1.3/24" },
        { key: "mtu", label: "MTU", value: String(A.MTU.def), numeric: true, help: `${A.MTU.low} to ${A.MTU.high} bytes.` },
        { key: "up", label: "Bring both ends up", type: "checkbox", value: false },
      ],
      submit: "Create pair",
      prepare: (v) => {
        const chosen = v["b.namespace"];
        const w = { ...v };
        if (chosen.startsWith("bridge:")) {
          w["b.bridge"] = chosen.slice(7);
          delete w["b.namespace"];
        }
        return A.buildArgs("veth.create", w);
      },
    });
    for (const k of ["a.name", "b.name"]) form.elements[k].addEventListener("input", () => (touched = true));
  }

  function linkSetForm(i) {
    openForm({
      title: `Change ${i.name}`,
      intro: `${i.name} in ${nsName(i.namespace)}: state ${M.ifState(i)}, MTU ${i.mtu ?? "?"}.`,
      node: i.host,
      verb: "link.set",
      fixed: { interface: i.id, currentName: i.name },
      fields: [
        {
          key: "up",
          label: "State",
          type: "select",
          value: "",
          options: [
            { value: "", label: "keep as it is" },
            { value: "up", label: "up" },
            { value: "down", label: "down" },
          ],
        },
        { key: "mtu", label: "MTU", value: i.mtu != null ? String(i.mtu) : "", numeric: true, help: `${A.MTU.low} to ${A.MTU.high} bytes.` },
        { key: "name", label: "Name", value: i.name, help: "1 to 15 bytes; no spaces, '/' or ':'." },
      ],
      submit: "Apply",
      prepare: (v) => {
        const w = { ...v };
        if (w.mtu === String(i.mtu)) w.mtu = "";
        return A.buildArgs("link.set", w);
      },
    });
  }

  function addressForm(i, verb) {
    const addrs = i.addresses || [];
    const remove = verb === "address.remove";
    openForm({
      title: remove ? `Remove an address from ${i.name}` : `Add an address to ${i.name}`,
      intro: `${i.name} in ${nsName(i.namespace)}${addrs.length ? ` has ${addrs.join(", ")}` : " has no address"}.`,
      node: i.host,
      verb,
      fixed: { interface: i.id },
      fields: remove
        ? [{ key: "address", label: "Address", type: "select", value: addrs[0], options: addrs.map((a) => ({ value: a, label: a })) }]
        : [{ key: "address", label: "Address with prefix length", placeholder: "10.1.1.2/24", help: "IPv4 or IPv6, like 10.1.1.2/24 or fd00::2/64." }],
      submit: remove ? "Remove" : "Add",
      danger: remove,
    });
  }

  function moveForm(i, toNs, onClose) {
    // IPv6 link-local addresses come back by themselves when the interface comes up.
    const addrs = (i.addresses || []).filter((a) => !/^fe[89ab][0-9a-f]:/i.test(a));
    const options = hostNamespaces(i.host)
      .filter((n) => n.id !== i.namespace)
      .map((n) => ({ value: n.id, label: M.nsLabel(n) }));
    const fields = [{ key: "namespace", label: "Move into namespace", type: "select", value: toNs || options[0]?.value, options }];
    addrs.forEach((a, k) => fields.push({ key: `reapply${k}`, label: `Re-apply ${a} after the move`, type: "checkbox", value: true }));
    if (i.up !== false) fields.push({ key: "reup", label: "Bring it up again there", type: "checkbox", value: true });
    openForm({
      title: `Move ${i.name}`,
      intro: `${i.name} leaves ${nsName(i.namespace)}. The kernel drops an interface's addresses and takes it down when it changes namespace${addrs.length ? ": tick the addresses to give it again there" : ""}.`,
      node: i.host,
      verb: "link.move",
      fixed: { interface: i.id },
      fields,
      submit: "Move",
      onClose,
      after: (cmd, v) => {
        const moved = cmd.result && cmd.result.interface;
        if (!moved) return;
        addrs.forEach((a, k) => {
          if (v[`reapply${k}`]) runNow(i.host, "address.add", { interface: moved, address: a });
        });
        if (v.reup) runNow(i.host, "link.set", { interface: moved, up: true });
      },
    });
  }

  function deleteForm(i) {
    const peer = i.peer ? ifOf(i.peer) : null;
    const other = peer
      ? `its peer ${peer.name} in ${nsName(peer.namespace)}`
      : i.peer_ifindex != null
        ? `its peer (ifindex ${i.peer_ifindex}, not resolved)`
        : "its peer";
    const pair = M.ifKind(i) === "veth";
    openForm({
      title: pair ? `Delete the pair ${i.name}${peer ? ` ↔ ${peer.name}` : ""}` : `Delete ${i.name}`,
      intro: pair
        ? `Deletes ${i.name} in ${nsName(i.namespace)} and ${other}: the kernel removes both ends of a veth pair together.`
        : `Deletes ${i.name} in ${nsName(i.namespace)}.`,
      node: i.host,
      verb: "link.delete",
      fixed: { interface: i.id },
      fields: [],
      submit: pair ? "Delete both ends" : "Delete",
      danger: true,
    });
  }

  function bridgeCreateForm(nsId) {
    const ns = nsOf(nsId);
    openForm({
      title: "New bridge",
      intro: `A bridge in ${M.nsLabel(ns)}.`,
      node: ns.host,
      verb: "bridge.create",
      fixed: { namespace: nsId },
      fields: [{ key: "name", label: "Name", value: A.freeName(`br-${A.nsTag(ns)}`, A.namesIn(store, nsId)), help: "1 to 15 bytes; no spaces, '/' or ':'." }],
      submit: "Create bridge",
    });
  }

  function bridgeDeleteForm(b) {
    const ports = [...store.interfaces.values()].filter((p) => p.master === b.id).map((p) => p.name);
    openForm({
      title: `Delete bridge ${b.name}`,
      intro: `Deletes ${b.name} in ${nsName(b.namespace)}${ports.length ? `; its ports (${ports.join(", ")}) stay, detached` : ""}.`,
      node: b.host,
      verb: "bridge.delete",
      fixed: { interface: b.id },
      fields: [],
      submit: "Delete bridge",
      danger: true,
    });
  }

  function attachForm(i) {
    const bridges = [...store.interfaces.values()].filter((b) => b.namespace === i.namespace && isBridge(b) && b.id !== i.id);
    if (!bridges.length) {
      showRefusal(`There is no bridge in ${nsName(i.namespace)} to attach ${i.name} to: create one first.`);
      return;
    }
    openForm({
      title: `Attach ${i.name} to a bridge`,
      intro: `${i.name} becomes a port of a bridge in ${nsName(i.namespace)}.`,
      node: i.host,
      verb: "bridge.attach",
      fixed: { interface: i.id },
      fields: [{ key: "bridge", label: "Bridge", type: "select", value: bridges[0].id, options: bridges.map((b) => ({ value: b.id, label: b.name })) }],
      submit: "Attach",
    });
  }

  function detachForm(i) {
    const b = ifOf(i.master);
    openForm({
      title: `Detach ${i.name}`,
      intro: `${i.name} stops being a port of ${b ? b.name : "its bridge"}.`,
      node: i.host,
      verb: "bridge.detach",
      fixed: { interface: i.id, bridge: i.master },
      fields: [],
      submit: "Detach",
    });
  }

  function netnsCreateForm(host) {
    openForm({
      title: "New namespace",
      intro: `A named network namespace on ${host} (/run/netns/NAME).`,
      node: host,
      verb: "netns.create",
      fields: [{ key: "name", label: "Name", help: "1 to 63 bytes; no spaces or '/'." }],
      submit: "Create namespace",
    });
  }

  function netnsDeleteForm(ns) {
    const name = (ns.names || [])[0];
    openForm({
      title: `Delete namespace ${name}`,
      intro: `Deletes the named namespace ${name} on ${ns.host}. The host refuses while processes run in it or it holds interfaces nsmap did not create, unless forced.`,
      node: ns.host,
      verb: "netns.delete",
      fixed: { name },
      fields: [{ key: "force", label: "Force (delete even with processes or foreign interfaces)", type: "checkbox", value: false }],
      submit: "Delete namespace",
      danger: true,
    });
  }

  function pingForm(nsId) {
    const ns = nsOf(nsId);
    const last = pings.get(nsId);
    openForm({
      title: `Ping from ${M.nsLabel(ns)}`,
      intro: "Runs ping inside this namespace; loss and round-trip times come back with the command.",
      node: ns.host,
      verb: "ping",
      fixed: { namespace: nsId },
      fields: [
        { key: "address", label: "Address", value: last ? last.address : "", placeholder: "10.1.1.3" },
        { key: "count", label: "Packets", value: String(A.PING.count[2]), numeric: true, help: `${A.PING.count[0]} to ${A.PING.count[1]}.` },
        { key: "timeout", label: "Timeout (seconds)", value: String(A.PING.timeout[2]), numeric: true, help: `${A.PING.timeout[0]} to ${A.PING.timeout[1]}.` },
      ],
      submit: "Ping",
    });
  }

  /** A refusal the page makes by itself (nothing sent): said aloud and kept in the list. */
  function showRefusal(text) {
    const li = h("li", { class: "nsm-lab-item st-failed", dataset: { status: "refused" } }, h("span", { class: "nsm-lab-why" }, text), " ", h("button", { type: "button", class: "nsm-lab-dismiss", dataset: { labDismiss: "local" }, "aria-label": "Dismiss" }, "×"));
    prependItem(li);
    say(text, true);
  }

  // ------------------------------------------------------------ what each kind of object offers
  /**
   * [label, handler, slot?] for an interface, namespace or host: the menu and the panel share
   * them. A slot names a panel button whose label changes with the object (dom.js keepFocus
   * finds it again by its data-* attributes).
   */
  function choices(o) {
    if (!o) return [];
    if (store.interfaces.has(o.id)) {
      const i = o;
      if (A.untouchable(i)) return []; // the host refuses every verb on it (agent/actions.py)
      const out = [];
      // One slot for both: the panel's button keeps the keyboard focus when the state flips.
      if (i.up === false) out.push(["Bring up", () => runNow(i.host, "link.set", { interface: i.id, up: true }), "state"]);
      else out.push(["Bring down", () => runNow(i.host, "link.set", { interface: i.id, up: false }), "state"]);
      out.push(["Change…", () => linkSetForm(i)], ["Add address…", () => addressForm(i, "address.add")]);
      if ((i.addresses || []).length) out.push(["Remove address…", () => addressForm(i, "address.remove")]);
      out.push(["Move…", () => moveForm(i)]);
      if (isBridge(i)) out.push(["Delete bridge…", () => bridgeDeleteForm(i)]);
      else {
        out.push(i.master ? ["Detach from bridge…", () => detachForm(i)] : ["Attach to bridge…", () => attachForm(i)]);
        out.push(["Delete…", () => deleteForm(i)]);
      }
      return out;
    }
    if (store.namespaces.has(o.id)) {
      const out = [
        ["New veth pair…", () => vethForm(o.id, null)],
        ["New bridge…", () => bridgeCreateForm(o.id)],
        ["Ping…", () => pingForm(o.id)],
        ["New namespace…", () => netnsCreateForm(o.host)],
      ];
      if (o.kind === "named" || (o.kind !== "root" && (o.names || []).length)) out.push(["Delete namespace…", () => netnsDeleteForm(o)]);
      return out;
    }
    if (store.hosts.has(o.id)) return [["New namespace…", () => netnsCreateForm(o.id)]];
    return [];
  }

  /** A past moment is on the page (timetravel.js): nothing there can be acted on. */
  const past = () => root.classList.contains("nsm-past");

  /** The details panel's part: the same choices as buttons, a namespace's last ping, an interface's link's pings. */
  function section(o) {
    if (past()) return h("p", { class: "nsm-lab-actions muted" }, "A past moment is shown: go back to Live to act on it.");
    const opts = choices(o);
    if (!opts.length) {
      const why = store.interfaces.has(o.id) && A.untouchable(o);
      return why ? h("p", { class: "nsm-lab-actions muted" }, `No lab actions: ${why}.`) : null;
    }
    const last = pings.get(o.id);
    const when = (time) => h("span", { class: "muted" }, ` (${M.fmtTime(time)})`);
    return h(
      "section",
      { class: "nsm-lab-actions", "aria-labelledby": "nsm-lab-actions-head" },
      h("h3", { id: "nsm-lab-actions-head" }, "Lab actions"),
      h(
        "div",
        { class: "nsm-btns" },
        opts.map(([label, , slot]) => h("button", { type: "button", dataset: { lab: slot || label, labFor: o.id } }, label)),
      ),
      store.interfaces.has(o.id) && !A.madeByNsmap(o) &&
        h("p", { class: "nsm-lab-foreign muted" }, "Not made by nsmap: the host refuses to move, rename or delete it unless its NSMAP_AGENT_ALLOW_FOREIGN names it."),
      last &&
        h(
          "p",
          { class: "nsm-ping-last" },
          h("b", null, `Last ping to ${last.address}: `),
          last.result ? A.pingText(last.result) : A.explainFailure(last.error),
          when(last.time),
          h("span", { class: "nsm-ping-where" }, last.edge ? ` Shown on the link ${linkName(last)}.` : ` Not shown on a link: ${last.reason}.`),
        ),
      notesOf(o.id).map((n) =>
        h("p", { class: "nsm-ping-link" }, h("b", null, `Ping over this link, ${nsName(n.from)} to ${n.address}: `), n.label, when(n.time)),
      ),
    );
  }

  /** A ping's link from its own namespace's end: "veth0 ↔ veth1". */
  const linkName = (way) => `${ifOf(way.near)?.name ?? "?"} ↔ ${ifOf(way.far)?.name ?? "?"}`;

  root.addEventListener("click", (ev) => {
    const t = ev.target.closest("button[data-lab], button[data-lab-dismiss]");
    if (!t || !root.contains(t)) return;
    if (t.dataset.labDismiss) {
      const li = t.closest("li");
      const next = li.nextElementSibling || li.previousElementSibling;
      removeItem(li);
      (next?.querySelector("button") || els.details).focus({ preventScroll: true });
      return;
    }
    const o = store.get(t.dataset.labFor);
    // By its label: what is offered follows the object (Bring up / Bring down), never a stale index.
    const pick = o && !past() && choices(o).find(([label]) => label === t.textContent);
    if (pick) pick[1]();
  });

  const gestures = initGestures(ctx, { graph, choices, past, vethForm, moveForm, showRefusal, say });

  return {
    setMode: gestures.setMode,
    section,
    prune,
    catchUp,
    onCommand: update,
    attach: gestures.attach,
    /** For tests: the forms by name, the tracked commands. */
    open: { veth: vethForm, move: moveForm, ping: pingForm, netns: netnsCreateForm },
    get commands() {
      return [...tracked.values()].map(({ id, verb, status, error, result }) => ({ id, verb, status, error, result }));
    },
  };
}
