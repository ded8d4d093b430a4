// Register or edit a camera: the form, its map, and the hub's answers shown beside the fields.
import { api } from "./api.js";
import { byId, el, replaceChildren } from "./dom.js";
import { clearErrors, numberOf, showError, valueOf, whileBusy } from "./forms.js";
import { PlacementMap } from "./placement-map.js";
import { ScheduleEditor } from "./schedule-editor.js";

// Domain refusals that are about one field.
const CODE_FIELDS = {
  bearing_out_of_range: "bearing_deg",
  fov_out_of_range: "fov_deg",
  range_out_of_range: "range_m",
  outside_jurisdiction: "lat",
  bad_coordinates: "lat",
  not_public_facing: "public_facing_attested",
  unknown_agency: "agency_id",
};

export class CameraForm {
  /** programs: from /api/programs; onSaved(camera, verb) after a successful save. */
  constructor(form, programs, onSaved) {
    this.form = form;
    this.programs = programs;
    this.onSaved = onSaved;
    this.editingId = null;
    this.schedule = new ScheduleEditor(byId("schedule-rows"), byId("add-window"));
    this.map = new PlacementMap(byId("camera-map"), (lat, lon) => this.placed(lat, lon));
    this.fillPrograms();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save(false);
    });
    form.addEventListener("input", (event) => this.changed(event.target));
    form.addEventListener("change", (event) => this.changed(event.target));
    byId("register-anyway").addEventListener("click", () => this.save(true));
    byId("camera-cancel").addEventListener("click", () => this.reset());
    this.showPolicyFields();
    this.showProgram();
  }

  fillPrograms() {
    const select = this.form.elements.agency_id;
    const options = this.programs.map((p) => el("option", { value: p.agency_id }, p.name));
    if (this.programs.length !== 1) options.unshift(el("option", { value: "" }, "Choose a program…"));
    replaceChildren(select, options);
    if (!this.programs.length) {
      replaceChildren(select, el("option", { value: "" }, "No agency runs a program yet"));
      select.disabled = true;
    }
  }

  showProgram(frame = true) {
    const program = this.programs.find((p) => p.agency_id === this.form.elements.agency_id.value);
    this.map.showJurisdiction(program ? program.jurisdiction : null, { frame });
  }

  placed(lat, lon) {
    this.form.elements.lat.value = lat;
    this.form.elements.lon.value = lon;
    this.drawView();
  }

  changed(target) {
    if (target.name === "agency_id") this.showProgram();
    if (["tier", "sharing.mode"].includes(target.name)) this.showPolicyFields();
    if (["lat", "lon", "bearing_deg", "fov_deg", "range_m"].includes(target.name)) this.drawView();
  }

  showPolicyFields() {
    const integrated = valueOf(this.form, "tier") === "integrated";
    byId("sharing-fields").hidden = !integrated;
    byId("schedule-fields").hidden = !(integrated && valueOf(this.form, "sharing.mode") === "schedule");
  }

  drawView() {
    const n = (name) => Number(valueOf(this.form, name) ?? NaN);
    this.map.show({ lat: n("lat"), lon: n("lon"), bearing: n("bearing_deg"), fov: n("fov_deg"), range: n("range_m") });
  }

  sharing() {
    const mode = valueOf(this.form, "sharing.mode");
    return {
      mode,
      share_live: valueOf(this.form, "sharing.share_live"),
      share_recorded: valueOf(this.form, "sharing.share_recorded"),
      schedule: mode === "schedule" ? this.schedule.read() : [],
    };
  }

  body(allowDuplicate) {
    const f = this.form;
    const tier = valueOf(f, "tier");
    return {
      agency_id: valueOf(f, "agency_id") || "",
      name: valueOf(f, "name") || "",
      address: valueOf(f, "address") || "",
      lat: numberOf(f, "lat"),
      lon: numberOf(f, "lon"),
      bearing_deg: numberOf(f, "bearing_deg"),
      fov_deg: numberOf(f, "fov_deg"),
      range_m: numberOf(f, "range_m"),
      make: valueOf(f, "make"),
      model: valueOf(f, "model"),
      owner_retention_days: numberOf(f, "owner_retention_days"),
      public_facing_attested: valueOf(f, "public_facing_attested"),
      tier,
      // A registered camera shares no video, whatever was ticked before switching tier.
      sharing: tier === "integrated" ? this.sharing() : { mode: "paused", share_live: false, share_recorded: false, schedule: [] },
      allow_duplicate: allowDuplicate,
    };
  }

  async save(allowDuplicate) {
    clearErrors(this.form);
    this.setOk("");
    byId("duplicate-choice").hidden = true;
    const editing = this.editingId;
    const call = editing
      ? () => api(`/api/owner/cameras/${encodeURIComponent(editing)}`, { method: "PUT", body: this.body(false) })
      : () => api("/api/owner/cameras", { method: "POST", body: this.body(allowDuplicate) });
    try {
      const camera = await whileBusy(this.form, call);
      this.reset();
      this.setOk(editing ? `Saved “${camera.name}”.` : `Registered “${camera.name}”.`);
      this.onSaved(camera, editing ? "saved" : "registered");
    } catch (error) {
      showError(this.form, error, CODE_FIELDS);
      if (error.code === "likely_duplicate" && !editing) byId("duplicate-choice").hidden = false;
    }
  }

  setOk(text) {
    const ok = this.form.querySelector(".form-ok");
    ok.textContent = text;
    ok.hidden = !text;
  }

  edit(camera) {
    this.reset();
    this.editingId = camera.id;
    const f = this.form.elements;
    f.agency_id.value = camera.agency_id;
    for (const name of ["name", "address", "lat", "lon", "bearing_deg", "fov_deg", "range_m", "owner_retention_days"]) {
      f[name].value = camera[name];
    }
    f.make.value = camera.make || "";
    f.model.value = camera.model || "";
    f.tier.value = camera.tier;
    f["sharing.mode"].value = camera.sharing.mode;
    f["sharing.share_live"].checked = camera.sharing.share_live;
    f["sharing.share_recorded"].checked = camera.sharing.share_recorded;
    this.schedule.set(camera.sharing.schedule);
    f.public_facing_attested.checked = true;
    byId("camera-form-title").textContent = `Edit camera: ${camera.name}`;
    byId("camera-submit").textContent = "Save changes";
    byId("camera-cancel").hidden = false;
    this.showPolicyFields();
    this.showProgram(false);
    this.drawView();
    this.map.focus(camera.lat, camera.lon);
    byId("register").scrollIntoView();
    f.name.focus();
  }

  reset() {
    const program = this.form.elements.agency_id.value;
    this.form.reset();
    this.form.elements.agency_id.value = program;
    this.editingId = null;
    this.schedule.set([]);
    clearErrors(this.form);
    this.setOk("");
    byId("duplicate-choice").hidden = true;
    byId("camera-form-title").textContent = "Register a camera";
    byId("camera-submit").textContent = "Register camera";
    byId("camera-cancel").hidden = true;
    this.showPolicyFields();
    this.drawView();
  }
}
