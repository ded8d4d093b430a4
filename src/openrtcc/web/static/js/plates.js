// Plate search: a purpose and a case number with every search; pages, and CSV/JSON export as a download.
import { api } from "./api.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { localInputToUtc, timeElement } from "./format.js";
import { session } from "./session.js";

const form = byId("plate-form");
let last = null; // the query of the shown results, for the next page and the exports

function query() {
  const d = new FormData(form);
  const text = (name) => (d.get(name) || "").trim() || null;
  const number = (name) => (text(name) === null ? null : Number(text(name)));
  const body = { purpose: text("purpose") || "", case_number: text("case_number") || "", plate: text("plate"),
    partial: text("partial"), lookalikes: d.get("lookalikes") === "on", lat: number("lat"), lon: number("lon"),
    radius_m: number("radius_m"), since: localInputToUtc(d.get("since")), until: localInputToUtc(d.get("until")) };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
}

function rows(results) {
  return results.map((r) => el("tr", {},
    el("td", {}, timeElement(r.captured_at)),
    el("td", {}, el("strong", { class: "plate" }, r.plate), " ", r.state || ""),
    el("td", {}, r.lat !== null ? `${r.lat.toFixed(5)}, ${r.lon.toFixed(5)}` : "—"),
    el("td", {}, [r.vehicle_colour, r.vehicle_make, r.vehicle_type].filter(Boolean).join(" ") || "—"),
    el("td", {}, `${Math.round(r.confidence * 100)}%`)));
}

async function search(cursor) {
  replaceChildren(byId("plate-error"));
  const body = cursor ? { ...last, cursor } : query();
  try {
    const page = await api("/api/agency/plates/search", { method: "POST", body });
    last = cursor ? last : body;
    const box = byId("plate-results");
    if (!cursor) {
      replaceChildren(box, page.results.length
        ? el("div", { class: "table-wrap" }, table(["Read at", "Plate", "Where", "Vehicle", "Confidence"], [], "Plate reads"))
        : notice("No reads match."));
    }
    const tbody = box.querySelector("tbody");
    if (tbody) tbody.append(...rows(page.results));
    const more = byId("plate-more");
    more.hidden = !page.next_cursor;
    more.onclick = () => search(page.next_cursor);
  } catch (error) {
    replaceChildren(byId("plate-error"), notice(error.message, "error"));
  }
}

async function exportAs(format) {
  replaceChildren(byId("plate-error"));
  const response = await fetch(`/api/agency/plates/search?format=${format}`, {
    method: "POST", credentials: "same-origin", body: JSON.stringify(query()),
    headers: { "Content-Type": "application/json", "X-Requested-With": "rtcc" } });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ message: `status ${response.status}` }));
    replaceChildren(byId("plate-error"), notice(problem.message, "error"));
    return;
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "")?.[1] || `plates.${format}`;
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
  link.click();
  URL.revokeObjectURL(link.href);
}

await session;
form.addEventListener("submit", (event) => { event.preventDefault(); search(null); });
byId("export-csv").addEventListener("click", () => exportAs("csv"));
byId("export-json").addEventListener("click", () => exportAs("json"));
