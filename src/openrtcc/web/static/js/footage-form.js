// Opening a footage request: case, purpose, incident point and radius, and a time window entered
// in local time and sent in UTC.
import { api } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { clearErrors, numberOf, showError, valueOf, whileBusy } from "./forms.js";
import { dateToLocalInput, localInputToUtc } from "./format.js";

const CODE_FIELDS = {
  bad_case_number: "case_number",
  purpose_required: "purpose",
  bad_coordinates: "lat",
  bad_radius: "radius_m",
  bad_window: "window_start",
  no_cameras: "radius_m",
};
const MAX_RADIUS_M = 2000;

function zoneName() {
  const minutes = -new Date().getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

export class FootageRequestForm {
  /** onCreated({id, cameras_asked, owners_notified}) after the hub opened the request. */
  constructor(form, onCreated) {
    this.form = form;
    this.onCreated = onCreated;
    const zone = form.querySelector("#fr-zone");
    if (zone) zone.textContent = `Times are in your local time (${zoneName()}); the hub receives them in UTC.`;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  /** Fill from an incident; the window defaults to the last two hours. */
  prefill({ lat, lon, radius_m: radius, purpose, case_number: caseNumber }) {
    const f = this.form.elements;
    clearErrors(this.form);
    this.setOk(null);
    f.lat.value = lat;
    f.lon.value = lon;
    f.radius_m.value = Math.min(Number(radius) || 200, MAX_RADIUS_M);
    f.purpose.value = purpose || "";
    f.case_number.value = caseNumber || "";
    const end = new Date();
    f.window_end.value = dateToLocalInput(end);
    f.window_start.value = dateToLocalInput(new Date(end.getTime() - 2 * 3600 * 1000));
  }

  body() {
    const f = this.form;
    return {
      case_number: valueOf(f, "case_number") || "",
      purpose: valueOf(f, "purpose") || "",
      lat: numberOf(f, "lat"),
      lon: numberOf(f, "lon"),
      radius_m: numberOf(f, "radius_m"),
      window_start: localInputToUtc(valueOf(f, "window_start")),
      window_end: localInputToUtc(valueOf(f, "window_end")),
    };
  }

  async submit() {
    clearErrors(this.form);
    this.setOk(null);
    try {
      const created = await whileBusy(this.form, () => api("/api/agency/footage-requests", { method: "POST", body: this.body() }));
      this.setOk(created);
      this.onCreated(created);
    } catch (error) {
      showError(this.form, error, CODE_FIELDS);
    }
  }

  setOk(created) {
    const ok = this.form.querySelector(".form-ok");
    ok.hidden = !created;
    if (!created) return;
    replaceChildren(ok,
      `Request sent: ${created.cameras_asked} camera${created.cameras_asked === 1 ? "" : "s"} asked, `,
      `${created.owners_notified} owner${created.owners_notified === 1 ? "" : "s"} notified. `,
      el("a", { href: `/requests#${encodeURIComponent(created.id)}` }, "Follow the request"));
  }
}
