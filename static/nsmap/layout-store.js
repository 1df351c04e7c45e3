// The user's arrangement (node positions, expanded and collapsed namespaces) and view choice,
// kept per user in localStorage. A convenience, not data: unreadable or full storage is ignored.

/**
 * initLayoutStore(username) -> {load(), save(snapshot), forget(), cancel(), viewPref(), setViewPref(m)}.
 * save() is debounced: the snapshot function runs once the user stopped moving things.
 */
export function initLayoutStore(username) {
  const layoutKey = `nsmap.layout.v1.${username}`;
  const viewKey = `nsmap.view.v1.${username}`;
  let timer = null;

  function get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null; // blocked storage
    }
  }

  function set(key, value) {
    try {
      if (value == null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch {
      /* quota or blocked storage: the layout is a convenience, not data */
    }
  }

  return {
    /** The saved {pos: {id: [x, y]}, expanded: [...], collapsed: [...]}, or null. */
    load() {
      try {
        const raw = get(layoutKey);
        return raw ? JSON.parse(raw) : null;
      } catch {
        return null; // unreadable: start fresh
      }
    },
    /** Store snapshot() in 400 ms unless another save comes first; returns nothing. */
    save(snapshot) {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const s = snapshot();
        if (s) set(layoutKey, JSON.stringify(s));
      }, 400);
    },
    /** Forget the arrangement (and any save still queued). */
    forget() {
      clearTimeout(timer);
      set(layoutKey, null);
    },
    viewPref() {
      const v = get(viewKey);
      return v === "graph" || v === "table" ? v : null;
    },
    setViewPref(m) {
      set(viewKey, m);
    },
  };
}
