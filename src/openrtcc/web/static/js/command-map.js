// The command center's map: the agency's cameras by tier and status (clustered; offline ones crossed out,
// updated live), recent plate hits, open incidents by priority and the active emergencies.
/* global L */
import { api } from "./api.js";
import { createMap, jurisdictionLayer } from "./basemap.js";
import { ClusterLayer, featuresFromColumns, legendControl } from "./cluster-layer.js";
import { byId } from "./dom.js";

export const PRIORITY_COLOURS = { 1: "#c53030", 2: "#dd6b20", 3: "#d69e2e", 4: "#3182ce", 5: "#718096" };
const ALERT_COLOUR = "#6b46c1";
const EMERGENCY_STYLE = { color: "#c53030", weight: 2, dashArray: "6 4", fillOpacity: 0.06, interactive: false };
const KEEP_ALERTS = 200;

export class CommandMap {
  constructor(container, onPick) {
    this.map = createMap(container, { zoomControl: true, worldCopyJump: false });
    this.cameras = new ClusterLayer(this.map);
    this.alerts = L.layerGroup().addTo(this.map);
    this.incidents = L.layerGroup().addTo(this.map);
    this.emergencies = L.layerGroup().addTo(this.map);
    // Alerts and incidents are few: drawn as SVG (not on the shared canvas), each marker is an element of
    // its own, with its own tooltip and click.
    this.svg = L.svg();
    this.alertMarkers = new Map();
    this.incidentMarkers = new Map();
    L.control.layers(null, { "Plate hits": this.alerts, Incidents: this.incidents, Emergencies: this.emergencies },
      { collapsed: false, position: "topright" }).addTo(this.map);
    this.onPick = onPick;
    this.map.on("click", (event) => {
      const cluster = this.cameras.clusterAt(event.containerPoint);
      if (cluster) this.cameras.zoomInto(cluster);
      else this.onPick.place(event.latlng);
    });
    this.map.on("moveend", () => this.redraw());
  }

  async loadCameras(agencyId) {
    const [data, programs] = await Promise.all([api("/api/agency/map/points?format=columns"),
      api("/api/programs").catch(() => [])]);
    this.cameras.adopt(ClusterLayer.index(featuresFromColumns(data)));
    this.legend = legendControl(this.cameras.counts).addTo(this.map);
    // Where the cameras are; with none yet, the agency's area; failing that, the world.
    const mine = programs.find((p) => p.agency_id === agencyId);
    const area = mine ? jurisdictionLayer(mine.jurisdiction).addTo(this.map) : null;
    if (this.cameras.bounds) this.map.fitBounds(this.cameras.bounds, { maxZoom: 16, padding: [30, 30], animate: false });
    else if (area && area.getBounds().isValid()) this.map.fitBounds(area.getBounds(), { animate: false });
    else this.map.setView([20, 0], 2, { animate: false });
    await this.refreshOffline();
  }

  async refreshOffline() {
    try {
      this.cameras.markOffline((await api("/api/agency/map/offline")).offline);
    } catch (error) {
      console.warn("offline cameras could not be loaded", error);
    }
    this.redraw();
  }

  /** A camera_status message: redraw it crossed out, or not, at once. */
  cameraStatus(cameraId, online) {
    const offline = new Set(this.cameras.offline);
    if (online) offline.delete(cameraId);
    else offline.add(cameraId);
    this.cameras.markOffline([...offline]);
    this.redraw();
  }

  redraw() {
    if (!this.cameras.index) return;
    const inView = this.cameras.render();
    if (this.legend) this.legend.update(inView);
    const c = this.cameras.counts;
    const off = this.cameras.offline.size ? `, ${this.cameras.offline.size.toLocaleString()} offline` : "";
    byId("map-status").textContent = `${c.total.toLocaleString()} cameras (${c.integrated.toLocaleString()} integrated)${off}.`;
  }

  showAlert(a) {
    if (a.lat === null || a.lat === undefined || this.alertMarkers.has(a.id)) return;
    const marker = L.circleMarker([a.lat, a.lon], { radius: 7, color: "#fff", weight: 2, fillColor: ALERT_COLOUR,
      fillOpacity: 0.9, renderer: this.svg, className: "alert-marker" }).bindTooltip(`Plate hit ${a.plate}`).on("click", () => this.onPick.open(`alert:${a.id}`));
    marker.addTo(this.alerts);
    this.alertMarkers.set(a.id, marker);
    if (this.alertMarkers.size > KEEP_ALERTS) {
      const [oldest] = this.alertMarkers.keys();
      this.alerts.removeLayer(this.alertMarkers.get(oldest));
      this.alertMarkers.delete(oldest);
    }
  }

  /** An incident drawn by priority; a closed one leaves the map. */
  showIncident(i) {
    const old = this.incidentMarkers.get(i.id);
    if (old) this.incidents.removeLayer(old);
    this.incidentMarkers.delete(i.id);
    if (i.status === "closed") return;
    const marker = L.circleMarker([i.lat, i.lon], { radius: 14 - 2 * i.priority, color: "#1a202c", weight: 2,
      fillColor: PRIORITY_COLOURS[i.priority] || "#718096", fillOpacity: 0.9, renderer: this.svg,
      className: `incident-marker priority-${i.priority} incident-${i.id}` })
      .bindTooltip(`P${i.priority} ${i.title}`).on("click", () => this.onPick.open(`incident:${i.id}`));
    marker.addTo(this.incidents);
    this.incidentMarkers.set(i.id, marker);
  }

  focus(lat, lon) {
    this.map.setView([lat, lon], Math.max(this.map.getZoom(), 16));
  }

  async loadEmergencies() {
    try {
      const active = (await api("/api/emergencies")).filter((e) => e.active);
      this.emergencies.clearLayers();
      for (const e of active) {
        L.circle([e.lat, e.lon], { radius: e.radius_m, ...EMERGENCY_STYLE, renderer: this.svg,
          className: "emergency-circle" })
          .addTo(this.emergencies);
      }
      return active;
    } catch (error) {
      console.warn("emergencies could not be loaded", error);
      return [];
    }
  }
}
