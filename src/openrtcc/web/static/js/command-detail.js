// The command center's detail panel: what an item of the feed is, and what the operator can do with it.
// A plate hit shows the crop beside the hot-list record (the view the alerts page uses); alerts and incidents
// can be acknowledged, assigned, escalated to the supervisors and disposed of; a tip is reviewed, dismissed or
// promoted (command-tips.js).
import { api } from "./api.js";
import { DISPOSITIONS, mayDispose, recordDisposition, showVerification } from "./alert-verify.js";
import { TipPanel } from "./command-tips.js";
import { byId, el, notice, replaceChildren } from "./dom.js";
import { timeElement, words } from "./format.js";

const ACTION_PATHS = { alert: (id) => `/api/agency/alerts/${encodeURIComponent(id)}`,
  incident: (id) => `/api/incidents/${encodeURIComponent(id)}` };
// What each role may do here (the hub decides; the page only leaves out what would be refused).
const DISPOSING_ROLES = new Set(["supervisor", "analyst", "officer"]);
const HANDLING_ROLES = new Set(["supervisor", "analyst", "officer"]);
const ASSIGNING_ROLES = new Set(["supervisor"]);
const DECLARING_ROLES = new Set(["supervisor"]);

function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([label, value]) => [el("dt", {}, label), el("dd", {}, value instanceof Node ? value : String(value))]));
}

