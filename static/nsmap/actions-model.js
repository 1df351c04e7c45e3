// The lab actions' pure part (no DOM, no cytoscape, no fetch): free names for a new veth pair,
// each verb's args from a form's values with the same rules the agent applies (agent/verbs.py),
// and the API's refusals turned into words a person reads. Kept apart so that it is tested in a
// browser without a server (tests/e2e/test_e2e_lab_actions_model.py) and actions.js stays glue.
import { edgesOf, ifKind, nsLabel } from "./model.js";

export const NAME_MAX = 15; // IFNAMSIZ - 1 bytes (include/uapi/linux/if.h)
export const NETNS_NAME_MAX = 63; // agent/verbs.py NETNS_NAME_MAX
export const MTU = { low: 68, high: 65535, def: 1500 }; // veth and bridge (agent/verbs.py MTU_LIMITS)
export const PING = { count: [1, 20, 3], timeout: [1, 30, 5] }; // low, high, default

const bytes = (s) => new TextEncoder().encode(s).length;

// ---------------------------------------------------------------- field checks (agent/verbs.py)

function badChars(value, extra) {
  if (value === "." || value === "..") return `'${value}' is not a name`;
  for (const ch of value) {
    if (ch === "/" || extra.includes(ch)) return `must not contain '${ch}'`;
    if (/[\s\p{C}]/u.test(ch)) return "must not contain spaces or control characters";
  }
  return null;
}

/** Why `value` cannot be an interface name (the kernel's rules), or null. */
export function ifNameProblem(value) {
  const v = String(value ?? "");
  if (!v) return "a name is needed";
  const n = bytes(v);
  if (n > NAME_MAX) return `is ${n} bytes long; the kernel allows at most ${NAME_MAX}`;
  return badChars(v, ":");
}

/** Why `value` cannot be a /run/netns name, or null. */
export function netnsNameProblem(value) {
  const v = String(value ?? "");
  if (!v) return "a name is needed";
  const n = bytes(v);
  if (n > NETNS_NAME_MAX) return `is ${n} bytes long; at most ${NETNS_NAME_MAX}`;
  return badChars(v, "");
}

function v4(text) {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

function v6(text) {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return null;
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1); // the browser's strict IPv6 parser
  } catch {
    return null;
  }
}

/** {family, bad} for an IP address text, or {problem}. */
function parseIp(text) {
  if (!text || text !== text.trim() || text.includes("%")) return { problem: "is not an IP address (no spaces, no zone)" };
  const four = v4(text);
  if (four) return { family: 4, bad: four[0] === 0 && four.every((x) => x === 0) ? "unspecified" : four[0] >= 224 && four[0] <= 239 ? "multicast" : null };
  const six = v6(text);
  if (six) return { family: 6, bad: six === "::" ? "unspecified" : /^ff/i.test(six) ? "multicast" : null };
  return { problem: `'${text.slice(0, 60)}' is not an IPv4 or IPv6 address` };
}

/** Why `value` is not an address with a prefix length (10.1.1.2/24, fd00::1/64), or null. */
export function cidrProblem(value) {
  const v = String(value ?? "");
  const [address, prefix, extra] = v.split("/");
  if (!v.includes("/")) return `'${v.slice(0, 60)}' has no prefix length (write it as 10.1.1.2/24)`;
  if (extra !== undefined || !/^[0-9]{1,3}$/.test(prefix)) return "the prefix length must be a number (no netmask, no spaces)";
  const ip = parseIp(address);
  if (ip.problem) return ip.problem;
  if (Number(prefix) > (ip.family === 4 ? 32 : 128)) return `/${prefix} is too long for an IPv${ip.family} address`;
  if (ip.bad) return `is an ${ip.bad} address`;
  return null;
}

/** Why `value` is not a usable IP address, or null. */
export function ipProblem(value) {
  const ip = parseIp(String(value ?? ""));
  if (ip.problem) return ip.problem;
  return ip.bad ? `is an ${ip.bad} address` : null;
}

/** [number, null] or [null, why] for a whole number between low and high. */
export function intIn(value, low, high, unit) {
  const v = String(value ?? "").trim();
  if (!/^[0-9]{1,7}$/.test(v)) return [null, `must be a whole number from ${low} to ${high}${unit ? ` ${unit}` : ""}`];
  const n = Number(v);
  if (n < low || n > high) return [null, `${n} is outside ${low}..${high}${unit ? ` ${unit}` : ""}`];
  return [n, null];
}

