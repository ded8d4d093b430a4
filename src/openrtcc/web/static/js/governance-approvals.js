// Search approvals on the governance page: supervisors approve or deny wide searches with a note and
// read the search alarms; auditors and administrators read the decisions.
import { api } from "./api.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { timeElement, words } from "./format.js";
import { session } from "./session.js";

function scopeText(scope) {
  if (scope.area) return "a drawn area";
  const where = `${Number(scope.lat).toFixed(5)}, ${Number(scope.lon).toFixed(5)}`;
  return scope.radius_m ? `${scope.radius_m} m around ${where}` : `who could see ${where}`;
}

function reasonCell(a) {
  return el("td", {}, words(a.purpose), el("br"), el("span", { class: "muted" }, `offence ${a.offence}, case ${a.case_number}`));
}

function decisionForm(a, reload) {
  const note = el("input", { name: "note", maxlength: 500, "aria-label": `Note on the request for case ${a.case_number}`,
    placeholder: "Note (required to deny)" });
  const status = el("span", { class: "muted", role: "status" });
  const decide = async (verdict) => {
    try {
      await api(`/api/search-approvals/${encodeURIComponent(a.id)}/${verdict}`, { method: "POST", body: { note: note.value.trim() || null } });
      await reload();
    } catch (error) {
      status.textContent = error.message;
    }
  };
  return el("td", { id: `approval-${a.id}` }, note, " ",
    el("button", { type: "button", onclick: () => decide("approve") }, "Approve"), " ",
    el("button", { type: "button", class: "secondary", onclick: () => decide("deny") }, "Deny"), " ", status);
}

function rows(list, me, canDecide, reload) {
  return list.map((a) => el("tr", {},
    el("td", {}, timeElement(a.created_at)),
    el("td", {}, a.requester_name || "—"),
    reasonCell(a),
    el("td", {}, `${a.camera_count} cameras, ${scopeText(a.scope)}`, el("br"), el("span", { class: "muted" }, a.justification)),
    canDecide && a.status === "pending" && a.requested_by !== me.id
      ? decisionForm(a, reload)
      : el("td", {}, words(a.status), a.decision_note ? el("span", { class: "muted" }, ` (${a.decision_note})`) : null)));
}

async function load(me) {
  const canDecide = me.role === "supervisor";
  const all = await api("/api/search-approvals?decided=true").catch((error) => error);
  if (all instanceof Error) {
    byId("approvals-who").textContent = all.message;
    return;
  }
  const reload = () => load(me);
  byId("approvals-who").textContent = canDecide
    ? "You decide requests of others in your agency; your own requests go to another supervisor."
    : "Only supervisors decide. The list shows what was asked and decided.";
  const head = ["Asked", "By", "Purpose", "Search", canDecide ? "Decision" : "Status"];
  const pending = all.filter((a) => a.status === "pending");
  const decided = all.filter((a) => a.status !== "pending");
  replaceChildren(byId("approvals-pending"), pending.length
    ? el("div", { class: "table-wrap" }, table(head, rows(pending, me, canDecide, reload), "Requests waiting")) : notice("Nothing waits."));
  replaceChildren(byId("approvals-decided"), decided.length
    ? el("div", { class: "table-wrap" }, table(head, rows(decided, me, false, reload), "Decided requests")) : notice("None yet."));
  const alarms = (await api("/api/search-approvals/notices").catch(() => [])).filter((n) => n.kind !== "search_approval");
  replaceChildren(byId("approvals-notices"), alarms.length
    ? el("ul", { class: "notifications" }, alarms.map((n) => el("li", {}, timeElement(n.created_at), " ",
      el("strong", {}, n.subject), el("p", { class: "muted" }, n.body))))
    : notice("No search alarms."));
}

const me = await session;
if (me) await load(me);
