// The owner's contact preferences: whether, and how, an agency may reach them.
import { api } from "./api.js";
import { clearErrors, showError, valueOf, whileBusy } from "./forms.js";

export async function setUpContactForm(form) {
  const ok = form.querySelector(".form-ok");
  try {
    const profile = await api("/api/owner/profile");
    form.elements.share_contact.value = profile.contact.share_contact;
    form.elements.preferred_channel.value = profile.contact.preferred_channel;
    form.elements.phone.value = profile.contact.phone || "";
  } catch (error) {
    showError(form, error);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    ok.hidden = true;
    const body = {
      share_contact: valueOf(form, "share_contact"),
      preferred_channel: valueOf(form, "preferred_channel"),
      phone: valueOf(form, "phone"),
    };
    try {
      await whileBusy(form, () => api("/api/owner/profile/contact", { method: "PUT", body }));
      Object.assign(ok, { textContent: "Contact preferences saved.", hidden: false });
    } catch (error) {
      showError(form, error);
    }
  });
}
