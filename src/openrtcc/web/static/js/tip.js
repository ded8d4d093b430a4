// The public tip form: text, an optional place (a point on the map and/or words), contact and one photo or clip,
// sent as multipart to the hub, which checks the file by its bytes and strips its metadata.
import { api } from "./api.js";
import { byId } from "./dom.js";
import { clearErrors, showError, valueOf, whileBusy } from "./forms.js";
import { PublicMap, fillPrograms } from "./public-map.js";

const form = byId("tip-form");
let programs = [];
let place = null;
let maxBytes = Infinity;
const map = new PublicMap(byId("tip-map"), (lat, lon) => { place = { lat, lon }; showPlace(); });

function showPlace() {
  map.show(place ? place.lat : NaN, place ? place.lon : NaN);
  byId("tip-place-text").firstChild.textContent = place
    ? `Marked at ${place.lat.toFixed(5)}, ${place.lon.toFixed(5)}. ` : "No place marked. ";
  byId("tip-clear-place").hidden = !place;
}

function countChars() {
  const n = byId("tip-text").value.length;
  byId("tip-count").textContent = `${n.toLocaleString("en")} / 4,000 characters`;
}

function chooseProgram() {
  const program = programs.find((p) => p.agency_id === form.elements.agency_id.value);
  map.showArea(program ? program.jurisdiction : null);
  place = null;
  showPlace();
}

function formData() {
  const data = new FormData();
  data.set("agency_id", form.elements.agency_id.value);
  data.set("text", byId("tip-text").value);
  for (const name of ["location_text", "contact"]) {
    const value = valueOf(form, name);
    if (value) data.set(name, value);
  }
  if (place) {
    data.set("lat", String(place.lat));
    data.set("lon", String(place.lon));
  }
  const file = byId("tip-media").files[0];
  if (file) data.set("media", file);
  return data;
}

function tooBig() {
  const file = byId("tip-media").files[0];
  return file && file.size > maxBytes;
}

async function submit(event) {
  event.preventDefault();
  clearErrors(form);
  if (tooBig()) {
    showError(form, { message: `The file is larger than ${Math.floor(maxBytes / 1048576)} MiB.`, details: {},
                      code: "too_large" }, { too_large: "media" });
    return;
  }
  try {
    const answer = await whileBusy(form, () => api("/api/public/tips", { method: "POST", formData: formData() }));
    form.hidden = true;
    byId("tip-answer").textContent = answer.message;
    byId("tip-done").hidden = false;
  } catch (error) {
    showError(form, error, { empty_tip: "text", tip_too_long: "text", outside_jurisdiction: "lat",
                             bad_location: "location_text", bad_contact: "contact", unsupported_media: "media",
                             bad_media: "media", too_large: "media", no_such_program: "agency_id" });
  }
}

async function start() {
  try {
    const options = await api("/api/public/options");
    programs = options.programs;
    if (!programs.length) throw new Error("No police agency runs a program here yet.");
    maxBytes = options.tip_max_bytes;
    byId("tip-media-hint").textContent =
      `JPEG, PNG or WebP photo, or MP4, WebM or MOV clip, up to ${Math.floor(maxBytes / 1048576)} MiB.`;
    fillPrograms(form.elements.agency_id, programs);
    chooseProgram();
  } catch (error) {
    form.hidden = true;
    byId("tip-off").textContent = error.message;
    byId("tip-off").hidden = false;
  }
}

form.elements.agency_id.addEventListener("change", chooseProgram);
byId("tip-text").addEventListener("input", countChars);
byId("tip-clear-place").addEventListener("click", () => { place = null; showPlace(); });
form.addEventListener("submit", submit);
start();
