// The map's search tools. Each search carries a structured reason (purpose, offence, case number, an
// optional note), which the hub records; the owners of the cameras found see the purpose and the case.
/* global L */
import { api } from "./api.js";
import { byId } from "./dom.js";
import { clearErrors, numberOf, showError, valueOf, whileBusy } from "./forms.js";
import { SearchPurpose } from "./search-purpose.js";

const TOOLS = {
  radius: {
    help: "Click the map, or enter coordinates, to list every camera within the radius.",
    endpoint: "/api/agency/search/radius", usesRadius: true, what: "within the radius",
  },
  area: {
    help: "Click the map to place the corners of an area, then choose “Finish and search”.",
    endpoint: "/api/agency/search/area", what: "inside the area",
  },
  view: {
    help: "Which cameras could have seen this address? Click the spot: the cameras whose field of view covers it are listed, with their view cones.",
    endpoint: "/api/agency/search/view", what: "could have seen this spot",
  },
  incident: {
    help: "Click the incident location: nearby cameras are listed with each owner's contact as the owner allows. Then request footage.",
    endpoint: "/api/agency/incident-pin", usesRadius: true, what: "near the incident",
  },
};
const AREA_STYLE = { color: "#2b6cb0", weight: 2, fillOpacity: 0.08 };
const CODE_FIELDS = {
  purpose_required: "purpose", unknown_purpose: "purpose", purpose_prohibited: "purpose", offence_required: "offence",
  unknown_offence: "offence", case_number_required: "case_number", bad_case_number: "case_number", bad_note: "note",
  approval_invalid: "approval_id", bad_radius: "radius_m", bad_coordinates: "lat", area_too_large: "tool",
};
const MISSING = [["purpose", "purpose_required", "Choose the purpose of this search first."],
  ["offence", "offence_required", "Choose the offence (or “No offence”) first."],
  ["case_number", "case_number_required", "Give the case number first."]];

const round6 = (n) => Number(n.toFixed(6));

