// Hot lists of the agency: freshness and stale alarms for everyone who sees alerts; import and
// hand-kept entries for those who manage lists (the API refuses the others whatever this page shows).
import { api } from "./api.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { timeElement } from "./format.js";
import { session } from "./session.js";

const MANAGERS = ["admin", "supervisor"];
const list = byId("hotlist-list");

function freshness(l) {
  if (l.stale_alarm_at) return el("span", { class: "badge answer-pending" }, "Stale since ", timeElement(l.stale_alarm_at));
  if (!l.refreshed_at) return el("span", { class: "badge no" }, "Never imported");
  return el("span", { class: "badge status-active" }, "Fresh");
}

function listTable(lists) {
  const rows = lists.map((l) => el("tr", { "data-list": l.id },
    el("td", {}, el("strong", {}, l.name)),
    el("td", {}, l.format),
    el("td", {}, String(l.entry_count)),
    el("td", {}, `v${l.version}`),
    el("td", {}, l.refreshed_at ? timeElement(l.refreshed_at) : "–"),
    el("td", {}, l.stale_after_hours ? `${l.stale_after_hours} h` : "–"),
    el("td", {}, freshness(l))));
  return el("div", { class: "table-wrap" },
    table(["List", "Format", "Entries", "Version", "Refreshed", "Stale after", "Freshness"], rows, "Hot lists"));
}

async function loadLists() {
  try {
    const lists = await api("/api/agency/hotlists");
    replaceChildren(list, lists.length ? listTable(lists) : notice("Your agency has no hot lists yet."));
    const select = byId("entry-form").elements.list_id;
    replaceChildren(select, ...lists.filter((l) => l.format === "custom").map((l) => el("option", { value: l.id }, l.name)));
  } catch (error) {
    replaceChildren(list, notice(`Lists could not be loaded: ${error.message}`, "error"));
  }
}

async function importList(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  if (!data.get("stale_after_hours")) data.delete("stale_after_hours");
  const out = byId("import-result");
  replaceChildren(out, notice("Importing…"));
  try {
    const r = await api("/api/agency/hotlists/import", { method: "POST", formData: data });
    replaceChildren(out, notice(`${r.list.name}: version ${r.list.version}, ${r.list.entry_count} entries ` +
      `(${r.added} new, ${r.removed} gone, ${r.duplicates} duplicate lines); back-check: ` +
      `${r.back_check.reads_checked} reads, ${r.back_check.alerts} alerts.`, "success"));
    await loadLists();
  } catch (error) {
    replaceChildren(out, notice(`Refused, nothing changed: ${error.message}`, "error"));
  }
}

async function addEntry(event) {
  event.preventDefault();
  const f = event.target.elements;
  const out = byId("entry-result");
  const body = { plate: f.plate.value, state: f.state.value, reason: f.reason.value, owner: f.owner.value,
    expires_at: f.expires_at.value };
  try {
    await api(`/api/agency/hotlists/${encodeURIComponent(f.list_id.value)}/entries`, { method: "POST", body });
    replaceChildren(out, notice("Entry added.", "success"));
    event.target.reset();
    await loadLists();
  } catch (error) {
    replaceChildren(out, notice(`Refused: ${error.message}`, "error"));
  }
}

const me = await session;
if (MANAGERS.includes(me.role)) {
  byId("import-card").hidden = false;
  byId("entry-card").hidden = false;
  byId("import-form").addEventListener("submit", importList);
  byId("entry-form").addEventListener("submit", addEntry);
}
await loadLists();
