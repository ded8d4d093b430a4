// The agency's governance settings: its administrator edits them, supervisors and auditors read them.
import { api } from "./api.js";
import { byId, el, notice, replaceChildren } from "./dom.js";
import { clearErrors, showError, whileBusy } from "./forms.js";
import { session } from "./session.js";

const form = byId("governance-settings-form");
const who = byId("governance-settings-who");
const saved = byId("governance-settings-saved");
const CODE_FIELDS = { bad_retention: "retention_days", unknown_purpose: "prohibited_purposes", bad_kind: "kind",
  bad_policy_text: "policy_text" };

function fill(g) {
  form.elements.kind.value = g.kind;
  form.elements.retention_days.value = g.retention_days;
  form.elements.search_camera_limit.value = g.search_camera_limit;
  form.elements.repeat_search_threshold.value = g.repeat_search_threshold;
  form.elements.repeat_search_window_hours.value = g.repeat_search_window_hours;
  form.elements.policy_text.value = g.policy_text;
  replaceChildren(byId("gov-purposes"), g.purposes.map((p) => el("label", {},
    el("input", { type: "checkbox", name: "prohibited", value: p.code, checked: p.prohibited }),
    el("span", {}, p.label, " ", el("code", { class: "muted" }, p.code)))));
}

function numberOf(name) {
  const text = form.elements[name].value.trim();
  return text === "" ? null : Number(text);
}

function body() {
  return {
    kind: form.elements.kind.value,
    retention_days: numberOf("retention_days"),
    prohibited_purposes: [...form.querySelectorAll("input[name=prohibited]:checked")].map((c) => c.value),
    search_camera_limit: numberOf("search_camera_limit"),
    repeat_search_threshold: numberOf("repeat_search_threshold"),
    repeat_search_window_hours: numberOf("repeat_search_window_hours"),
    policy_text: form.elements.policy_text.value,
  };
}

async function save(event) {
  event.preventDefault();
  saved.hidden = true;
  clearErrors(form);
  await whileBusy(form, async () => {
    try {
      fill(await api("/api/agency/governance", { method: "PUT", body: body() }));
      saved.hidden = false;
    } catch (error) {
      showError(form, error, CODE_FIELDS);
    }
  });
}

async function start() {
  const me = await session;
  const editable = me.role === "admin";
  try {
    fill(await api("/api/agency/governance"));
  } catch (error) {
    replaceChildren(who, notice(`The settings could not be loaded: ${error.message}`, "error"));
    return;
  }
  who.textContent = editable
    ? "Every change is audited and published on the transparency portal at once."
    : "Read only: your agency's administrator changes these settings.";
  byId("governance-settings-fields").disabled = !editable;
  byId("governance-settings-actions").hidden = !editable;
  form.hidden = false;
  form.addEventListener("submit", save);
}

await start();
