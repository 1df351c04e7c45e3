// Entry of the offline harness (harness.html): the dashboard's own code fed a synthetic graph
// without a server (bench/ui.py, tests/e2e); the pure modules are exposed for the model tests. ?n=1000 builds 1,000 namespaces / ~4,000
// interfaces; ?view=graph|table|auto; ?collapse=N and ?table=N override the thresholds.
import { loadVendor } from "./vendor.js";
import { mount } from "./app.js";
import * as M from "./model.js";
import * as LabModel from "./actions-model.js";
import { canAct } from "./actions.js";

const q = new URLSearchParams(location.search);
window.nsmapModel = M;
window.nsmapLabModel = LabModel;
const cfg = { username: q.get("user") || "harness", source: "none", initialView: q.get("view") || "graph" };
if (q.get("collapse")) cfg.collapseThreshold = Number(q.get("collapse"));
if (q.get("table")) cfg.tableThreshold = Number(q.get("table"));
if (q.get("roles")) cfg.roles = q.get("roles").split(","); // ?roles=viewer,operator: the lab actions' controls
await loadVendor({ lab: canAct(cfg) });
window.nsmapStart = (graph) => {
  const t0 = performance.now();
  const app = mount(document.getElementById("nsmap-app"), cfg);
  window.nsmapApp = app;
  app.receive({ type: "graph", seq: graph.seq, graph });
  return app.rendered.then(() => performance.now() - t0);
};
window.nsmapReady = true;
if (q.get("n")) window.nsmapStart(M.syntheticGraph(Number(q.get("n"))));
