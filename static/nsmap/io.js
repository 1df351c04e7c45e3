// What the history page and the dashboard's time travel share: JSON from the API (an error
// answer becomes an Error with the server's reason) and moments between ISO 8601 and the
// browser's "local date-time" inputs.

/** GET `url` as JSON; throws with the server's reason ({"error": ...}) on an error status. */
export async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || data.detail || `the server answered ${response.status}`);
  return data;
}

// "local date-time" inputs speak the browser's zone; the API speaks ISO 8601 with a zone
export function toIso(localValue) {
  if (!localValue) return "";
  const date = new Date(localValue);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

export function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