// ---------------------------------------------------------------- names for a new pair

/** The interface names in a namespace, as the store has them. */
export function namesIn(store, nsId) {
  const out = new Set();
  for (const i of store.interfaces.values()) if (i.namespace === nsId) out.add(i.name);
  return out;
}

/** A short tag for a namespace in a proposed name: "root", or the last word of its name or label. */
export function nsTag(ns) {
  if (!ns) return "x";
  if (ns.kind === "root") return "root";
  const text = (ns.names && ns.names[0]) || (ns.owner && ns.owner.name) || (ns.pids && ns.pids[0] && ns.pids[0].comm) || ns.key || "ns";
  const words = String(text).toLowerCase().match(/[a-z0-9]+/g) || ["ns"];
  return words[words.length - 1].slice(0, 4);
}

/** `base`, or `base` with a suffix ("-2", "-3"...), at most NAME_MAX bytes, not in `taken`. */
export function freeName(base, taken) {
  const cut = (s, n) => {
    let out = s;
    while (bytes(out) > n) out = out.slice(0, -1);
    return out;
  };
  const first = cut(base, NAME_MAX);
  if (!taken.has(first)) return first;
  for (let k = 2; k < 1000; k++) {
    const suffix = `-${k}`;
    const name = cut(base, NAME_MAX - suffix.length) + suffix;
    if (!taken.has(name)) return name;
  }
  return null;
}

/**
 * Names for a new pair from namespace `aNs` to `bNs` (a namespace id; for a bridge end, the
 * bridge's namespace): `veth-<a>-<b>` and `veth-<b>-<a>`, each free where it will live (and
 * different from each other when both ends share a namespace).
 */
export function proposeNames(store, aNs, bNs) {
  const a = nsTag(store.namespaces.get(aNs));
  const b = nsTag(store.namespaces.get(bNs));
  const takenA = namesIn(store, aNs);
  const nameA = freeName(aNs === bNs ? `veth-${a}-0` : `veth-${a}-${b}`, takenA);
  const takenB = namesIn(store, bNs);
  if (aNs === bNs) takenB.add(nameA);
  const nameB = freeName(aNs === bNs ? `veth-${b}-1` : `veth-${b}-${a}`, takenB);
  return [nameA, nameB];
}

/** Why a pair from namespace `aNs` to `target` (a namespace or a bridge) cannot be made, or null. */
export function vethRefusal(store, aNs, target) {
  const a = store.namespaces.get(aNs);
  const t = store.get(target);
  if (!a || !t) return "one of the two ends is no longer on the map";
  const host = t.host;
  if (a.host !== host) {
    return `a veth pair never spans hosts: ${a.host} and ${host} are different machines (a pair is a cable inside one kernel)`;
  }
  if (store.interfaces.has(target) && ifKind(t) !== "bridge") return `${t.name} is not a bridge: drop the link on a namespace or a bridge`;
  return null;
}

// ---------------------------------------------------------------- args from form values

const trimmed = (v) => String(v ?? "").trim();

/**
 * Each verb's args from a form's values (the keys are the API's field paths without "args.").
 * Returns {args} or {errors: {field: reason}}; nothing is sent unless errors is empty.
 * Targets (interface and namespace ids) come from the page, not from typing.
 */
