// Entry of the history page (templates/nsmap/history.html): config from the page, then the parts.
import { initHistory } from "./history.js";

const config = JSON.parse(document.getElementById("nsmap-config").textContent);
window.nsmapHistory = initHistory(document.getElementById("nsmap-history"), config);
