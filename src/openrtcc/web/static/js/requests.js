// Footage requests of the agency: open one, follow the owners' answers, collect the evidence.
/* global L */
import { api } from "./api.js";
import { createMap, jurisdictionLayer } from "./basemap.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { FootageRequestForm } from "./footage-form.js";
import { bytes, dateToLocalInput, timeElement, words } from "./format.js";
import { session } from "./session.js";

const list = byId("request-list");
const detail = byId("request-detail");

async function loadList() {
  try {
    const requests = await api("/api/agency/footage-requests");
    replaceChildren(list, requests.length ? requestTable(requests) : notice("Your agency has not requested footage yet."));
  } catch (error) {
    replaceChildren(list, notice(`Requests could not be loaded: ${error.message}`, "error"));
  }
}

function requestTable(requests) {
  const rows = requests.map((r) => el("tr", {},
    el("td", {}, el("strong", {}, r.case_number)),
    el("td", {}, r.purpose),
    el("td", {}, timeElement(r.created_at)),
    el("td", {}, timeElement(r.window_start), " – ", timeElement(r.window_end)),
    el("td", {}, el("span", { class: `badge status-${r.status}` }, words(r.status))),
    el("td", {}, el("a", { href: `#${encodeURIComponent(r.id)}`, class: "button small" }, "Details"))));
  return el("div", { class: "table-wrap" },
    table(["Case", "Purpose", "Opened", "Footage window", "Status", ""], rows, "Footage requests"));
}

async function showDetail(id) {
  detail.hidden = false;
  const body = byId("request-detail-body");
  replaceChildren(body, notice("Loading…"));
  try {
    const r = await api(`/api/agency/footage-requests/${encodeURIComponent(id)}`);
    byId("request-detail-title").textContent = `Case ${r.case_number}`;
    replaceChildren(body, requestFacts(r), el("h3", {}, "Cameras asked"), camerasTable(r.cameras),
      el("h3", {}, "Evidence received"), evidenceTable(r.evidence), exportLink(r));
  } catch (error) {
    replaceChildren(body, notice(`The request could not be loaded: ${error.message}`, "error"));
  }
  detail.focus();
}

function requestFacts(r) {
  return el("dl", { class: "facts card" },
    el("dt", {}, "Purpose"), el("dd", {}, r.purpose),
    el("dt", {}, "Incident"), el("dd", {}, `${r.lat.toFixed(6)}, ${r.lon.toFixed(6)} · radius ${Math.round(r.radius_m)} m`),
    el("dt", {}, "Footage from"), el("dd", {}, timeElement(r.window_start), " to ", timeElement(r.window_end)),
    el("dt", {}, "Opened"), el("dd", {}, timeElement(r.created_at)),
    el("dt", {}, "Status"), el("dd", {}, words(r.status)));
}

function camerasTable(cameras) {
  if (!cameras.length) return notice("No cameras were asked.");
  const rows = cameras.map((c) => el("tr", {},
    el("td", {}, c.camera_name), el("td", {}, c.address),
    el("td", {}, el("span", { class: `badge answer-${c.answer}` }, words(c.answer))),
    el("td", {}, c.answered_at ? timeElement(c.answered_at) : "—")));
  return el("div", { class: "table-wrap" }, table(["Camera", "Address", "Answer", "Answered"], rows, "Cameras asked"));
}

function evidenceTable(items) {
  if (!items.length) return notice("No footage has been uploaded for this request yet.");
  const rows = items.map((e) => el("tr", {},
    el("td", {}, e.original_name, el("br"), el("span", { class: "muted" }, e.camera_name)),
    el("td", {}, e.media_type), el("td", {}, bytes(e.size_bytes)),
    el("td", {}, el("code", { class: "hash" }, e.sha256)),
    el("td", {}, timeElement(e.uploaded_at)),
    el("td", {}, el("a", { href: `/api/agency/evidence/${encodeURIComponent(e.id)}/content`, download: e.original_name }, "Download"))));
  return el("div", { class: "table-wrap" },
    table(["File", "Type", "Size", "SHA-256", "Uploaded", ""], rows, "Evidence"));
}

const EXPORTERS = ["supervisor", "analyst"];  // the roles that may export a case's evidence

function exportLink(r) {
  if (!r.evidence.length || !EXPORTERS.includes(me.role)) return null;
  return el("p", {},
    el("a", { href: `/api/evidence/cases/${encodeURIComponent(r.case_number)}/export`, class: "button small", download: "" },
      "Export the case as a signed evidence package"),
    " ", el("span", { class: "muted" }, "A BagIt zip of the case's clips, locked reads and audit excerpt, signed by the hub; anyone can check it with rtcc evidence verify."));
}

function setUpPickerMap(form, jurisdiction) {
  const map = createMap(byId("request-map"));
  const area = jurisdiction ? jurisdictionLayer(jurisdiction).addTo(map) : null;
  if (area && area.getBounds().isValid()) map.fitBounds(area.getBounds());
  else map.setView([20, 0], 2);
  const marks = L.layerGroup().addTo(map);
  const draw = () => {
    marks.clearLayers();
    const [lat, lon, radius] = ["lat", "lon", "radius_m"].map((n) => Number(form.elements[n].value));
    if (!form.elements.lat.value || !Number.isFinite(lat) || !Number.isFinite(lon)) return;
    marks.addLayer(L.circleMarker([lat, lon], { radius: 5, color: "#1a202c", fillColor: "#fff", fillOpacity: 1 }));
    if (radius > 0) marks.addLayer(L.circle([lat, lon], { radius, color: "#2b6cb0", weight: 2, fillOpacity: 0.08, interactive: false }));
  };
  map.on("click", (event) => {
    form.elements.lat.value = event.latlng.lat.toFixed(6);
    form.elements.lon.value = event.latlng.lng.toFixed(6);
    draw();
  });
  form.addEventListener("input", draw);
}

const me = await session;
const form = byId("footage-form");
const programs = await api("/api/programs").catch(() => []);
const mine = programs.find((p) => p.agency_id === me.agency_id);
setUpPickerMap(form, mine ? mine.jurisdiction : null);
const end = new Date();
form.elements.window_end.value = dateToLocalInput(end);
form.elements.window_start.value = dateToLocalInput(new Date(end.getTime() - 2 * 3600 * 1000));
new FootageRequestForm(form, (created) => {
  loadList();
  location.hash = encodeURIComponent(created.id);
});
window.addEventListener("hashchange", () => { if (location.hash.length > 1) showDetail(decodeURIComponent(location.hash.slice(1))); });
await loadList();
if (location.hash.length > 1) showDetail(decodeURIComponent(location.hash.slice(1)));