export function buildArgs(verb, v) {
  const errors = {};
  const need = (field, problem) => {
    if (problem) errors[field] = problem;
  };
  const name = (field) => {
    need(field, ifNameProblem(v[field]));
    return v[field];
  };
  const optCidr = (field) => {
    const text = trimmed(v[field]);
    if (text) need(field, cidrProblem(text));
    return text || null;
  };
  let args;
  switch (verb) {
    case "veth.create": {
      const [mtu, why] = intIn(v.mtu === "" || v.mtu == null ? MTU.def : v.mtu, MTU.low, MTU.high, "bytes");
      need("mtu", why);
      const up = !!v.up;
      const a = { namespace: v["a.namespace"], name: name("a.name"), mtu, up };
      const b = v["b.bridge"] ? { bridge: v["b.bridge"], name: name("b.name"), mtu, up } : { namespace: v["b.namespace"], name: name("b.name"), mtu, up };
      const addrA = optCidr("a.address");
      const addrB = optCidr("b.address");
      if (addrA) a.address = addrA;
      if (addrB) b.address = addrB;
      if (!errors["b.name"] && !v["b.bridge"] && a.namespace === b.namespace && a.name === b.name) errors["b.name"] = "both ends would have the same name in one namespace";
      args = { a, b };
      break;
    }
    case "link.set": {
      args = { interface: v.interface };
      if (v.up != null && v.up !== "") args.up = v.up === true || v.up === "up";
      if (trimmed(v.mtu) !== "") {
        const [mtu, why] = intIn(v.mtu, MTU.low, MTU.high, "bytes");
        need("mtu", why);
        args.mtu = mtu;
      }
      if (trimmed(v.name) !== "" && v.name !== v.currentName) args.name = name("name");
      if (!("up" in args) && !("mtu" in args) && !("name" in args) && !Object.keys(errors).length) errors[""] = "nothing to change: set the state, the MTU or a new name";
      break;
    }
    case "address.add":
    case "address.remove": {
      const text = trimmed(v.address);
      need("address", text ? cidrProblem(text) : "an address with its prefix length is needed, like 10.1.1.2/24");
      args = { interface: v.interface, address: text };
      break;
    }
    case "link.move":
      if (!v.namespace) errors.namespace = "choose the namespace to move it into";
      args = { interface: v.interface, namespace: v.namespace };
      break;
    case "link.delete":
    case "bridge.delete":
      args = { interface: v.interface };
      break;
    case "bridge.create":
      args = { namespace: v.namespace, name: name("name") };
      break;
    case "bridge.attach":
      if (!v.bridge) errors.bridge = "choose a bridge in the same namespace";
      args = { interface: v.interface, bridge: v.bridge };
      break;
    case "bridge.detach":
      args = v.bridge ? { interface: v.interface, bridge: v.bridge } : { interface: v.interface };
      break;
    case "netns.create":
      need("name", netnsNameProblem(v.name));
      args = { name: v.name };
      break;
    case "netns.delete":
      args = { name: v.name, force: !!v.force };
      break;
    case "ping": {
      const text = trimmed(v.address);
      need("address", text ? ipProblem(text) : "an address to ping is needed, like 10.1.1.3");
      const [count, whyC] = intIn(v.count ?? PING.count[2], PING.count[0], PING.count[1], "packets");
      const [timeout, whyT] = intIn(v.timeout ?? PING.timeout[2], PING.timeout[0], PING.timeout[1], "seconds");
      need("count", whyC);
      need("timeout", whyT);
      args = { namespace: v.namespace, address: text, count, timeout };
      break;
    }
    default:
      return { errors: { "": `unknown action ${verb}` } };
  }
  return Object.keys(errors).length ? { errors } : { args };
}

// ---------------------------------------------------------------- refusals in words

const FIELD_WORDS = {
  node: "host",
  verb: "action",
  idempotency_key: "request",
  "a.name": "first end's name",
  "b.name": "second end's name",
  "a.address": "first end's address",
  "b.address": "second end's address",
  "a.namespace": "first end's namespace",
  "b.namespace": "second end's namespace",
  "b.bridge": "bridge",
  "a.mtu": "MTU",
  "b.mtu": "MTU",
  interface: "interface",
  namespace: "namespace",
  address: "address",
  bridge: "bridge",
  mtu: "MTU",
  name: "name",
  force: "force",
  count: "count",
  timeout: "timeout",
};

/** "args.a.name" -> "a.name"; the form field a server field belongs to ("" for the form as a whole). */
export function formField(apiField, formFields) {
  const key = String(apiField).replace(/^args\.?/, "");
  if (formFields.includes(key)) return key;
  const last = key.split(".").pop();
  if (formFields.includes(last)) return last;
  return "";
}

/** What a field is called for a person ("args.b.name" -> "second end's name"). */
export function fieldWords(apiField) {
  const key = String(apiField).replace(/^args\.?/, "");
  return FIELD_WORDS[key] || (key ? key.replace(/[._]/g, " ") : "request");
}

