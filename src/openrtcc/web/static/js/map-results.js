// Search results: a list in the panel and highlighted cameras (with view cones) on the map.
/* global L */
import { CONE_STYLE, coneLatLngs } from "./cone.js";
import { el } from "./dom.js";
import { metres, words } from "./format.js";

const RESULT_STYLE = { radius: 9, weight: 2.5, color: "#1a202c", fillColor: "#ecc94b", fillOpacity: 1 };

export class ResultsView {
  constructor(map, list, summary) {
    this.map = map;
    this.list = list;
    this.summary = summary;
    // Results sit above the clustered cameras, and their cones below the result dots.
    map.createPane("results").style.zIndex = 640;
    map.createPane("cones").style.zIndex = 420;
    this.layer = L.layerGroup().addTo(map);
    this.markers = [];
  }

  clear(message = "No search yet.") {
    this.layer.clearLayers();
    this.markers = [];
    this.list.replaceChildren();
    this.summary.textContent = message;
  }

  /** Only the searched spot or area, before (or instead of) a search. */
  showShape(shape, message) {
    this.clear(message);
    this.layer.addLayer(shape);
  }

  /** shape: the searched area as a Leaflet layer; withCones: draw each camera's field of view. */
  show(cameras, { shape, withCones = false, withContacts = false, what }) {
    this.clear();
    this.layer.addLayer(shape);
    this.summary.textContent = cameras.length
      ? `${cameras.length} camera${cameras.length === 1 ? "" : "s"} ${what}.`
      : `No camera ${what}.`;
    cameras.forEach((camera, i) => {
      if (withCones) this.addCone(camera);
      const marker = L.circleMarker([camera.lat, camera.lon], { ...RESULT_STYLE, pane: "results" })
        .bindTooltip(camera.name, { direction: "top", offset: [0, -8] })
        .on("click", (event) => {
          L.DomEvent.stopPropagation(event);
          this.focus(i);
        });
      this.layer.addLayer(marker);
      this.markers.push(marker);
      this.list.append(this.item(camera, i, withContacts));
    });
    this.frame(shape);
    this.revealList();
  }

  // Scroll the panel itself (never the page, which holds the map still) to the results heading.
  revealList() {
    const panel = this.list.closest(".map-panel");
    const heading = this.summary.previousElementSibling || this.summary;
    if (panel) panel.scrollTo({ top: Math.max(0, heading.offsetTop - 12), behavior: "smooth" });
  }

  // Bring the searched area and every result into view, without zooming out past the area.
  frame(shape) {
    if (!this.markers.length) return;
    const bounds = L.latLngBounds(this.markers.map((m) => m.getLatLng()));
    if (shape.getBounds) bounds.extend(shape.getBounds());
    else if (shape.getLatLng) bounds.extend(shape.getLatLng());
    this.map.fitBounds(bounds, { maxZoom: 18, padding: [40, 40] });
  }

  addCone(camera) {
    const latlngs = coneLatLngs(camera.lat, camera.lon, camera.bearing_deg, camera.fov_deg, camera.range_m);
    if (latlngs) this.layer.addLayer(L.polygon(latlngs, { ...CONE_STYLE, pane: "cones", interactive: false }));
  }

  item(camera, i, withContacts) {
    const meta = [camera.distance_m !== null && camera.distance_m !== undefined ? metres(camera.distance_m) : null,
      words(camera.tier), camera.tier === "integrated" ? `sharing: ${words(camera.sharing_mode)}` : null,
      [camera.make, camera.model].filter(Boolean).join(" ") || null,
      `owner keeps video ${camera.owner_retention_days} d`].filter(Boolean).join(" · ");
    return el("li", { dataset: { cameraId: camera.id } },
      el("button", { type: "button", class: "result-button", onclick: () => this.focus(i) },
        el("strong", {}, camera.name), el("span", {}, camera.address), el("br"),
        el("span", { class: "result-meta" }, meta)),
      withContacts ? contactBlock(camera.contact) : null,
      camera.tier === "integrated"
        ? el("a", { class: "button small", href: `/live?camera=${encodeURIComponent(camera.id)}` }, "Live view and clips")
        : null);
  }

  focus(i) {
    const marker = this.markers[i];
    if (!marker) return;
    this.map.setView(marker.getLatLng(), Math.max(this.map.getZoom(), 18));
    marker.openTooltip();
    [...this.list.children].forEach((li, j) => {
      if (j === i) li.setAttribute("aria-current", "true");
      else li.removeAttribute("aria-current");
    });
  }
}

function contactBlock(contact) {
  if (!contact) {
    return el("div", { class: "contact muted" }, "The owner does not share contact details; ask through a footage request.");
  }
  const rows = [["Owner", contact.name], ["Organisation", contact.organisation], ["Email", contact.email],
    ["Phone", contact.phone], ["Prefers", words(contact.preferred_channel)]].filter(([, v]) => v);
  return el("div", { class: "contact" },
    el("dl", { class: "facts" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    contact.note ? el("p", { class: "muted" }, contact.note) : null);
}