export class SearchTools {
  /** onIncident(incident) is told of each incident-pin search, for the footage request button. */
  constructor(map, form, results, onIncident) {
    this.map = map;
    this.form = form;
    this.results = results;
    this.onIncident = onIncident;
    this.vertices = [];
    this.purpose = new SearchPurpose(form);
    form.addEventListener("change", (event) => { if (event.target.name === "tool") this.switchTool(); });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.searchPoint();
    });
    byId("add-vertex").addEventListener("click", () => this.vertexFromFields());
    byId("finish-area").addEventListener("click", () => this.searchArea());
    byId("clear-area").addEventListener("click", () => this.switchTool());
    this.switchTool();
  }

  get tool() {
    return TOOLS[valueOf(this.form, "tool")];
  }

  switchTool() {
    const name = valueOf(this.form, "tool");
    byId("tool-help").textContent = this.tool.help;
    byId("radius-field").hidden = !this.tool.usesRadius;
    byId("point-actions").hidden = name === "area";
    byId("area-actions").hidden = name !== "area";
    this.vertices = [];
    this.updateVertexCount();
    clearErrors(this.form);
    this.results.clear();
    this.onIncident(null);
  }

  /** A click on the map (the page routes clicks on clusters elsewhere). */
  clicked(latlng) {
    const lat = round6(latlng.lat);
    const lon = round6(L.Util.wrapNum(latlng.lng, [-180, 180], true));
    this.form.elements.lat.value = lat;
    this.form.elements.lon.value = lon;
    if (valueOf(this.form, "tool") === "area") this.addVertex(lat, lon);
    else this.searchPoint();
  }

  /** {purpose, offence, case_number, note?, approval_id?, include_shared?}, or null after asking for what is missing. */
  reason() {
    const reason = this.purpose.reason();
    const missing = MISSING.find(([name]) => !reason[name]);
    if (!missing) return reason;
    showError(this.form, { code: missing[1], message: missing[2] }, CODE_FIELDS);
    return null;
  }

  pointShape(lat, lon, radius) {
    const pin = L.circleMarker([lat, lon], { radius: 5, color: "#1a202c", weight: 2, fillColor: "#fff", fillOpacity: 1 });
    if (!this.tool.usesRadius || !Number.isFinite(radius)) return pin;
    return L.featureGroup([L.circle([lat, lon], { ...AREA_STYLE, radius, interactive: false }), pin]);
  }

  async searchPoint() {
    clearErrors(this.form);
    const lat = numberOf(this.form, "lat");
    const lon = numberOf(this.form, "lon");
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) {
      showError(this.form, { code: "bad_coordinates", message: "Click the map, or enter a latitude and longitude." }, CODE_FIELDS);
      return;
    }
    const radius = numberOf(this.form, "radius_m");
    const shape = this.pointShape(lat, lon, radius);
    const reason = this.reason();
    if (!reason) {
      this.results.showShape(shape, "Give the reason for searching, then choose “Search here”.");
      return;
    }
    const body = { ...reason, lat, lon, ...(this.tool.usesRadius ? { radius_m: radius } : {}) };
    const tool = valueOf(this.form, "tool");
    const scope = { lat, lon, ...(this.tool.usesRadius ? { radius_m: radius } : {}) };
    const cameras = await this.run(body, scope);
    if (!cameras) return;
    this.results.show(cameras, { shape, what: this.tool.what, withCones: tool === "view", withContacts: tool === "incident" });
    this.onIncident(tool === "incident" ? { lat, lon, radius_m: radius, case_number: reason.case_number,
      purpose: reason.note || this.purpose.label() } : null);
  }

  async run(body, scope) {
    const { endpoint } = this.tool;
    try {
      const found = await whileBusy(this.form, () => api(endpoint, { method: "POST", body }));
      this.purpose.refused({ code: null });
      return found;
    } catch (error) {
      showError(this.form, error, CODE_FIELDS);
      this.purpose.refused(error, "camera", scope);
      return null;
    }
  }

  addVertex(lat, lon) {
    this.vertices.push([lat, lon]);
    this.updateVertexCount();
    const shape = this.vertices.length > 2 ? L.polygon(this.vertices, AREA_STYLE) : L.polyline(this.vertices, AREA_STYLE);
    const corners = this.vertices.map((v) => L.circleMarker(v, { radius: 4, color: "#2b6cb0", fillOpacity: 1 }));
    this.results.showShape(L.featureGroup([shape, ...corners]), "Add corners, then finish the area.");
  }

  vertexFromFields() {
    const lat = numberOf(this.form, "lat");
    const lon = numberOf(this.form, "lon");
    if (Number.isFinite(lat) && Number.isFinite(lon)) this.addVertex(lat, lon);
    else showError(this.form, { code: "bad_coordinates", message: "Enter a latitude and longitude for the corner." }, CODE_FIELDS);
  }

  updateVertexCount() {
    const n = this.vertices.length;
    byId("vertex-count").textContent = n ? `${n} corner${n === 1 ? "" : "s"} placed${n < 3 ? " (at least 3 needed)" : ""}.` : "No corners yet.";
    byId("finish-area").disabled = n < 3;
  }

  async searchArea() {
    clearErrors(this.form);
    const reason = this.reason();
    if (!reason || this.vertices.length < 3) return;
    // GeoJSON wants longitude first and a closed ring.
    const ring = [...this.vertices, this.vertices[0]].map(([lat, lon]) => [lon, lat]);
    const area = { type: "Polygon", coordinates: [ring] };
    const cameras = await this.run({ ...reason, area }, { area });
    if (!cameras) return;
    this.results.show(cameras, { shape: L.polygon(this.vertices, AREA_STYLE), what: this.tool.what });
    this.vertices = [];
    this.updateVertexCount();
  }
}
