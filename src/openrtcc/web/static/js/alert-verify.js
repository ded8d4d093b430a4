// The verification view of a plate hit, shared by the alerts page and the command center: the crop as read
// beside the hot-list record as it stood when the hit was made. A hit is a lead, not a fact.
import { el, notice, replaceChildren } from "./dom.js";
import { timeElement, words } from "./format.js";

export const DISPOSITIONS = [
  ["confirmed", "Confirmed: it is the listed vehicle"],
  ["misread", "Misread: the reader got the plate wrong"],
  ["wrong_state", "Wrong state: another state's plate"],
  ["resolved", "Resolved"],
];

/** Alerts still open to a disposition. */
export function mayDispose(alert) {
  return ["new", "confirmed"].includes(alert.status);
}

export function kindBadge(kind) {
  return el("span", { class: `badge match-${kind}${kind === "exact" ? "" : " match-fuzzy"}` },
    kind === "exact" ? "exact match" : `${words(kind)} match: check the characters`);
}

export function recordFacts(a) {
  const r = a.record;
  const fact = (label, value) => [el("dt", {}, label), el("dd", {}, value === null || value === undefined || value === "" ? "—" : String(value))];
  return el("dl", { class: "facts" },
    el("dt", {}, "Match"), el("dd", {}, kindBadge(a.match_kind)),
    fact("Listed plate", r.plate), fact("Listed state", r.state || "any"), fact("Read state", a.state || "unknown"),
    fact("Make", r.make), fact("Colour", r.colour), fact("Year", r.year), fact("Reason", r.reason || words(r.category)),
    fact("Category", words(r.category)), fact("List", a.list_name), fact("NCIC number", r.ncic_number),
    fact("Case", r.case_number), fact("Entry owner", r.owner),
    el("dt", {}, "Read at"), el("dd", {}, timeElement(a.captured_at)),
    fact("Where", a.lat !== null ? `${a.lat.toFixed(5)}, ${a.lon.toFixed(5)}` : null),
    fact("Camera", a.camera_id), fact("Confidence", `${Math.round(a.confidence * 100)}%`),
    fact("Status", words(a.status)), fact("Note", a.disposition_note));
}

/** Fill a verification view: `parts` holds the crop holder, the read plate's label and the record holder. */
export function showVerification(parts, a) {
  parts.plate.textContent = `${a.plate} ${a.state || ""}`;
  replaceChildren(parts.crop, a.crop_url
    ? el("img", { src: a.crop_url, alt: `Plate crop of read ${a.plate}`, class: "plate-crop" })
    : notice("No crop was sent with this read."));
  replaceChildren(parts.record, recordFacts(a));
}

/** Record a disposition from a form holding a `disposition` radio group and a `note` field. */
export async function recordDisposition(api, alertId, form) {
  const data = new FormData(form);
  return api(`/api/agency/alerts/${encodeURIComponent(alertId)}/disposition`, {
    method: "POST", body: { disposition: data.get("disposition"), note: data.get("note") || null } });
}
