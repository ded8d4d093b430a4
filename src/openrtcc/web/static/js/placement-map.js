// The owner's map for placing a camera: a click sets the location, the cone shows the view.
/* global L */
import { createMap, jurisdictionLayer } from "./basemap.js";
import { CONE_STYLE, coneLatLngs } from "./cone.js";

const MINE_STYLE = { color: "#4a5568", fillColor: "#718096", interactive: true };

export class PlacementMap {
  /** onPlace(lat, lon) is called when the user clicks the map or drags the marker. */
  constructor(container, onPlace) {
    this.map = createMap(container);
    this.map.setView([20, 0], 2);
    this.onPlace = onPlace;
    this.marker = null;
    this.cone = null;
    this.area = null;
    this.mine = L.layerGroup().addTo(this.map);
    this.framedMine = false;
    this.map.on("click", (event) => this.userPlaced(event.latlng));
  }

  userPlaced(latlng) {
    const lat = Number(latlng.lat.toFixed(6));
    const lon = Number(L.Util.wrapNum(latlng.lng, [-180, 180], true).toFixed(6));
    this.moveMarker(lat, lon);
    this.onPlace(lat, lon);
  }

  moveMarker(lat, lon) {
    if (!this.marker) {
      this.marker = L.marker([lat, lon], { draggable: true, title: "Camera location", alt: "Camera location" });
      this.marker.on("dragend", () => this.userPlaced(this.marker.getLatLng()));
      this.marker.addTo(this.map);
    } else {
      this.marker.setLatLng([lat, lon]);
    }
  }

  /** Show the program's area and frame it, unless a camera is already placed inside the view. */
  showJurisdiction(geojson, { frame = true } = {}) {
    if (this.area) this.area.remove();
    this.area = geojson ? jurisdictionLayer(geojson).addTo(this.map) : null;
    if (this.area && frame && this.area.getBounds().isValid()) this.map.fitBounds(this.area.getBounds());
  }

  /** Draw the camera and its cone from the form's numbers; anything unreadable clears them. */
  show({ lat, lon, bearing, fov, range }) {
    if (this.cone) this.cone.remove();
    this.cone = null;
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) {
      if (this.marker) this.marker.remove();
      this.marker = null;
      return;
    }
    this.moveMarker(lat, lon);
    const latlngs = coneLatLngs(lat, lon, bearing, fov, range);
    if (latlngs) this.cone = L.polygon(latlngs, { ...CONE_STYLE, interactive: false }).addTo(this.map);
  }

  /** The owner's other cameras, faint, so a second registration of the same one stands out. */
  showCameras(cameras) {
    this.mine.clearLayers();
    const active = cameras.filter((cam) => cam.status === "active");
    for (const c of active) {
      const latlngs = coneLatLngs(c.lat, c.lon, c.bearing_deg, c.fov_deg, c.range_m);
      if (latlngs) this.mine.addLayer(L.polygon(latlngs, { ...MINE_STYLE, weight: 1, fillOpacity: 0.12 }));
      this.mine.addLayer(L.circleMarker([c.lat, c.lon], { ...MINE_STYLE, radius: 5, fillOpacity: 0.9 }).bindTooltip(c.name));
    }
    // A new camera usually stands near the owner's others: start there, once.
    if (active.length && !this.framedMine) {
      this.framedMine = true;
      this.map.fitBounds(L.latLngBounds(active.map((c) => [c.lat, c.lon])), { maxZoom: 17, padding: [40, 40] });
    }
  }

  focus(lat, lon) {
    this.map.setView([lat, lon], Math.max(this.map.getZoom(), 17));
  }
}
