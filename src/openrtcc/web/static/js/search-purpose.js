// The structured reason every plate and camera search carries: a purpose from the hub's list (the
// agency's prohibited purposes shown but not choosable), a NIBRS offence, a case number and an optional
// note; and, for a search over the agency's camera limit, asking a supervisor and using the approval.
import { api } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { session } from "./session.js";

let choices = null;

function purposeChoices() {
  if (!choices) choices = api("/api/search-approvals/purposes");
  return choices;
}

export class SearchPurpose {
  /** kind: the approval kind the form's searches use ("camera", or "plate" / "area" per search). */
  constructor(form) {
    this.form = form;
    this.box = form.querySelector("[data-search-purpose]");
    this.pending = null; // {kind, scope} of the search refused for want of an approval
    this.box.querySelector("[data-approval-send]").addEventListener("click", () => this.askApproval());
    this.ready = this.load();
  }

  async load() {
    const c = await purposeChoices();
    const f = this.form.elements;
    replaceChildren(f.purpose, el("option", { value: "" }, "Choose a purpose…"),
      c.purposes.map((p) => el("option", { value: p.code, disabled: p.prohibited, dataset: { needsOffence: p.needs_offence } },
        p.prohibited ? `${p.label} (prohibited by your agency)` : p.label)));
    replaceChildren(f.offence, el("option", { value: "" }, "Choose an offence…"),
      c.offences.map((o) => el("option", { value: o.code }, o.code === "NONE" ? o.label : `${o.code} · ${o.label}`)));
    f.purpose.addEventListener("change", () => {
      const chosen = f.purpose.selectedOptions[0];
      if (chosen && chosen.dataset.needsOffence === "false" && !f.offence.value) f.offence.value = "NONE";
    });
    this.box.querySelector("[data-camera-limit]").textContent = `your agency's limit of ${c.camera_limit}`;
    await this.loadApprovals();
  }

  async loadApprovals() {
    const me = await session;
    const mine = (await api("/api/search-approvals?decided=true").catch(() => []))
      .filter((a) => me && a.requested_by === me.id);
    const usable = mine.filter((a) => a.status === "approved");
    const select = this.form.elements.approval_id;
    replaceChildren(select, el("option", { value: "" }, "None"),
      usable.map((a) => el("option", { value: a.id }, `Case ${a.case_number}: ${a.camera_count} cameras (until ${new Date(a.expires_at).toLocaleString()})`)));
    replaceChildren(this.box.querySelector("[data-my-approvals]"), mine.slice(0, 5).map((a) =>
      el("li", {}, `Case ${a.case_number}, ${a.camera_count} cameras: ${a.status.replaceAll("_", " ")}`,
        a.decision_note ? ` (${a.decision_note})` : "")));
    this.box.querySelector("[data-approval-field]").hidden = mine.length === 0;
  }

  /** The reason as the API takes it; empty parts are left out so the hub names what is missing. */
  reason() {
    const f = this.form.elements;
    const text = (name) => (f[name].value || "").trim() || null;
    const body = { purpose: text("purpose"), offence: text("offence"), case_number: text("case_number"),
      note: text("note"), approval_id: text("approval_id") };
    if (f.include_shared.checked) body.include_shared = true;
    return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  }

  /** The label of the chosen purpose (what a footage request started from the search says). */
  label() {
    const chosen = this.form.elements.purpose.selectedOptions[0];
    return chosen && chosen.value ? chosen.textContent : "";
  }

  /** After a refused search: offer to ask for an approval when the refusal was the camera limit. */
  refused(error, kind, scope) {
    const ask = this.box.querySelector("[data-approval-ask]");
    if (error.code !== "approval_required") {
      ask.hidden = true;
      return;
    }
    this.pending = { kind, scope };
    this.box.querySelector("[data-approval-message]").textContent = error.message;
    this.box.querySelector("[data-approval-status]").textContent = "";
    ask.hidden = false;
  }

  async askApproval() {
    const status = this.box.querySelector("[data-approval-status]");
    if (!this.pending) return;
    const { purpose, offence, case_number, note } = this.reason();
    const body = { kind: this.pending.kind, purpose, offence, case_number, note, ...this.pending.scope,
      justification: (this.form.elements.justification.value || "").trim() };
    try {
      const approval = await api("/api/search-approvals", { method: "POST", body });
      await this.loadApprovals();
      status.textContent = `Asked: request ${approval.id.slice(0, 8)} waits for a supervisor. You are told when it is decided; then choose it under “Supervisor's approval” and search again.`;
    } catch (error) {
      status.textContent = error.message;
    }
  }
}
