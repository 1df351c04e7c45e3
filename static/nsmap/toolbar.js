// The toolbar: Graph/Table switch, search, layout buttons, Export menu, the connection pill; its
// keyboard (Tab, arrows, Home/End; "/" to search, "?" for help, Escape closes what opened) and,
// below 700 px, the layout buttons and Export folded behind a "Tools" menu button.

// Constant markup, no data: every value shown later is set as text (dom.js).
const TOOLBAR = `
  <div class="nsm-seg" role="group" aria-label="View">
    <button type="button" data-act="view-graph" aria-pressed="true">Graph</button>
    <button type="button" data-act="view-table" aria-pressed="false">Table</button>
  </div>
  <form class="nsm-search" role="search">
    <label for="nsm-q" class="sr-only">Search</label>
    <input id="nsm-q" type="search" autocomplete="off" spellcheck="false"
      placeholder="Search (/): eth0, ns:, addr:, kind:…"
      title="Free text (name, namespace, 10.0.0.1, MAC, pid, container id), or field:value with name ns addr mac ctr pid kind state host, e.g. kind:veth state:down. Press / to get here, Escape to clear, ? for help.">
    <label class="nsm-check"><input type="checkbox" id="nsm-only"> only matches</label>
    <button type="submit">Find</button>
    <button type="button" data-act="clear">Clear</button>
  </form>
  <button type="button" class="nsm-tools-toggle" data-act="tools" aria-expanded="false" aria-controls="nsm-tools">Tools</button>
  <div class="nsm-tools" id="nsm-tools">
    <div class="nsm-group" role="group" aria-label="Layout">
      <button type="button" data-act="fit" title="Fit the graph in the window">Fit</button>
      <button type="button" data-act="zoom-in" aria-label="Zoom in">+</button>
      <button type="button" data-act="zoom-out" aria-label="Zoom out">−</button>
      <button type="button" data-act="expand-all">Expand all</button>
      <button type="button" data-act="collapse-all">Collapse all</button>
      <button type="button" data-act="arrange" title="Force-directed layout (fcose) of what is shown">Arrange</button>
      <button type="button" data-act="reset-layout" title="Forget my arrangement">Reset layout</button>
      <button type="button" data-act="show-all" hidden>Show all</button>
      <label class="nsm-check" hidden><input type="checkbox" id="nsm-alledges"> all edges</label>
    </div>
    <details class="nsm-export">
      <summary>Export</summary>
      <div class="nsm-menu">
        <button type="button" data-act="export-png">PNG (view)</button>
        <button type="button" data-act="export-svg">SVG (view)</button>
        <button type="button" data-act="export-json">Graph JSON</button>
        <button type="button" data-act="export-dot">Graphviz dot</button>
      </div>
    </details>
  </div>
  <span class="nsm-conn" role="status" data-state="connecting">connecting…</span>`;

const HELP = `
  <h2 id="nsm-help-title">Keyboard</h2>
  <dl>
    <dt><kbd>Tab</kbd>, <kbd>Shift</kbd>+<kbd>Tab</kbd></dt><dd>move between controls, results, table rows and the details</dd>
    <dt><kbd>←</kbd> <kbd>→</kbd> <kbd>Home</kbd> <kbd>End</kbd></dt><dd>move along the toolbar</dd>
    <dt><kbd>/</kbd></dt><dd>go to the search</dd>
    <dt><kbd>Enter</kbd>, <kbd>Space</kbd></dt><dd>press the focused button or link</dd>
    <dt><kbd>Escape</kbd></dt><dd>clear the search, close a menu, this help or the details on a small screen</dd>
    <dt><kbd>?</kbd></dt><dd>this help</dd>
  </dl>
  <h2>Search</h2>
  <p>Free text matches names, namespaces, addresses, MACs, pids and container ids.
    Fields narrow it: <code>name:</code> <code>ns:</code> <code>addr:</code> <code>mac:</code> <code>ctr:</code>
    <code>pid:</code> <code>kind:</code> <code>state:</code> <code>host:</code>, e.g. <code>kind:veth state:down</code>.</p>
  <h2>The graph</h2>
  <p>The graph is a picture for the mouse (click for details, double-click a namespace to expand it).
    The <b>Table</b> view shows the same data and works fully from the keyboard and with a screen reader.</p>
  <form method="dialog"><button type="submit">Close</button></form>`;

