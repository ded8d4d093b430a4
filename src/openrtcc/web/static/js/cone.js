// A camera's view cone as a polygon: from the camera, out to its range, across its field of view.
// Plane geometry is enough at the ranges involved (500 m at most).

const METRES_PER_DEGREE_LAT = 111_320;

function offset(lat, lon, bearingDeg, metres) {
  const rad = (bearingDeg * Math.PI) / 180;
  const dLat = (metres * Math.cos(rad)) / METRES_PER_DEGREE_LAT;
  const dLon = (metres * Math.sin(rad)) / (METRES_PER_DEGREE_LAT * Math.cos((lat * Math.PI) / 180));
  return [lat + dLat, lon + dLon];
}

/** [[lat, lon], ...] of the cone, or null when the numbers cannot describe one. */
export function coneLatLngs(lat, lon, bearing, fov, range) {
  if (![lat, lon, bearing, fov, range].every(Number.isFinite) || range <= 0 || fov <= 0) return null;
  const width = Math.min(fov, 360);
  const steps = Math.max(4, Math.ceil(width / 5));
  const arc = [];
  for (let i = 0; i <= steps; i += 1) {
    arc.push(offset(lat, lon, bearing - width / 2 + (width * i) / steps, range));
  }
  return width >= 360 ? arc : [[lat, lon], ...arc];
}

export const CONE_STYLE = { color: "#b7791f", weight: 1.5, fillColor: "#ecc94b", fillOpacity: 0.25 };
