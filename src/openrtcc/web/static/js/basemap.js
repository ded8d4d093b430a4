// A Leaflet map with the operator's tile layer, or a plain background when none is configured
// (offline deployments): the cameras and shapes still draw, on a neutral canvas.
/* global L */

export function createMap(container, options = {}) {
  const map = L.map(container, { preferCanvas: true, zoomSnap: 0.5, ...options });
  const { tileUrl, tileAttribution } = document.body.dataset;
  if (tileUrl) {
    L.tileLayer(tileUrl, { attribution: tileAttribution || "", maxZoom: 19, crossOrigin: false }).addTo(map);
  } else {
    container.classList.add("no-tiles");
    map.attributionControl.addAttribution("No base map configured");
  }
  L.control.scale({ imperial: false }).addTo(map);
  return map;
}

/** The outline of an agency's jurisdiction (GeoJSON Polygon or MultiPolygon, longitude first). */
export function jurisdictionLayer(geojson) {
  return L.geoJSON(geojson, {
    interactive: false,
    style: { color: "#4a5568", weight: 2, dashArray: "6 4", fill: true, fillOpacity: 0.03 },
  });
}
