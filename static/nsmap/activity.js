// Change activity over time, one row of bars per host, so bursts stand out. Each bar is a button
// (keyboard and screen readers reach it); choosing one calls onPick({start, end}).
import { h } from "./dom.js";

export function activityChart(root, data, onPick) {
  const buckets = data.buckets || [];
  const hosts = data.hosts || [];
  root.replaceChildren();
  if (!buckets.length || !hosts.length) {
    root.append(h("p", { class: "muted" }, "No change in this time range."));
    return;
  }
  const max = Math.max(1, ...hosts.flatMap((row) => row.counts));
  const first = new Date(buckets[0].start);
  const last = new Date(buckets[buckets.length - 1].end);
  root.append(
    h("p", { class: "muted small" }, `${first.toLocaleString()} – ${last.toLocaleString()}, busiest interval: ${max} change${max === 1 ? "" : "s"}`),
  );
  for (const host of hosts) {
    const bars = h("div", { class: "act-bars", role: "group", "aria-label": `changes on ${host.host}` });
    host.counts.forEach((count, i) => {
      const bucket = buckets[i];
      const label = `${host.host}: ${count} change${count === 1 ? "" : "s"} from ${new Date(bucket.start).toLocaleString()}`;
      const bar = h("button", { type: "button", class: "act-bar", title: label, "aria-label": label });
      bar.style.height = `${Math.max(count ? 8 : 2, Math.round((count / max) * 100))}%`;
      if (!count) bar.classList.add("act-empty");
      bar.addEventListener("click", () => onPick(bucket));
      bars.append(bar);
    });
    root.append(h("div", { class: "act-row" }, h("span", { class: "act-host" }, host.host), bars));
  }
}
