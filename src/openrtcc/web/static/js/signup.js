// Owner sign-up; the account is created by the hub, then the owner logs on.
import { api } from "./api.js";
import { byId } from "./dom.js";
import { clearErrors, showError, valueOf, whileBusy } from "./forms.js";

const form = byId("signup-form");

function showOrganisation() {
  const kind = valueOf(form, "kind");
  byId("organisation-field").hidden = kind === "resident";
}

function body() {
  return {
    display_name: valueOf(form, "display_name") || "",
    email: valueOf(form, "email") || "",
    password: form.elements.password.value,
    kind: valueOf(form, "kind"),
    organisation: valueOf(form, "kind") === "resident" ? null : valueOf(form, "organisation"),
    contact: {
      share_contact: valueOf(form, "contact.share_contact"),
      preferred_channel: valueOf(form, "contact.preferred_channel"),
      phone: valueOf(form, "contact.phone"),
    },
  };
}

async function signUp(event) {
  event.preventDefault();
  clearErrors(form);
  try {
    const created = await whileBusy(form, () => api("/api/auth/signup", { method: "POST", body: body() }));
    location.assign(`/login?notice=signed_up&email=${encodeURIComponent(created.email)}`);
  } catch (error) {
    showError(form, error, { weak_password: "password", bad_email: "email", email_taken: "email" });
  }
}

form.addEventListener("change", showOrganisation);
form.addEventListener("submit", signUp);
showOrganisation();
