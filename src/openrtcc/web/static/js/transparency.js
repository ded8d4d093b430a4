// The public transparency portal: pick an agency, read its figures (all from the public JSON API), download them,
// and page through its public audit trail. No log-in; nothing here needs a session.
import { api } from "./api.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";

const API = "/api/public/transparency";
const AUDIT_PAGE = 50;
const picker = byId("portal-agency");
const report = byId("portal-report");
const auditSection = byId("portal-audit-section");
const auditList = byId("portal-audit");
const older = byId("portal-audit-older");
const newest = byId("portal-audit-newest");
let current = null;
let oldestShown = null;

const TIER_LABELS = { registered: "Registered (location only; footage on request)", integrated: "Integrated (live and recorded, owner's policy)" };
const KIND_LABELS = { edge: "Edge boxes at owners' sites", lpr_camera: "Plate-reading cameras", integration: "Integrations" };
const STATUS_LABELS = { new: "Not yet checked", confirmed: "Confirmed", misread: "Misread", wrong_state: "Wrong state", resolved: "Resolved" };
const DATA_LABELS = { plate_reads: "Plate reads", hot_lists: "Hot lists", camera_locations: "Camera locations" };

function n(value) {
  return Number(value || 0).toLocaleString("en");
}

function day(text) {
  return text ? String(text).slice(0, 10) : "never";
}

function percent(rate) {
  return rate === null || rate === undefined ? "no alerts checked yet" : `${(rate * 100).toFixed(1)} %`;
}

function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function countTable(caption, heading, counts, labels = {}) {
  const rows = Object.entries(counts || {}).map(([k, v]) => el("tr", {}, el("td", {}, labels[k] || k), el("td", {}, n(v))));
  if (!rows.length) return notice(`${caption}: none.`);
  return [el("h3", {}, caption), el("div", { class: "table-wrap" }, table([heading, "Count"], rows, caption))];
}

function section(id, title, ...children) {
  return el("section", { class: "card", id, "aria-labelledby": `${id}-title` }, el("h2", { id: `${id}-title` }, title), ...children);
}

function camerasSection(r) {
  return section("portal-cameras", "Cameras",
    facts([["Active cameras", n(r.cameras.active)], ["Linked to an edge box", n(r.cameras.with_edge_box)]]),
    countTable("Active cameras by tier", "Tier", r.cameras.by_tier, TIER_LABELS),
    countTable("Cameras by status", "Status", r.cameras.by_status));
}

function plateSection(r) {
  const p = r.plate_reading;
  const lists = r.hot_lists.map((h) => el("tr", {}, el("td", {}, h.name), el("td", {}, h.format), el("td", {}, n(h.entries)),
    el("td", {}, day(h.refreshed_at)), el("td", {}, h.shared_from ? `Shared in by ${h.shared_from}` : "This agency")));
  return section("portal-plates", "Plate reading",
    facts([[`Reads in the last ${r.window_days} days`, n(p.reads)], ["Cameras that sent reads", n(p.cameras_with_reads)],
      ["Revoked read sources", n(p.sources_revoked)]]),
    countTable("Active read sources by kind", "Source", p.sources_by_kind, KIND_LABELS),
    el("h3", {}, "Hot-list sources"),
    lists.length ? el("div", { class: "table-wrap" }, table(["List", "Format", "Entries", "Refreshed", "Source"], lists, "Hot lists"))
      : notice("No hot lists."));
}

function accessSection(r) {
  const grants = r.access.grants.map((g) => el("tr", {}, el("td", {}, g.agency), el("td", {}, g.agency_kind),
    el("td", {}, DATA_LABELS[g.data_kind] || g.data_kind), el("td", {}, g.purposes.join(", ")), el("td", {}, day(g.expires_at))));
  const shares = r.access.camera_read_shares.map((s) => el("tr", {}, el("td", {}, s.agency), el("td", {}, n(s.cameras))));
  return section("portal-access", "Who has access",
    el("p", { class: "muted" }, "Sharing is denied by default. These are the live grants this agency has given, each for named purposes and until an expiry."),
    grants.length ? el("div", { class: "table-wrap" }, table(["Agency", "Kind", "Data", "Purposes", "Expires"], grants, "Sharing grants"))
      : notice("No other agency has access."),
    el("h3", {}, "Plate reads sent by owners' cameras"),
    shares.length ? el("div", { class: "table-wrap" }, table(["Agency", "Cameras"], shares, "Camera read shares")) : notice("None."),
    countTable("Staff accounts by role", "Role", r.access.staff_by_role));
}

function searchSection(r) {
  const s = r.searches;
  const rows = s.by_purpose.map((p) => el("tr", {}, el("td", {}, p.label), el("td", {}, n(p.done)), el("td", {}, n(p.refused))));
  return section("portal-searches", `Searches in the last ${r.window_days} days`,
    facts([["Searches made", n(s.total)], ["Search records in the audit trail", n(s.audited)]]),
    rows.length ? el("div", { class: "table-wrap" }, table(["Purpose", "Made", "Refused"], rows, "Searches by purpose")) : notice("No searches."),
    countTable("Searches by kind", "Kind", s.by_kind));
}

