// The owner's edge boxes: enrolment codes, each box's status and health, revocation; a camera's edge
// settings (its box, emergency radius, plate-read sharing, privacy masks); the box's own access log.
import { api } from "./api.js";
import { byId, confirmAction, el, notice, replaceChildren, table } from "./dom.js";
import { bytes, timeElement, words } from "./format.js";
import { MaskEditor } from "./portal-masks.js";

export class EdgeBoxes {
  constructor(container, onChanged) {
    this.container = container;
    this.onChanged = onChanged;
    this.boxes = [];
    byId("edge-code-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.newCode();
    });
  }

  async load() {
    try {
      this.boxes = await api("/api/owner/edges");
      this.render();
    } catch (error) {
      replaceChildren(this.container, notice(`Your edge boxes could not be loaded: ${error.message}`, "error"));
    }
    return this.boxes;
  }

  async newCode() {
    const name = byId("edge-code-name").value.trim();
    const out = byId("edge-code");
    try {
      const code = await api("/api/owner/edges/codes", { method: "POST", body: name ? { name } : {} });
      replaceChildren(out, el("p", {}, "Enrolment code (shown once): ", el("strong", { class: "code", dataset: { code: code.code } }, code.code)),
        el("p", { class: "muted" }, "On the box run ", el("code", {}, `rtcc edge enrol --code ${code.code}`),
          ". The code works once and expires ", timeElement(code.expires_at), "."));
    } catch (error) {
      replaceChildren(out, notice(`No code: ${error.message}`, "error"));
    }
    out.hidden = false;
  }

  render() {
    if (!this.boxes.length) {
      replaceChildren(this.container, notice("No edge box is enrolled yet. Generate a code and enrol one."));
      return;
    }
    const rows = this.boxes.map((box) => el("tr", { dataset: { edgeId: box.id }, class: box.revoked ? "inactive" : null },
      el("td", {}, el("strong", {}, box.name), el("br"), el("span", { class: "muted" }, box.software_version || "")),
      el("td", {}, statusBadge(box), el("br"), box.last_seen_at ? timeElement(box.last_seen_at) : "never seen"),
      el("td", { class: box.clock_skew_alarm ? "flag" : null }, skewText(box)),
      el("td", {}, box.disk ? `${bytes(box.disk.used_bytes)} of ${bytes(box.disk.budget_bytes)}` : "—",
        box.queued_reads ? el("div", { class: "muted" }, `${box.queued_reads} reads queued`) : null),
      el("td", {}, box.alarms.length ? el("ul", { class: "plain" }, box.alarms.map((a) =>
        el("li", { class: "flag" }, `${words(a.code)}: ${a.message}`))) : "none"),
      el("td", {}, box.cameras.length ? el("ul", { class: "plain" }, box.cameras.map(cameraHealth)) : "none linked"),
      el("td", { class: "row-actions" }, box.revoked ? null :
        el("button", { type: "button", class: "small danger", onclick: () => this.revoke(box) }, "Revoke"))));
    replaceChildren(this.container, el("div", { class: "table-wrap" },
      table(["Box", "Link", "Clock", "Disk", "Alarms", "Cameras", "Actions"], rows, "Your edge boxes")));
  }

  async revoke(box) {
    const ok = await confirmAction(`Revoke “${box.name}”? Its key stops working at once and its link closes; ` +
      "it must be enrolled again with a new code.", "Revoke box");
    if (!ok) return;
    try {
      await api(`/api/owner/edges/${encodeURIComponent(box.id)}/revoke`, { method: "POST" });
    } catch (error) {
      window.alert(`The box could not be revoked: ${error.message}`);
    }
    await this.load();
    this.onChanged();
  }
}

function statusBadge(box) {
  if (box.revoked) return el("span", { class: "badge status-withdrawn" }, "Revoked");
  return box.connected ? el("span", { class: "badge status-live" }, "Connected")
    : el("span", { class: "badge status-offline" }, "Not connected");
}

function skewText(box) {
  if (box.clock_skew_ms === null || box.clock_skew_ms === undefined) return "—";
  const s = (box.clock_skew_ms / 1000).toFixed(1);
  return box.clock_skew_alarm ? `${s} s off: set up NTP on the box` : `${s} s`;
}

