// Plate search: a structured reason (purpose, offence, case number) with every search; pages, and CSV/JSON
// export as a download; a search over the agency's camera limit can be sent to a supervisor for approval.
import { api } from "./api.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { localInputToUtc, timeElement } from "./format.js";
import { SearchPurpose } from "./search-purpose.js";
import { session } from "./session.js";

const form = byId("plate-form");
const purpose = new SearchPurpose(form);
let last = null; // the query of the shown results, for the next page and the exports

function query() {
  const d = new FormData(form);
  const text = (name) => (d.get(name) || "").trim() || null;
  const number = (name) => (text(name) === null ? null : Number(text(name)));
  const body = { ...purpose.reason(), plate: text("plate"), partial: text("partial"), lookalikes: d.get("lookalikes") === "on", lat: number("lat"), lon: number("lon"),
    radius_m: number("radius_m"), since: localInputToUtc(d.get("since")), until: localInputToUtc(d.get("until")) };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
}

let me = null; // the logged-on user: a read of another agency (a shared search) is marked as such

function rows(results) {
  return results.map((r) => el("tr", {},
    el("td", {}, timeElement(r.captured_at)),
    el("td", {}, el("strong", { class: "plate" }, r.plate), " ", r.state || "",
      me && r.agency_id !== me.agency_id ? el("span", { class: "muted" }, " (shared by another agency)") : null),
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
    if (!cursor) purpose.refused({ code: null });
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
    if (!cursor) refused(error, body);
  }
}

/** A search refused for want of an approval: offer to ask a supervisor for exactly this search. */
function refused(error, body) {
  const kind = body.plate || body.partial ? "plate" : "area";
  const scope = { lat: body.lat, lon: body.lon, radius_m: body.radius_m };
  purpose.refused(error, kind, scope);
}

async function exportAs(format) {
  replaceChildren(byId("plate-error"));
  const response = await fetch(`/api/agency/plates/search?format=${format}`, {
    method: "POST", credentials: "same-origin", body: JSON.stringify(query()),
    headers: { "Content-Type": "application/json", "X-Requested-With": "rtcc" } });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ message: `status ${response.status}` }));
    replaceChildren(byId("plate-error"), notice(problem.message, "error"));
    refused({ code: problem.error, message: problem.message }, query());
    return;
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "")?.[1] || `plates.${format}`;
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
  link.click();
  URL.revokeObjectURL(link.href);
}

me = await session;
form.addEventListener("submit", (event) => { event.preventDefault(); search(null); });
byId("export-csv").addEventListener("click", () => exportAs("csv"));
byId("export-json").addEventListener("click", () => exportAs("json"));