export class DetailPanel {
  /** onChanged(kind, record) after an action; onWall(incident) for "Show on the wall". */
  constructor(role, { onChanged, onWall, mayWatch }) {
    this.role = role;
    this.tips = new TipPanel(role, (tip) => onChanged("tip", tip));
    this.mayWatch = mayWatch;
    this.onChanged = onChanged;
    this.onWall = onWall;
    this.item = null;
    this.panel = byId("detail");
    this.result = byId("detail-result");
    replaceChildren(byId("alert-disposition-choices"), DISPOSITIONS.map(([value, label], i) =>
      el("label", {}, el("input", { type: "radio", name: "disposition", value, required: i === 0 }), ` ${label}`)));
    byId("detail-close").addEventListener("click", () => { this.panel.hidden = true; });
    byId("action-acknowledge").addEventListener("click", () => this.act("acknowledge", {}));
    byId("action-escalate").addEventListener("click", () => this.act("escalate", {}));
    byId("action-wall").addEventListener("click", () => this.onWall(this.item.ref));
    byId("assign-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.act("assign", { user_id: byId("assign-to").value });
    });
    byId("alert-disposition-form").addEventListener("submit", (event) => this.disposeAlert(event));
    byId("incident-disposition-form").addEventListener("submit", (event) => this.closeIncident(event));
    byId("incident-emergency-form").addEventListener("submit", (event) => this.declareEmergency(event));
  }

  async loadAssignees() {
    if (!ASSIGNING_ROLES.has(this.role)) return;
    try {
      const people = await api("/api/incidents/assignees");
      replaceChildren(byId("assign-to"), people.map((p) => el("option", { value: p.id }, `${p.name} (${words(p.role)})`)));
    } catch (error) {
      console.warn("assignees could not be loaded", error);
    }
  }

  /** Open an item; `refresh` redraws the one on show after it changed, keeping the last action's answer. */
  show(item, { refresh = false } = {}) {
    this.item = item;
    this.panel.hidden = false;
    if (!refresh) replaceChildren(this.result);
    byId("detail-title").textContent = item.title;
    const actionable = item.kind === "alert" || item.kind === "incident";
    byId("detail-actions").hidden = !actionable || item.ref.status === "closed" || !HANDLING_ROLES.has(this.role);
    byId("assign-form").hidden = !ASSIGNING_ROLES.has(this.role);
    byId("action-wall").hidden = item.kind !== "incident" || !this.mayWatch;
    byId("verify").hidden = item.kind !== "alert";
    const alertForm = byId("alert-disposition-form");
    alertForm.hidden = !(item.kind === "alert" && DISPOSING_ROLES.has(this.role) && mayDispose(item.ref));
    if (!refresh) alertForm.reset(); // a redraw keeps what the operator is typing
    const incidentForm = byId("incident-disposition-form");
    incidentForm.hidden = !(item.kind === "incident" && item.ref.status !== "closed" && HANDLING_ROLES.has(this.role));
    if (!refresh) incidentForm.reset(); // a redraw keeps what the operator is typing
    byId("incident-emergency-form").hidden = !(item.kind === "incident" && item.ref.status !== "closed"
      && !item.ref.emergency_id && DECLARING_ROLES.has(this.role));
    if (item.kind === "alert") {
      showVerification({ plate: byId("verify-plate"), crop: byId("verify-crop"), record: byId("verify-record") }, item.ref);
      replaceChildren(byId("detail-body"), this.alertState(item.ref));
    } else if (item.kind === "incident") {
      replaceChildren(byId("detail-body"), this.incidentFacts(item.ref));
      this.loadTimeline(item.ref.id);
    } else if (item.kind === "tip") {
      replaceChildren(byId("detail-body"));
    } else {
      replaceChildren(byId("detail-body"), facts([["What", item.line], ["When", timeElement(item.at)],
        ["Camera", item.ref.camera_id], ["Status", words(item.status)]]));
    }
    if (item.kind !== "tip") this.tips.hide();
    else if (!refresh) this.tips.show(item.ref.tip_id || item.ref.id, this.result); // it redraws itself after acting
    if (!refresh) this.panel.focus();
  }

  alertState(a) {
    return facts([["Status", words(a.status)], ["Acknowledged", a.acknowledged_at ? timeElement(a.acknowledged_at) : null],
      ["Assigned to", a.assigned_name], ["Escalated", a.escalated_at ? timeElement(a.escalated_at) : null]]);
  }

  incidentFacts(i) {
    return [facts([["Priority", i.priority], ["Category", words(i.category)], ["Status", words(i.status)],
      ["Source", words(i.source)], ["External id", i.external_id], ["Where", i.address || `${i.lat.toFixed(5)}, ${i.lon.toFixed(5)}`],
      ["Description", i.description], ["Assigned to", i.assigned_name],
      ["Escalated", i.escalated_at ? timeElement(i.escalated_at) : null], ["Opened", timeElement(i.created_at)],
      ["Emergency", i.emergency_id ? "declared: emergency-only cameras nearby are open" : null],
      ["Disposition", i.disposition ? words(i.disposition) : null], ["Note", i.disposition_note]]),
    el("h3", {}, "Timeline"), el("ol", { id: "incident-timeline", class: "timeline" })];
  }

  async loadTimeline(id) {
    try {
      const full = await api(`/api/incidents/${encodeURIComponent(id)}`);
      if (this.item?.ref.id !== id) return;
      replaceChildren(byId("incident-timeline"), (full.timeline || []).map((t) => el("li", {}, timeElement(t.at), " ",
        el("strong", {}, t.actor_name || "the system"), ` ${words(t.action)}`)));
    } catch (error) {
      replaceChildren(byId("incident-timeline"), el("li", {}, notice(error.message, "error")));
    }
  }

  async act(action, body) {
    const { kind, ref } = this.item;
    try {
      const changed = await api(`${ACTION_PATHS[kind](ref.id)}/${action}`, { method: "POST", body });
      this.onChanged(kind, changed);
      replaceChildren(this.result, notice(`Done: ${words(action)}.`, "ok"));
    } catch (error) {
      replaceChildren(this.result, notice(error.message, "error"));
    }
  }

  async disposeAlert(event) {
    event.preventDefault();
    try {
      const a = await recordDisposition(api, this.item.ref.id, event.target);
      this.onChanged("alert", a);
      replaceChildren(this.result, notice(`Recorded: ${words(a.status)}.`, "ok"));
    } catch (error) {
      replaceChildren(this.result, notice(error.message, "error"));
    }
  }

  async declareEmergency(event) {
    event.preventDefault();
    const data = new FormData(event.target);
    await this.act("emergency", { radius_m: Number(data.get("radius_m")),
      expires_in_minutes: Number(data.get("expires_in_minutes")) });
  }

  async closeIncident(event) {
    event.preventDefault();
    const data = new FormData(event.target);
    await this.act("disposition", { disposition: data.get("disposition"), note: data.get("note") || null });
  }
}
