// The live connection: /ws/topology/ sends {"type": "graph"} then numbered patches (and lab
// commands' status changes, handed to actions.js). A patch that
// does not follow the last one (a gap) asks for the whole graph again ({"type": "resync"}); a
// dropped socket reconnects with backoff; every third failed attempt asks the API whether the
// session ended (then the page says so instead of retrying forever).

/**
 * initLive(ctx, {graph(msg), patch(msg), state(state), command(cmd)}) -> {receive(msg), connect(), pause(),
 * resume(), drop(), close(), state, staleSince, lastUpdate}. state is "connecting" | "live" | "reconnecting" |
 * "signed-out"; receive() is also what the harness and the bench feed messages through.
 */
export function initLive(ctx, on) {
  const { cfg, store, metrics } = ctx;
  let ws = null;
  let attempts = 0;
  let awaitingGraph = true;
  let reconnectTimer = null;
  let state = "connecting";
  let staleSince = null;
  let lastUpdate = null;
  let paused = false; // a past moment is shown (timetravel.js): live messages are held back

  function setState(s) {
    if (s === "live") staleSince = null;
    else if (!staleSince && s !== "connecting") staleSince = new Date().toISOString();
    state = s;
    if (!paused) on.state(s); // a past moment's banner stays until "Live"
  }

  /** One message from the server (or the bench): {"type": "graph"}, {"type": "patch"} or
   * {"type": "command"} (a lab command's status: shown even while a past moment is on the page). */
  function receive(msg) {
    if (msg.type === "command") {
      if (on.command && msg.command) on.command(msg.command);
      return;
    }
    if (paused) {
      if (msg.type === "graph") awaitingGraph = false; // connected; the page shows the past meanwhile
      if (msg.type === "graph" || msg.type === "patch") lastUpdate = new Date().toISOString();
      return;
    }
    if (msg.type === "graph") {
      awaitingGraph = false;
      lastUpdate = new Date().toISOString();
      setState("live");
      on.graph(msg);
      return;
    }
    if (msg.type !== "patch" || awaitingGraph) return;
    if (store.seq != null && msg.seq <= store.seq) return; // already have it
    if (store.seq == null || msg.seq !== store.seq + 1) {
      resync(`gap: had ${store.seq}, got ${msg.seq}`);
      return;
    }
    lastUpdate = new Date().toISOString();
    on.patch(msg);
  }

  function resync(why) {
    metrics.resyncs += 1;
    awaitingGraph = true;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "resync", reason: why }));
  }

  function connect() {
    clearTimeout(reconnectTimer);
    const url = cfg.wsUrl || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/topology/`;
    try {
      ws = new WebSocket(url);
    } catch {
      scheduleReconnect();
      return;
    }
    ws.onopen = () => {
      attempts = 0;
      awaitingGraph = true;
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      receive(msg);
    };
    ws.onclose = (ev) => {
      ws = null;
      if (ev.code === 4401) {
        setState("signed-out"); // the server revoked the credentials (webui/live/consumers.py)
        return;
      }
      if (ev.code === 4403) attempts = 0; // roles changed: reconnect at once to get the new ones
      scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows and reconnects */
    };
  }

  async function scheduleReconnect() {
    if (!staleSince) staleSince = new Date().toISOString();
    attempts += 1;
    if (attempts >= 3 && attempts % 3 === 0) {
      try {
        const r = await fetch(`${cfg.apiBase}nodes/`, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (r.status === 401 || r.status === 403) {
          setState("signed-out");
          return;
        }
      } catch {
        /* server down: keep trying */
      }
    }
    setState("reconnecting");
    const delay = Math.min(15000, 500 * 2 ** Math.min(attempts - 1, 5)) * (0.8 + Math.random() * 0.4);
    reconnectTimer = setTimeout(connect, delay);
  }

  return {
    receive,
    connect,
    /** Hold live messages back (a past moment is on the page). */
    pause() {
      paused = true;
    },
    /** Live again: the whole graph is asked for, since the held messages were dropped. */
    resume() {
      paused = false;
      on.state(state);
      resync("back to live");
    },
    /** Tests: drop the socket as a network failure would (the page must reconnect and resync). */
    drop() {
      if (ws) ws.close();
    },
    close() {
      clearTimeout(reconnectTimer);
      if (ws) {
        ws.onclose = null;
        ws.close();
      }
    },
    get state() {
      return state;
    },
    get staleSince() {
      return staleSince;
    },
    get lastUpdate() {
      return lastUpdate;
    },
  };
}