/**
 * The API's 400 body ({field: [reason]} or {field: reason}, or {"error": ...}) as
 * {fields: {formField: reason}, general: [sentences]} for a form with `formFields`.
 */
export function explainRejection(body, formFields) {
  const fields = {};
  const general = [];
  if (!body || typeof body !== "object") return { fields, general: ["the server refused the request"] };
  for (const [k, raw] of Object.entries(body)) {
    const reason = String(Array.isArray(raw) ? raw[0] : raw);
    if (k === "error" || k === "detail") {
      general.push(reason);
      continue;
    }
    const f = formField(k, formFields);
    if (f && !fields[f]) fields[f] = reason;
    else general.push(`${fieldWords(k)}: ${reason}`);
  }
  return { fields, general };
}

/**
 * Why a command was not sent (send()'s {status, body}; status 0: no answer) as {fields, general}:
 * a 400's reasons go next to the form's own fields, anything else is one general sentence.
 */
export function explainSend(sent, formFields) {
  if (sent.status === 400) return explainRejection(sent.body, formFields);
  return { fields: {}, general: [sent.status ? explainStatus(sent.status) : sent.body.error] };
}

/** An HTTP status that is not a field refusal, in words. */
export function explainStatus(status) {
  if (status === 401) return "You are signed out: sign in again, then retry.";
  if (status === 403) return "Your role does not allow lab actions (an operator or admin may).";
  if (status === 429) return "Too many requests just now: wait a moment, then retry.";
  if (status >= 500) return `The server failed (${status}); nothing is known to have changed.`;
  return `The server answered ${status}.`;
}

/**
 * A failed command's `error` (agent/lab.py: "refused: args.x: reason", "failed: ...",
 * "bad args: ...", or the server's own "node h1 is offline...") as one plain sentence.
 */
export function explainFailure(error) {
  let text = String(error || "no reason given");
  let lead = "Failed";
  let tail = "";
  const m = text.match(/^(refused|failed|bad args):\s*/);
  if (m) {
    text = text.slice(m[0].length);
    if (m[1] === "refused") {
      lead = "Refused by the host";
      tail = " Nothing was changed.";
    } else if (m[1] === "bad args") lead = "The host's agent refused the input";
  }
  const f = text.match(/^(args(?:\.[a-z_]+)*):\s*/);
  if (f) text = `the ${fieldWords(f[1])}: ${text.slice(f[0].length)}`;
  return `${lead}: ${text}${/[.!?]$/.test(text) ? "" : "."}${tail}`;
}

// ---------------------------------------------------------------- command lifecycle

export const STATUS_RANK = { requested: 0, sent: 1, running: 2, done: 3, failed: 3 };
export const FINISHED = new Set(["done", "failed"]);

/** Whether a status report moves a command forward (reports can arrive out of order). */
export function advances(from, to) {
  if (!(to in STATUS_RANK)) return false;
  if (from == null) return true;
  return !FINISHED.has(from) && STATUS_RANK[to] > STATUS_RANK[from];
}

const ms = (x) => (x == null ? "?" : Number(x).toFixed(3).replace(/\.?0+$/, ""));
const lossText = (result) => (typeof result.loss === "number" ? `${Math.round(result.loss * 10) / 10}%` : String(result.loss));

/** A ping's result in words: "3 sent, 3 received, 0% loss, rtt 0.04 / 0.06 / 0.09 ms". */
export function pingText(result) {
  if (!result) return "";
  const rtt = result.rtt_ms;
  return `${result.sent} sent, ${result.received} received, ${lossText(result)} loss${rtt ? `, rtt min/avg/max ${ms(rtt.min)} / ${ms(rtt.avg)} / ${ms(rtt.max)} ms` : ""}`;
}

/** A ping's result as an edge's label: "0% loss · 0.031 ms" (the average round trip), "100% loss". */
export function pingLabel(result, error) {
  if (!result) return error ? "ping failed" : "";
  const avg = result.received > 0 && result.rtt_ms ? result.rtt_ms.avg : null;
  return `${lossText(result)} loss${avg == null ? "" : ` · ${ms(avg)} ms`}`;
}

