// The small map on the public sign-up and tip pages: the program's area, and a point (a tip's place) or a
// circle (the area a subscriber wants alerts for) that a click or a drag sets.
/* global L */
import { createMap, jurisdictionLayer } from "./basemap.js";

const PICK_STYLE = { color: "#1d4ed8", weight: 2, fillOpacity: 0.12 };

export class PublicMap {
  /** onPick(lat, lon) is called when the user clicks the map or drags the marker. */
  constructor(container, onPick) {
    this.map = createMap(container);
    this.map.setView([20, 0], 2);
    this.onPick = onPick;
    this.area = null;
    this.marker = null;
    this.circle = null;
    this.map.on("click", (event) => this.picked(event.latlng));
  }

  picked(latlng) {
    const lat = Number(latlng.lat.toFixed(6));
    const lon = Number(L.Util.wrapNum(latlng.lng, [-180, 180], true).toFixed(6));
    this.onPick(lat, lon);
  }

  showArea(geojson) {
    if (this.area) this.area.remove();
    this.area = geojson ? jurisdictionLayer(geojson).addTo(this.map) : null;
    if (this.area && this.area.getBounds().isValid()) this.map.fitBounds(this.area.getBounds());
  }

  /** A marker at lat/lon, with a circle of radius metres around it when a radius is given. */
  show(lat, lon, radius) {
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) {
      this.clear();
      return;
    }
    if (!this.marker) {
      this.marker = L.marker([lat, lon], { draggable: true, title: "Chosen place", alt: "Chosen place" });
      this.marker.on("dragend", () => this.picked(this.marker.getLatLng()));
      this.marker.addTo(this.map);
    } else {
      this.marker.setLatLng([lat, lon]);
    }
    if (this.circle) this.circle.remove();
    this.circle = Number.isFinite(radius) && radius > 0
      ? L.circle([lat, lon], { ...PICK_STYLE, radius, interactive: false }).addTo(this.map) : null;
  }

  clear() {
    if (this.marker) this.marker.remove();
    if (this.circle) this.circle.remove();
    this.marker = null;
    this.circle = null;
  }

  /** Leaflet measures its container when created: call after the map's section is shown (a map framed while
   * hidden had no size to frame with, so the area is framed again unless a place is already picked). */
  refresh() {
    this.map.invalidateSize();
    if (this.area && !this.marker && this.area.getBounds().isValid()) this.map.fitBounds(this.area.getBounds());
  }
}

/** The programs a public page offers, as <option>s; the only one is chosen for the visitor. */
export function fillPrograms(select, programs) {
  select.replaceChildren(...programs.map((p) => new Option(p.name, p.agency_id)));
  if (programs.length !== 1) select.prepend(new Option("Choose…", "", true, true));
}