function cameraHealth(c) {
  const state = c.online === null ? "no report yet" : c.online ? `online${c.fps ? `, ${c.fps.toFixed(0)} fps` : ""}` : "offline";
  return el("li", { class: c.online === false ? "flag" : null }, `${c.name}: ${state}${c.error ? ` (${c.error})` : ""}`);
}

const KEYS = ["agency_id", "name", "lat", "lon", "address", "bearing_deg", "fov_deg", "range_m", "make", "model",
  "owner_retention_days", "tier"];

/** The dialog for one camera's edge settings. programs: /api/programs rows (the agencies on this hub). */
export class EdgeSettings {
  constructor(programs, onSaved) {
    this.dialog = byId("edge-settings-dialog");
    this.form = byId("edge-settings-form");
    this.programs = programs;
    this.onSaved = onSaved;
    this.boxes = [];
    this.masks = new MaskEditor(byId("mask-canvas"), byId("mask-list"), byId("mask-status"));
    byId("mask-close").addEventListener("click", () => this.masks.close());
    byId("mask-discard").addEventListener("click", () => this.masks.discardCurrent());
    byId("edge-settings-cancel").addEventListener("click", () => this.dialog.close());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  open(camera, boxes) {
    this.camera = camera;
    byId("edge-settings-title").textContent = `Edge settings: ${camera.name}`;
    const select = byId("edge-box");
    replaceChildren(select, el("option", { value: "" }, "No box"),
      boxes.filter((b) => !b.revoked).map((b) => el("option", { value: b.id, selected: b.id === camera.edge_id }, b.name)));
    byId("edge-radius").value = camera.sharing.emergency_radius_m;
    const shared = new Set(camera.sharing.share_reads_with);
    replaceChildren(byId("edge-read-agencies"), this.programs.map((p) => el("label", {},
      el("input", { type: "checkbox", name: "share_reads_with", value: p.agency_id, checked: shared.has(p.agency_id) }),
      ` ${p.name}`)));
    this.masks.load(camera.sharing.privacy_masks);
    this.error("");
    this.dialog.showModal();
  }

  error(text) {
    const node = this.form.querySelector(".form-error");
    node.textContent = text;
    node.hidden = !text;
  }

  async save() {
    const cam = this.camera;
    const body = Object.fromEntries(KEYS.map((k) => [k, cam[k]]));
    body.public_facing_attested = true;
    body.sharing = {
      mode: cam.sharing.mode, share_live: cam.sharing.share_live, share_recorded: cam.sharing.share_recorded,
      schedule: cam.sharing.schedule, emergency_radius_m: Number(byId("edge-radius").value),
      privacy_masks: this.masks.masks,
      share_reads_with: [...this.form.querySelectorAll("input[name=share_reads_with]:checked")].map((i) => i.value),
    };
    const box = byId("edge-box").value || null;
    try {
      await api(`/api/owner/cameras/${encodeURIComponent(cam.id)}`, { method: "PUT", body });
      if (box !== (cam.edge_id || null)) {
        await api(`/api/owner/cameras/${encodeURIComponent(cam.id)}/edge`, { method: "PUT", body: { edge_id: box } });
      }
    } catch (error) {
      this.error(error.message);
      return;
    }
    this.dialog.close();
    this.onSaved();
  }
}

/** The box's own log of a camera, for the access-log dialog (beside the hub's). */
export async function showBoxLog(container, camera) {
  replaceChildren(container, notice("Loading…"));
  try {
    const entries = await api(`/api/owner/cameras/${encodeURIComponent(camera.id)}/edge-access-log`);
    const rows = entries.map((e) => el("tr", {},
      el("td", {}, timeElement(e.at)), el("td", {}, e.agency || "—"), el("td", {}, words(e.kind)),
      el("td", {}, el("span", { class: `badge answer-${e.outcome === "allowed" ? "approved" : "declined"}` }, words(e.outcome))),
      el("td", {}, e.reason), el("td", {}, e.case_number || "—")));
    replaceChildren(container, entries.length ? el("div", { class: "table-wrap" },
      table(["When", "Agency", "What", "Outcome", "Why", "Case"], rows, "The edge box's log of this camera"))
      : notice(camera.edge_id ? "The box has logged no access to this camera." : "This camera is not linked to an edge box."));
  } catch (error) {
    replaceChildren(container, notice(`The box's log could not be loaded: ${error.message}`, "error"));
  }
}
