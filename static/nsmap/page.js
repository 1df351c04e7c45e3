// Entry of the dashboard page (templates/nsmap/graph.html): the server's configuration comes in
// a JSON data block (no inline script, so the Content-Security-Policy needs no nonce for it).
import { loadVendor } from "./vendor.js";
import { mount } from "./app.js";
import { canAct } from "./actions.js";

const config = JSON.parse(document.getElementById("nsmap-config").textContent);
await loadVendor({ lab: canAct(config) });
window.nsmapApp = mount(document.getElementById("nsmap-app"), config);