/** An IP address (with or without its prefix length) as {family, bits} (a BigInt); null if none. */
function ipBits(text) {
  const bare = String(text ?? "").split("/")[0];
  const ip = parseIp(bare);
  if (ip.problem) return null;
  if (ip.family === 4) return { family: 4, bits: bare.split(".").reduce((n, p) => (n << 8n) | BigInt(p), 0n) };
  // The browser's canonical spelling: hex groups only (an embedded IPv4 part comes back as hex).
  const [head, tail] = v6(bare).split("::");
  const groups = (part) => (part ? part.split(":") : []);
  const hi = groups(head);
  const lo = groups(tail);
  const all = tail === undefined ? hi : [...hi, ...Array(8 - hi.length - lo.length).fill("0"), ...lo];
  return { family: 6, bits: all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** Whether `cidr` (an interface's "10.1.1.2/24") is on the same subnet as the address `want` (ipBits). */
function onSubnet(cidr, want) {
  const mine = ipBits(cidr);
  const width = want.family === 4 ? 32 : 128;
  const prefix = Number(String(cidr).split("/")[1] ?? width);
  if (!mine || mine.family !== want.family) return false;
  const shift = BigInt(width - prefix);
  return mine.bits >> shift === want.bits >> shift;
}

/**
 * The link a ping from namespace `nsId` to `address` left by: {edge: {id, kind, a, b}, near, far,
 * bridge} (the edge from the end `near` in `nsId` to `far`; `bridge` when the ping went into one)
 * or {reason} when no edge can be named. The agent's result says which interface the kernel
 * routed it by (`result.interface`, a graph id): then that interface's link is the answer
 * (routedEdge). Only a result without it (an older agent's, or no result) falls back to a guess
 * from the addresses on the map (guessedEdge).
 */
export function pingEdge(store, nsId, address, result) {
  return result?.interface ? routedEdge(store, result.interface, address) : guessedEdge(store, nsId, address);
}

/** Whether interface `i` holds the address `want` (ipBits, null matches nothing). */
function holdsAddress(i, want) {
  return !!want && (i.addresses || []).some((a) => {
    const b = ipBits(a);
    return b && b.family === want.family && b.bits === want.bits;
  });
}

const byId = (x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

/** The veth edge from `end` (in the ping's namespace) to its peer, in pingEdge's shape. */
function pairWay(store, end, bridge) {
  return { edge: edgesOf(store, end).find((e) => e.kind === "veth"), near: end.id, far: end.peer, bridge };
}

/**
 * The link of the interface a ping left by: its veth pair (into the bridge its peer is a port
 * of, if so); for a bridge, the pair of the port whose peer holds the address or sits in the
 * namespace that does; else its own bridge-port edge.
 */
function routedEdge(store, ifId, address) {
  const i = store.interfaces.get(ifId);
  if (!i) return { reason: `the ping left by an interface the map does not show (${ifId})` };
  if (i.peer && store.interfaces.has(i.peer)) {
    const master = store.interfaces.get(i.peer).master;
    return pairWay(store, i, master && store.interfaces.has(master) ? master : null);
  }
  if (ifKind(i) === "loopback") return { reason: `${address} is in this namespace itself: the ping crosses no link` };
  if (ifKind(i) === "bridge") {
    const want = ipBits(address);
    const all = [...store.interfaces.values()];
    const there = new Set(all.filter((x) => holdsAddress(x, want)).map((x) => x.namespace));
    const ports = all.filter((q) => q.master === i.id && q.peer && store.interfaces.has(q.peer)).sort(byId);
    const peer = (q) => store.interfaces.get(q.peer);
    const port = ports.find((q) => holdsAddress(peer(q), want)) || ports.find((q) => there.has(peer(q).namespace));
    if (port) return pairWay(store, port, i.id);
    return { reason: `the ping left by bridge ${i.name}; which of its ports leads to ${address} is not on the map` };
  }
  const edge = edgesOf(store, i).find((e) => e.kind === "port");
  if (edge) return { edge, near: i.id, far: i.master, bridge: i.master };
  return { reason: `the ping left by ${i.name}, which links to nothing on the map` };
}

/**
 * The link a ping leaves by, as far as the map's addresses tell (pingEdge's shape). Tried in
 * order: the peer holds the address; the peer's namespace holds it (a bridge there included);
 * the peer is a port of a bridge with another port whose peer's namespace holds it. An end with
 * an address on the target's subnet goes before all others (what the kernel's connected route
 * picks); ties go to the lowest id.
 */
function guessedEdge(store, nsId, address) {
  const want = ipBits(address);
  if (!want) return { reason: `${address} is not an IP address` };
  const all = [...store.interfaces.values()];
  const holders = all.filter((i) => holdsAddress(i, want));
  if (!holders.length) return { reason: `no interface on the map holds ${address}` };
  if (holders.some((i) => i.namespace === nsId)) return { reason: `${address} is in this namespace itself: the ping crosses no link` };
  const there = new Set(holders.map((i) => i.namespace));
  const viaBridge = (p) => {
    const b = p.master && store.interfaces.get(p.master);
    const reaches = b && all.some((q) => q.master === b.id && q.id !== p.id && q.peer && there.has(store.interfaces.get(q.peer)?.namespace));
    return reaches ? b : null;
  };
  const ends = all
    .filter((i) => i.namespace === nsId && i.peer && store.interfaces.has(i.peer))
    .sort(byId)
    .map((i) => [i, store.interfaces.get(i.peer)]);
  const tests = [([, p]) => holders.includes(p), ([, p]) => there.has(p.namespace), ([, p]) => viaBridge(p)];
  // The kernel sends to a connected subnet by the interface on it: such an end goes first.
  const routed = ([i]) => (i.addresses || []).some((a) => onSubnet(a, want));
  for (const pass of [routed, () => true]) {
    for (let k = 0; k < tests.length; k++) {
      const hit = ends.find((end) => pass(end) && tests[k](end));
      if (hit) return pairWay(store, hit[0], k === 2 ? viaBridge(hit[1]).id : null);
    }
  }
  return { reason: `no veth pair or bridge on the map leads from this namespace to ${address}` };
}

/** A one-line description of a command for the status list ("veth.create veth0 ↔ veth1"). */
export function describe(verb, args, store) {
  const ifName = (id) => (store && store.interfaces.get(id)?.name) || id;
  const a = args || {};
  switch (verb) {
    case "veth.create":
      return `new veth pair ${a.a?.name} ↔ ${a.b?.name}`;
    case "link.set": {
      const what = [a.up === true ? "up" : a.up === false ? "down" : null, a.mtu ? `MTU ${a.mtu}` : null, a.name ? `name ${a.name}` : null].filter(Boolean);
      return `set ${ifName(a.interface)}: ${what.join(", ")}`;
    }
    case "address.add":
      return `add ${a.address} to ${ifName(a.interface)}`;
    case "address.remove":
      return `remove ${a.address} from ${ifName(a.interface)}`;
    case "link.move":
      return `move ${ifName(a.interface)} to ${(store && store.namespaces.has(a.namespace) && nsLabel(store.namespaces.get(a.namespace))) || a.namespace}`;
    case "link.delete":
      return `delete ${ifName(a.interface)} and its peer`;
    case "bridge.create":
      return `new bridge ${a.name}`;
    case "bridge.delete":
      return `delete bridge ${ifName(a.interface)}`;
    case "bridge.attach":
      return `attach ${ifName(a.interface)} to ${ifName(a.bridge)}`;
    case "bridge.detach":
      return `detach ${ifName(a.interface)} from its bridge`;
    case "netns.create":
      return `new namespace ${a.name}`;
    case "netns.delete":
      return `delete namespace ${a.name}${a.force ? " (forced)" : ""}`;
    case "ping":
      return `ping ${a.address}`;
    default:
      return verb;
  }
}

/** nsmap's mark on what it created (agent/verbs.py MARK): the alias "nsmap:<command id>". */
export const madeByNsmap = (i) => typeof i.alias === "string" && i.alias.startsWith("nsmap:");

/** Why the host never changes this interface (agent/actions.py's uplink rule), or null:
 * lo, and devices without a link kind (physical ones: the graph sends kind "device" for them,
 * agent/netlink.py). A default route's interface is the host's to judge; the page does not know
 * its routes. */
export function untouchable(i) {
  const kind = ifKind(i);
  if (kind === "loopback") return "nsmap never changes lo";
  if (kind === "device") return "a device, not a virtual link: nsmap never changes those";
  return null;
}
