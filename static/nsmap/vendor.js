// The one list of vendored libraries the pages load (static/vendor/README.md), shared by
// templates/nsmap/graph.html (through page.js) and harness.html (through harness.js).
// Classic scripts, in order: their UMD wrappers set globals (window.cytoscape...) and cannot be
// imported as modules. lodash comes before edgehandles, which takes _.memoize and _.throttle
// from the global `_`; edgehandles (drawing a link) and cxtmenu (the right-click menu) serve the
// lab actions (actions.js) alone, so only a page whose user can act loads them (graph-view.js
// registers them with cytoscape when their globals exist).
const SCRIPTS = ["cytoscape-3.34.4.min.js", "layout-base-2.0.1.js", "cose-base-2.2.0.js", "cytoscape-fcose-2.2.0.js"];
const LAB_SCRIPTS = ["lodash-4.18.1.min.js", "cytoscape-edgehandles-4.0.1.js", "cytoscape-cxtmenu-3.5.0.js"];

function load(name) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = new URL(`../vendor/${name}`, import.meta.url).href;
    s.onload = resolve;
    s.onerror = () => {
      s.remove();
      reject(new Error(`could not load ${name}`));
    };
    document.head.appendChild(s);
  });
}

/** Load the vendored scripts one after the other (each needs the one before), the lab's too when
 * `lab` (actions.js canAct); a script that failed is asked for once more (Chromium cancels
 * requests when the host's network changes). */
export async function loadVendor({ lab = false } = {}) {
  for (const name of lab ? [...SCRIPTS, ...LAB_SCRIPTS] : SCRIPTS) {
    await load(name).catch(() => new Promise((ok) => setTimeout(ok, 300)).then(() => load(name)));
  }
}
