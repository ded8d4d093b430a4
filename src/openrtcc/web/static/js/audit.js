// The agency's audit trail, newest first, paged backwards by sequence number.
import { api } from "./api.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { session } from "./session.js";

const PAGE_SIZE = 100;
const list = byId("audit-list");
const older = byId("audit-older");
const newest = byId("audit-newest");
let oldestShown = null;

function detailsText(details) {
  const entries = Object.entries(details || {});
  return entries.length ? entries.map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ") : "";
}

// Ids are long; the first block is enough to tell rows apart, the full id is in the tooltip.
function shortIds(text) {
  if (!text) return el("span", {}, "—");
  const short = text.replace(/([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "$1…");
  return el("span", { title: text }, short);
}

function recordRow(r) {
  return el("tr", {},
    el("td", {}, String(r.seq)),
    el("td", {}, el("time", { datetime: r.at }, String(r.at).replace("T", " "))),
    el("td", {}, r.action),
    el("td", {}, el("span", { class: `badge ${r.outcome === "success" ? "yes" : "locked"}` }, r.outcome)),
    el("td", { class: "details" }, shortIds(r.actor_id)),
    el("td", { class: "details" }, shortIds(r.target)),
    el("td", {}, r.source || "—"),
    el("td", { class: "details", title: `hash ${r.hash}` }, detailsText(r.details)));
}

async function loadPage(beforeSeq) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (beforeSeq) query.set("before_seq", String(beforeSeq));
  try {
    const records = await api(`/api/agency/audit?${query}`);
    oldestShown = records.length ? records[records.length - 1].seq : null;
    older.disabled = records.length < PAGE_SIZE;
    newest.disabled = !beforeSeq;
    byId("audit-range").textContent = records.length
      ? `${records.length} record${records.length === 1 ? "" : "s"}, from #${records[0].seq} back to #${records[records.length - 1].seq}` : "";
    replaceChildren(list, records.length
      ? el("div", { class: "table-wrap" }, table(["#", "When (UTC)", "Action", "Outcome", "Who", "Target", "Source", "Details"],
        records.map(recordRow), "Audit records"))
      : notice(beforeSeq ? "No older records." : "No audit records yet."));
  } catch (error) {
    replaceChildren(list, notice(`The audit trail could not be loaded: ${error.message}`, "error"));
  }
}

await session;
older.addEventListener("click", () => loadPage(oldestShown));
newest.addEventListener("click", () => loadPage(null));
await loadPage(null);
