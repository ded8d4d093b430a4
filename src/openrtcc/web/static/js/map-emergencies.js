// Emergencies on the map: the agency's active ones drawn as circles and listed; supervisors and
// administrators declare one at the spot in the search fields, and end one early.
/* global L */
import { api } from "./api.js";
import { byId, el, notice, replaceChildren } from "./dom.js";
import { timeElement } from "./format.js";
import { clearErrors, showError } from "./forms.js";

const DECLARING_ROLES = new Set(["supervisor", "admin"]);
const CIRCLE_STYLE = { color: "#c53030", weight: 2, dashArray: "6 4", fillOpacity: 0.06 };
const REFRESH_MS = 60_000;

export class EmergencyPanel {
  constructor(map, role) {
    this.map = map;
    this.mayDeclare = DECLARING_ROLES.has(role);
    this.layer = L.layerGroup().addTo(map);
    this.list = byId("emergency-list");
    this.dialog = byId("emergency-dialog");
    this.form = byId("emergency-form");
    byId("declare-emergency").hidden = !this.mayDeclare;
    byId("declare-emergency").addEventListener("click", () => this.openForm());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.declare();
    });
    byId("emergency-cancel").addEventListener("click", () => this.dialog.close());
    setInterval(() => this.load(), REFRESH_MS);
  }

  async load() {
    try {
      const active = (await api("/api/emergencies")).filter((e) => e.active);
      this.render(active);
    } catch (error) {
      replaceChildren(this.list, notice(`Emergencies could not be loaded: ${error.message}`, "error"));
    }
  }

  render(active) {
    this.layer.clearLayers();
    for (const e of active) L.circle([e.lat, e.lon], { radius: e.radius_m, ...CIRCLE_STYLE }).addTo(this.layer);
    replaceChildren(this.list, active.length ? active.map((e) => el("li", { dataset: { emergencyId: e.id } },
      el("strong", {}, e.reason), e.case_number ? ` (case ${e.case_number})` : "",
      el("div", { class: "muted" }, `${Math.round(e.radius_m)} m, until `, timeElement(e.expires_at)),
      this.mayDeclare ? el("button", { type: "button", class: "small danger", onclick: () => this.end(e) }, "End emergency") : null))
      : notice("No emergency is declared."));
  }

  openForm() {
    clearErrors(this.form);
    const lat = byId("search-lat").value;
    const lon = byId("search-lon").value;
    byId("emergency-lat").value = lat;
    byId("emergency-lon").value = lon;
    this.dialog.showModal();
  }

  async declare() {
    const value = (id) => byId(id).value.trim();
    const body = {
      lat: Number(value("emergency-lat")), lon: Number(value("emergency-lon")),
      radius_m: Number(value("emergency-radius")), reason: value("emergency-reason"),
      case_number: value("emergency-case") || null, expires_in_minutes: Number(value("emergency-minutes")),
    };
    try {
      await api("/api/emergencies", { method: "POST", body });
    } catch (error) {
      showError(this.form, error);
      return;
    }
    this.dialog.close();
    await this.load();
  }

  async end(emergency) {
    try {
      await api(`/api/emergencies/${encodeURIComponent(emergency.id)}/end`, { method: "POST" });
    } catch (error) {
      window.alert(`The emergency could not be ended: ${error.message}`);
    }
    await this.load();
  }
}
