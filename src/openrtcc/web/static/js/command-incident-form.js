// Opening an incident from the command center: a dialog whose place is a click on the map (or typed).
import { api } from "./api.js";
import { byId } from "./dom.js";
import { clearErrors, showError, valueOf, whileBusy } from "./forms.js";

const OPENING_ROLES = new Set(["supervisor", "analyst", "officer"]);

export class IncidentForm {
  constructor(role, onOpened) {
    this.dialog = byId("incident-dialog");
    this.form = byId("incident-form");
    this.onOpened = onOpened;
    const button = byId("open-incident");
    button.hidden = !OPENING_ROLES.has(role);
    button.addEventListener("click", () => this.open());
    byId("incident-cancel").addEventListener("click", () => this.dialog.close());
    this.picking = false;
    byId("incident-pick").addEventListener("click", () => {
      this.picking = true;
      this.dialog.close();
      byId("map-status").textContent = "Click the map where the incident is.";
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  open() {
    clearErrors(this.form);
    this.dialog.showModal();
    byId("incident-title").focus();
  }

  /** A click on the map while picking: its place goes into the form, which opens again. */
  place(latlng) {
    if (!this.picking) return;
    this.picking = false;
    byId("incident-lat").value = latlng.lat.toFixed(6);
    byId("incident-lon").value = latlng.lng.toFixed(6);
    this.open();
  }

  async submit() {
    const f = this.form;
    const body = { title: valueOf(f, "title") || "", category: valueOf(f, "category"),
      priority: Number(valueOf(f, "priority")), lat: Number(valueOf(f, "lat")), lon: Number(valueOf(f, "lon")),
      address: valueOf(f, "address") || null, description: valueOf(f, "description") || null };
    try {
      const incident = await whileBusy(f, () => api("/api/incidents", { method: "POST", body }));
      this.dialog.close();
      f.reset();
      this.onOpened(incident);
    } catch (error) {
      showError(f, error);
    }
  }
}