/** Build the toolbar into `el` (and the help dialog into `dialogEl`); returns its elements. */
export function buildToolbar(el, dialogEl) {
  // eslint-disable-next-line no-restricted-syntax -- constant markup, no data
  el.innerHTML = TOOLBAR;
  // eslint-disable-next-line no-restricted-syntax -- constant markup, no data
  dialogEl.innerHTML = HELP;
  const $ = (s) => el.querySelector(s);
  return { q: $("#nsm-q"), only: $("#nsm-only"), allEdges: $("#nsm-alledges"), conn: $(".nsm-conn"), exportMenu: $(".nsm-export") };
}

/**
 * Wire the page's controls: clicks on any [data-act] / [data-select] inside root go to
 * actions[act](button) / select(id); the search box runs search(); keys as listed in HELP.
 */
export function initToolbar(ctx, { actions, select, search, escape }) {
  const { root, els } = ctx;
  const toolbarEl = els.toolbar;
  const exportEl = els.exportMenu;
  const toolsBtn = toolbarEl.querySelector('[data-act="tools"]');

  function setTools(open) {
    toolsBtn.setAttribute("aria-expanded", String(open));
    toolbarEl.classList.toggle("nsm-tools-open", open);
  }

  root.addEventListener("click", (ev) => {
    const t = ev.target.closest("button, [data-select]");
    if (!t || !root.contains(t)) return;
    if (t.dataset.select) {
      select(t.dataset.select);
      return;
    }
    const act = t.dataset.act;
    if (act === "tools") {
      setTools(toolsBtn.getAttribute("aria-expanded") !== "true");
      return;
    }
    if (act && actions[act]) {
      actions[act](t);
      if (act.startsWith("export-")) exportEl.open = false;
    }
  });
  toolbarEl.querySelector(".nsm-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    search(true);
  });
  els.only.addEventListener("change", () => search(false));
  let typeTimer = null;
  els.q.addEventListener("input", () => {
    clearTimeout(typeTimer);
    typeTimer = setTimeout(() => search(false), 300);
  });

  document.addEventListener("keydown", (ev) => {
    const active = document.activeElement;
    const typing = active && (active.matches("textarea, select, input:not([type=checkbox]):not([type=radio])") || active.isContentEditable);
    const plain = !ev.ctrlKey && !ev.metaKey && !ev.altKey;
    if (ev.key === "/" && plain && !typing) {
      ev.preventDefault();
      els.q.focus();
      els.q.select();
    } else if (ev.key === "?" && plain && !typing && !els.help.open) {
      ev.preventDefault();
      els.help.showModal();
    } else if (ev.key === "Escape" && active === els.q) {
      els.q.value = "";
      search(false);
    } else if (ev.key === "Escape" && exportEl.open) {
      exportEl.open = false;
      exportEl.querySelector("summary").focus();
    } else if (ev.key === "Escape" && toolsBtn.getAttribute("aria-expanded") === "true" && toolbarEl.contains(active)) {
      setTools(false);
      toolsBtn.focus();
    } else if (ev.key === "Escape" && !els.help.open) {
      escape();
    }
  });
  // The Export menu closes when the pointer or the focus goes elsewhere, like any menu.
  document.addEventListener("click", (ev) => {
    if (exportEl.open && !exportEl.contains(ev.target)) exportEl.open = false;
  });
  exportEl.addEventListener("focusout", (ev) => {
    if (ev.relatedTarget && !exportEl.contains(ev.relatedTarget)) exportEl.open = false;
  });
  // role="toolbar": besides Tab, the arrow keys (and Home / End) move between its controls.
  toolbarEl.addEventListener("keydown", (ev) => {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(ev.key) || ev.target === els.q) return;
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.target.closest(".nsm-menu")) return;
    const items = [...toolbarEl.querySelectorAll("button, input, summary")].filter(
      (x) => !x.disabled && !x.closest("[hidden]") && !x.closest(".nsm-menu") && x.offsetParent !== null,
    );
    const k = items.indexOf(ev.target);
    if (k < 0) return;
    const next = { ArrowLeft: k - 1, ArrowRight: k + 1, Home: 0, End: items.length - 1 }[ev.key];
    ev.preventDefault();
    items[(next + items.length) % items.length].focus();
  });

  return {
    /** Which view the switch shows as pressed; graph-only buttons are disabled in the table. */
    setMode(m) {
      toolbarEl.querySelector('[data-act="view-graph"]').setAttribute("aria-pressed", String(m === "graph"));
      toolbarEl.querySelector('[data-act="view-table"]').setAttribute("aria-pressed", String(m === "table"));
      for (const a of ["fit", "zoom-in", "zoom-out", "expand-all", "collapse-all", "arrange", "reset-layout"]) {
        toolbarEl.querySelector(`[data-act="${a}"]`).disabled = m !== "graph";
      }
    },
    showAllButton(shown) {
      toolbarEl.querySelector('[data-act="show-all"]').hidden = !shown;
    },
  };
}
