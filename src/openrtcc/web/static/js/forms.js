// Showing the hub's answers next to the fields they are about.
import { el } from "./dom.js";

export function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach((node) => node.remove());
  form.querySelectorAll("[aria-invalid]").forEach((input) => {
    input.removeAttribute("aria-invalid");
    const kept = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && !id.endsWith("-error"));
    if (kept.length) input.setAttribute("aria-describedby", kept.join(" "));
    else input.removeAttribute("aria-describedby");
  });
  const summary = form.querySelector(".form-error");
  if (summary) {
    summary.hidden = true;
    summary.replaceChildren();
  }
}

// A problem about "sharing.schedule.0.start" belongs to that input if it exists, else to the
// nearest enclosing thing that does ("sharing.schedule.0" is a whole schedule row).
function findField(form, field) {
  const parts = field.split(".");
  while (parts.length) {
    const name = CSS.escape(parts.join("."));
    const found = form.querySelector(`[name="${name}"], [data-field="${name}"]`);
    if (found) return found;
    parts.pop();
  }
  return null;
}

function markField(form, field, message) {
  const input = findField(form, field);
  if (!input) return false;
  const id = `${form.id || "form"}-${field.replace(/[^A-Za-z0-9]+/g, "-")}-error`;
  if (document.getElementById(id)) return true;
  input.setAttribute("aria-invalid", "true");
  const described = input.getAttribute("aria-describedby");
  input.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
  const holder = input.closest(".field, fieldset, [data-field]") || input.parentElement;
  holder.append(el("p", { class: "field-error", id }, message));
  return true;
}

/**
 * Show an API error: a summary at the top of the form and, where the error names fields (422
 * problems) or its code belongs to a field (codeFields: {bearing_out_of_range: "bearing_deg"}),
 * a message beside each field.
 */
export function showError(form, error, codeFields = {}) {
  clearErrors(form);
  const problems = (error.details && error.details.problems) || [];
  for (const problem of problems) markField(form, problem.field, problem.message);
  if (!problems.length && codeFields[error.code]) markField(form, codeFields[error.code], error.message);
  const summary = form.querySelector(".form-error");
  if (summary) {
    summary.append(el("span", {}, error.message));
    summary.hidden = false;
  }
  const firstInvalid = form.querySelector("[aria-invalid='true']");
  if (firstInvalid) firstInvalid.focus();
}

/** Disable the form's submit buttons while a request is in flight. */
export async function whileBusy(form, work) {
  const buttons = [...form.querySelectorAll("button[type=submit], button:not([type])")];
  buttons.forEach((b) => { b.disabled = true; });
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    form.removeAttribute("aria-busy");
  }
}

export function valueOf(form, name) {
  const input = form.elements.namedItem(name);
  if (!input) return null;
  if (input instanceof RadioNodeList) return input.value || null;
  if (input.type === "checkbox") return input.checked;
  const text = input.value.trim();
  return text === "" ? null : text;
}

/** A number field as a number; an empty or unreadable field is sent as-is for the hub to name. */
export function numberOf(form, name) {
  const raw = valueOf(form, name);
  if (raw === null) return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}
