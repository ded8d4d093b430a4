// The owner's list of cameras, with edit, withdraw and each camera's access log.
import { api } from "./api.js";
import { byId, confirmAction, el, notice, replaceChildren, table } from "./dom.js";
import { timeElement, words } from "./format.js";
import { showBoxLog } from "./portal-edges.js";

export class CameraList {
  /** programs: /api/programs rows; onEdit(camera) opens the camera in the form; onLoaded(cameras). */
  constructor(container, programs, { onEdit, onLoaded, onEdgeSettings }) {
    this.container = container;
    this.programNames = new Map(programs.map((p) => [p.agency_id, p.name]));
    this.onEdit = onEdit;
    this.onLoaded = onLoaded;
    this.onEdgeSettings = onEdgeSettings;
    this.cameras = [];
  }

  async load() {
    try {
      this.cameras = await api("/api/owner/cameras");
      this.render();
      this.onLoaded(this.cameras);
    } catch (error) {
      replaceChildren(this.container, notice(`Your cameras could not be loaded: ${error.message}`, "error"));
    }
  }

  render() {
    if (!this.cameras.length) {
      replaceChildren(this.container, notice("You have not registered a camera yet. Use the form below to add one."));
      return;
    }
    const rows = this.cameras.map((camera) => this.row(camera));
    replaceChildren(this.container, el("div", { class: "table-wrap" },
      table(["Camera", "Program", "Participation", "Sharing", "Status", "Registered", "Actions"], rows, "Your cameras")));
  }

  row(camera) {
    const active = camera.status === "active";
    return el("tr", { dataset: { cameraId: camera.id }, class: active ? null : "inactive" },
      el("td", {}, el("strong", {}, camera.name), el("br"), el("span", { class: "muted" }, camera.address),
        this.duplicateNote(camera)),
      el("td", {}, this.programNames.get(camera.agency_id) || "—"),
      el("td", {}, el("span", { class: `badge tier-${camera.tier}` }, words(camera.tier))),
      el("td", {}, this.sharingText(camera)),
      el("td", {}, el("span", { class: `badge status-${camera.status}` }, words(camera.status))),
      el("td", {}, timeElement(camera.created_at)),
      el("td", { class: "row-actions" },
        active ? el("button", { type: "button", class: "small", onclick: () => this.onEdit(camera) }, "Edit") : null,
        active && camera.tier === "integrated" && this.onEdgeSettings
          ? el("button", { type: "button", class: "small", onclick: () => this.onEdgeSettings(camera) }, "Edge settings") : null,
        el("button", { type: "button", class: "small secondary", onclick: () => this.showAccessLog(camera) }, "Access log"),
        active ? el("button", { type: "button", class: "small danger", onclick: () => this.withdraw(camera) }, "Withdraw") : null));
  }

  duplicateNote(camera) {
    if (!camera.possible_duplicate_of) return null;
    const other = this.cameras.find((c) => c.id === camera.possible_duplicate_of);
    return el("p", { class: "flag" }, `Flagged as a possible duplicate of “${other ? other.name : "another camera"}”`);
  }

  sharingText(camera) {
    if (camera.tier !== "integrated") return "Location only";
    const s = camera.sharing;
    const what = [s.share_live ? "live" : null, s.share_recorded ? "recorded" : null].filter(Boolean).join(" + ") || "no video";
    const windows = s.mode === "schedule" ? ` (${s.schedule.length} window${s.schedule.length === 1 ? "" : "s"})` : "";
    return `${words(s.mode)}${windows}: ${what}`;
  }

  async withdraw(camera) {
    const ok = await confirmAction(
      `Withdraw “${camera.name}” from the program? Agencies stop seeing it at once. Its access log stays available to you.`,
      "Withdraw camera");
    if (!ok) return;
    try {
      await api(`/api/owner/cameras/${encodeURIComponent(camera.id)}`, { method: "DELETE" });
      byId("camera-status").textContent = `“${camera.name}” was withdrawn.`;
    } catch (error) {
      byId("camera-status").textContent = error.message;
      window.alert(`The camera could not be withdrawn: ${error.message}`);
    }
    await this.load();
  }

  async showAccessLog(camera) {
    const dialog = byId("access-log-dialog");
    const body = byId("access-log-body");
    byId("access-log-title").textContent = `Access log: ${camera.name}`;
    replaceChildren(body, notice("Loading…"));
    dialog.showModal();
    showBoxLog(byId("edge-log-body"), camera);
    try {
      const entries = await api(`/api/owner/cameras/${encodeURIComponent(camera.id)}/access-log`);
      replaceChildren(body, entries.length ? accessTable(entries) : notice("No agency has accessed this camera."));
    } catch (error) {
      replaceChildren(body, notice(`The access log could not be loaded: ${error.message}`, "error"));
    }
  }
}

function accessTable(entries) {
  const rows = entries.map((e) => el("tr", {},
    el("td", {}, timeElement(e.at)), el("td", {}, e.agency), el("td", {}, words(e.kind)),
    el("td", {}, e.purpose), el("td", {}, e.case_number || "—"), el("td", {}, e.scope)));
  return el("div", { class: "table-wrap" },
    table(["When", "Agency", "What", "Purpose", "Case", "Scope"], rows, "Accesses to this camera"));
}
