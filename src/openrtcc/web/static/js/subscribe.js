// Public alert sign-up: program, channel and address, the whole area or a circle, categories. The hub answers
// the same for every address; the confirmation link arrives through the chosen channel.
import { api } from "./api.js";
import { byId, el, replaceChildren } from "./dom.js";
import { clearErrors, numberOf, showError, valueOf, whileBusy } from "./forms.js";
import { PublicMap, fillPrograms } from "./public-map.js";

const form = byId("subscribe-form");
const CHANNELS = {
  email: { label: "Email", field: "Email address", type: "email", autocomplete: "email",
           hint: "We send a link to this address to confirm it is yours." },
  sms: { label: "Text message (SMS)", field: "Mobile number with country code", type: "tel", autocomplete: "tel",
         hint: "For example +1 414 555 0100. We text a link to confirm it is yours; message rates may apply." },
  push: { label: "Push (ntfy app)", field: "Your private topic name", type: "text", autocomplete: "off",
          hint: "8 to 64 letters, digits, - or _; subscribe to the same topic in the app. Pick one nobody can guess." },
};
let programs = [];
let centre = null;
const map = new PublicMap(byId("subscribe-map"), (lat, lon) => { centre = { lat, lon }; drawCircle(); });

function radius() {
  return numberOf(form, "radius_m");
}

function drawCircle() {
  const r = radius();
  map.show(centre ? centre.lat : NaN, centre ? centre.lon : NaN, Number.isFinite(r) ? r : 0);
  byId("centre-text").textContent = centre
    ? `Centre ${centre.lat.toFixed(4)}, ${centre.lon.toFixed(4)}; radius ${Number.isFinite(r) ? r : "?"} m.`
    : "No centre chosen yet.";
}

function chooseChannel() {
  const spec = CHANNELS[valueOf(form, "channel")] || CHANNELS.email;
  const input = byId("address");
  byId("address-label").textContent = spec.field;
  byId("address-hint").textContent = spec.hint;
  input.type = spec.type;
  input.autocomplete = spec.autocomplete;
}

function chooseArea() {
  const circle = valueOf(form, "area") === "circle";
  byId("circle-fields").hidden = !circle;
  if (circle) map.refresh();
}

function chooseProgram() {
  const program = programs.find((p) => p.agency_id === form.elements.agency_id.value);
  map.showArea(program ? program.jurisdiction : null);
  centre = null;
  drawCircle();
}

function body() {
  const chosen = [...form.querySelectorAll("input[name=categories]:checked")].map((box) => box.value);
  const out = { agency_id: form.elements.agency_id.value, channel: valueOf(form, "channel"),
                address: valueOf(form, "address") || "", categories: chosen };
  if (valueOf(form, "area") === "circle") {
    Object.assign(out, { lat: centre ? centre.lat : null, lon: centre ? centre.lon : null, radius_m: radius() });
  }
  return out;
}

async function submit(event) {
  event.preventDefault();
  clearErrors(form);
  if (valueOf(form, "area") === "circle" && !centre) {
    showError(form, { message: "Click the map to choose the centre of your area.", details: {}, code: "bad_area" },
              { bad_area: "lat" });
    return;
  }
  try {
    const answer = await whileBusy(form, () => api("/api/public/subscriptions", { method: "POST", body: body() }));
    form.hidden = true;
    byId("subscribe-answer").textContent = answer.message;
    byId("subscribe-done").hidden = false;
  } catch (error) {
    showError(form, error, { bad_address: "address", channel_off: "channel", bad_channel: "channel",
                             bad_area: "lat", outside_jurisdiction: "lat", bad_category: "categories",
                             no_such_program: "agency_id" });
  }
}

function fill(options) {
  programs = options.programs;
  fillPrograms(form.elements.agency_id, programs);
  replaceChildren(byId("channel-choices"), options.channels.map((c, i) =>
    el("label", {}, el("input", { type: "radio", name: "channel", value: c, checked: i === 0 }), ` ${CHANNELS[c].label}`)));
  replaceChildren(byId("category-choices"), options.categories.map((c) =>
    el("label", {}, el("input", { type: "checkbox", name: "categories", value: c.id }), ` ${c.label}`)));
  byId("radius").min = options.min_radius_m;
  byId("radius").max = options.max_radius_m;
  chooseChannel();
  chooseProgram();
}

function closed(message) {
  form.hidden = true;
  byId("signup-off").textContent = message;
  byId("signup-off").hidden = false;
}

async function start() {
  try {
    const options = await api("/api/public/options");
    if (!options.channels.length) return closed("This program does not send public alerts yet. Please check back later.");
    if (!options.programs.length) return closed("No police agency runs a program here yet.");
    fill(options);
  } catch (error) {
    closed(error.message);
  }
}

form.addEventListener("change", (event) => {
  if (event.target.name === "channel") chooseChannel();
  if (event.target.name === "area") chooseArea();
  if (event.target.name === "agency_id") chooseProgram();
});
byId("radius").addEventListener("input", drawCircle);
form.addEventListener("submit", submit);
start();