function alertSection(r) {
  const a = r.alerts;
  return section("portal-alerts", "Hot-list alerts and misreads",
    facts([[`Misread rate, last ${r.window_days} days`, percent(a.misread_rate)], ["Misread rate since records began", percent(a.all_time_misread_rate)]]),
    el("p", { class: "hint" }, "Misread rate: alerts a person found to be a misread or another state's plate, of all alerts a person checked."),
    countTable(`Alerts in the last ${r.window_days} days`, "Outcome", a.by_status, STATUS_LABELS),
    countTable("Alerts since records began", "Outcome", a.all_time_by_status, STATUS_LABELS));
}

function rulesSection(r) {
  const s = r.search_rules;
  return section("portal-rules", "Retention and search rules",
    facts([["Plate reads, snapshots, clips and logs kept", `${r.retention_days} days`], ["Audit records kept", `${r.audit_retention_days} days`],
      ["Area searches needing a supervisor's approval", `over ${n(s.camera_limit)} cameras`],
      ["Repeat-search alarm", `${n(s.repeat_search_threshold)} searches for one plate by one person within ${n(s.repeat_search_window_hours)} hours`]]),
    el("h3", {}, "Prohibited purposes"),
    s.prohibited_purposes.length ? el("ul", {}, s.prohibited_purposes.map((p) => el("li", {}, p))) : notice("None."),
    el("h3", {}, "Policy"),
    r.policy_text ? el("div", { class: "pre", id: "portal-policy" }, r.policy_text) : notice("The agency has not published a policy text."));
}

function downloads(r) {
  return el("p", { class: "actions", id: "portal-downloads" }, "Download: ",
    el("a", { href: r.links.json, download: `transparency-${r.agency.slug}.json` }, "JSON"),
    el("a", { href: r.links.csv }, "CSV"),
    el("a", { href: `${r.links.audit}?format=csv` }, "Audit trail (CSV)"),
    el("a", { href: r.links.anchors }, "Signed audit anchors"));
}

function render(r) {
  replaceChildren(report,
    el("h2", { id: "portal-agency-name" }, r.agency.name),
    el("p", { class: "muted" }, `A ${r.agency.kind} agency. Figures generated ${String(r.generated_at).replace("T", " ").slice(0, 16)} UTC.`),
    downloads(r), rulesSection(r), camerasSection(r), plateSection(r), accessSection(r), searchSection(r), alertSection(r));
}

function auditRow(a) {
  const details = Object.entries(a.details).map(([k, v]) => `${k}=${v}`).join(" ");
  return el("tr", {}, el("td", {}, String(a.seq)), el("td", {}, String(a.at).replace("T", " ").slice(0, 19)), el("td", {}, a.action),
    el("td", {}, a.outcome), el("td", {}, a.actor), el("td", {}, a.target_kind || "—"), el("td", { class: "details" }, details),
    el("td", { class: "hash details", title: a.hash }, a.hash.slice(0, 12) + "…"));
}

async function loadAudit(before) {
  const query = new URLSearchParams({ limit: String(AUDIT_PAGE) });
  if (before) query.set("before", String(before));
  try {
    const records = await api(`${API}/${encodeURIComponent(current)}/audit?${query}`);
    oldestShown = records.length ? records[records.length - 1].seq : null;
    older.disabled = records.length < AUDIT_PAGE;
    newest.disabled = !before;
    byId("portal-audit-range").textContent = records.length ? `${records.length} records` : "";
    replaceChildren(auditList, records.length
      ? el("div", { class: "table-wrap" }, table(["#", "When (UTC)", "Action", "Outcome", "Who", "About", "Details", "Hash"], records.map(auditRow), "Public audit records"))
      : notice(before ? "No older records." : "No audit records yet."));
  } catch (error) {
    replaceChildren(auditList, notice(`The audit trail could not be loaded: ${error.message}`, "error"));
  }
}

async function show(slug) {
  current = slug || null;
  auditSection.hidden = !current;
  if (!current) {
    replaceChildren(report, notice("Choose an agency."));
    return;
  }
  replaceChildren(report, notice("Loading…"));
  try {
    render(await api(`${API}/${encodeURIComponent(current)}`));
    history.replaceState(null, "", `/transparency/${encodeURIComponent(current)}`);
    await loadAudit(null);
  } catch (error) {
    replaceChildren(report, notice(error.status === 404 ? "No such agency on this hub." : `The figures could not be loaded: ${error.message}`, "error"));
    auditSection.hidden = true;
  }
}

async function start() {
  const wanted = byId("portal-picker").dataset.slug;
  let agencies = [];
  try {
    agencies = await api(API);
  } catch (error) {
    replaceChildren(picker, el("option", { value: "" }, "Agencies could not be loaded"));
    replaceChildren(report, notice(error.message, "error"));
    return;
  }
  replaceChildren(picker, el("option", { value: "" }, agencies.length ? "Choose an agency" : "No agencies yet"),
    agencies.map((a) => el("option", { value: a.slug, selected: a.slug === wanted }, a.name)));
  picker.addEventListener("change", () => show(picker.value));
  older.addEventListener("click", () => loadAudit(oldestShown));
  newest.addEventListener("click", () => loadAudit(null));
  const only = agencies.length === 1 ? agencies[0].slug : "";
  if (wanted || only) {
    picker.value = wanted || only;
    await show(picker.value);
  }
}

await start();
