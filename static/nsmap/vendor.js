// The one list of vendored libraries the pages load (static/vendor/README.md), shared by
// templates/nsmap/graph.html (through page.js) and harness.html (through harness.js).
// Classic scripts, in order: their UMD wrappers set globals (window.cytoscape...) and cannot be
// imported as modules. edgehandles, cxtmenu and lodash stay vendored but are not loaded: nothing
// uses them yet.
const SCRIPTS = ["cytoscape-3.34.4.min.js", "layout-base-2.0.1.js", "cose-base-2.2.0.js", "cytoscape-fcose-2.2.0.js"];

/** Load the vendored scripts in order; resolves once all ran. */
export function loadVendor() {
  return Promise.all(
    SCRIPTS.map(
      (name) =>
        new Promise((resolve, reject) => {
          const s = document.createElement("script");
          s.src = new URL(`../vendor/${name}`, import.meta.url).href;
          s.async = false; // run in list order, each after the one before
          s.onload = resolve;
          s.onerror = () => reject(new Error(`could not load ${name}`));
          document.head.appendChild(s);
        }),
    ),
  );
}
