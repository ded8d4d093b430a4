// Tens of thousands of cameras, drawn smoothly: Supercluster groups them once, and each move
// draws the clusters and points of the current view onto one canvas. Drawing (not DOM markers)
// keeps a redraw at a few milliseconds even when hundreds of clusters are in view.
/* global L, Supercluster */

export const TIER_COLOURS = { registered: "#2b6cb0", integrated: "#c05621" };
export const OFFLINE_COLOUR = "#718096"; // a camera its edge box reports offline (or a silent box)
// The canvas reaches this far beyond each edge of the view, so a drag shows cameras at once.
const PAD = 0.3;
const POINT_RADIUS = 6;

// `integrated` is what the clusters add up; kept on the point itself so clustering allocates nothing per point.
function feature(id, tier, lon, lat) {
  const properties = { tier, id, integrated: tier === "integrated" ? 1 : 0 };
  return { type: "Feature", properties, geometry: { type: "Point", coordinates: [lon, lat] } };
}

/** The points of /api/agency/map/points?format=columns: ids joined by commas, microdegrees, tier code digits. */
export function featuresFromColumns(doc) {
  const ids = doc.count ? doc.ids.split(",") : [];
  const all = new Array(ids.length);
  for (let k = 0; k < ids.length; k += 1) {
    all[k] = feature(ids[k], doc.tier_codes[doc.tier.charCodeAt(k) - 48], doc.lon[k] / 1e6, doc.lat[k] / 1e6);
  }
  return all;
}

function extent(all) {
  if (!all.length) return null;
  let [south, west, north, east] = [90, 180, -90, -180];
  for (const f of all) {
    const [lon, lat] = f.geometry.coordinates;
    south = Math.min(south, lat); north = Math.max(north, lat);
    west = Math.min(west, lon); east = Math.max(east, lon);
  }
  return [[south, west], [north, east]];
}

function clusterRadius(count) {
  return Math.round(14 + Math.min(4, Math.log10(count)) * 3.5);
}

function countLabel(count) {
  if (count >= 10000) return `${Math.round(count / 1000)}k`;
  return count >= 1000 ? `${(count / 1000).toFixed(1)}k` : String(count);
}

function drawPoint(ctx, item) {
  ctx.beginPath();
  ctx.arc(item.x, item.y, POINT_RADIUS, 0, 2 * Math.PI);
  ctx.fillStyle = item.offline ? OFFLINE_COLOUR : TIER_COLOURS[item.tier] || "#555";
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#ffffff";
  ctx.stroke();
  if (item.offline) { // a cross, so offline reads without colour too
    const d = POINT_RADIUS * 0.55;
    ctx.beginPath();
    ctx.moveTo(item.x - d, item.y - d); ctx.lineTo(item.x + d, item.y + d);
    ctx.moveTo(item.x + d, item.y - d); ctx.lineTo(item.x - d, item.y + d);
    ctx.stroke();
  }
}

// A ring split by tier (integrated share first, clockwise from north) around the count.
function drawCluster(ctx, item) {
  const { x, y, r, count, integrated } = item;
  const split = -Math.PI / 2 + (2 * Math.PI * integrated) / count;
  ctx.lineWidth = 5;
  for (const [from, to, colour] of [[-Math.PI / 2, split, TIER_COLOURS.integrated], [split, 1.5 * Math.PI, TIER_COLOURS.registered]]) {
    if (to <= from) continue;
    ctx.beginPath();
    ctx.arc(x, y, r - 2.5, from, to);
    ctx.strokeStyle = colour;
    ctx.stroke();
  }
  ctx.beginPath();
  ctx.arc(x, y, r - 5, 0, 2 * Math.PI);
  ctx.fillStyle = "#ffffff";
  ctx.fill();
  ctx.fillStyle = "#1a202c";
  ctx.fillText(countLabel(count), x, y + 0.5);
}

export class ClusterLayer {
  constructor(map) {
    this.map = map;
    this.index = null;
    this.bounds = null;
    this.items = [];
    this.offline = new Set();
    this.counts = { total: 0, registered: 0, integrated: 0 };
    const pane = map.createPane("cameras");
    pane.style.zIndex = 410;
    pane.style.pointerEvents = "none";
    this.canvas = L.DomUtil.create("canvas", "camera-canvas", pane);
    // The old picture would be wrong mid-zoom; the next moveend draws the new one.
    map.on("zoomstart", () => { this.canvas.style.visibility = "hidden"; });
  }

  /** The cluster index, counts and extent of these points; needs no map, so it can be built before one exists. */
  static index(all) {
    const index = new Supercluster({
      radius: 60,
      maxZoom: 17,
      reduce: (acc, p) => { acc.integrated += p.integrated; },
    });
    index.load(all);
    const integrated = all.reduce((n, f) => n + f.properties.integrated, 0);
    return { index, counts: { total: all.length, registered: all.length - integrated, integrated }, bounds: extent(all) };
  }

  adopt({ index, counts, bounds }) {
    Object.assign(this, { index, counts, bounds: bounds && L.latLngBounds(bounds) });
  }

  /** The canvas, sized and placed to cover the view plus its padding; returns its 2D context. */
  prepareCanvas() {
    const size = this.map.getSize();
    const ratio = window.devicePixelRatio || 1;
    const [w, h] = [Math.round(size.x * (1 + 2 * PAD)), Math.round(size.y * (1 + 2 * PAD))];
    if (this.canvas.width !== w * ratio || this.canvas.height !== h * ratio) {
      Object.assign(this.canvas, { width: w * ratio, height: h * ratio });
      Object.assign(this.canvas.style, { width: `${w}px`, height: `${h}px` });
    }
    this.origin = L.point(-size.x * PAD, -size.y * PAD);
    L.DomUtil.setPosition(this.canvas, this.map.containerPointToLayerPoint(this.origin));
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "700 12px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    return ctx;
  }

  /** The clusters and points over the padded view, in canvas pixels. */
  visibleItems() {
    const size = this.map.getSize();
    const sw = this.map.containerPointToLatLng([this.origin.x, size.y - this.origin.y]);
    const ne = this.map.containerPointToLatLng([size.x - this.origin.x, this.origin.y]);
    const box = [Math.max(-180, sw.lng), Math.max(-85, sw.lat), Math.min(180, ne.lng), Math.min(85, ne.lat)];
    return this.index.getClusters(box, Math.floor(this.map.getZoom())).map((f) => {
      const [lon, lat] = f.geometry.coordinates;
      const p = this.map.latLngToContainerPoint([lat, lon]).subtract(this.origin);
      const c = f.properties;
      return c.cluster
        ? { x: p.x, y: p.y, lat, lon, count: c.point_count, integrated: c.integrated, id: c.cluster_id, r: clusterRadius(c.point_count) }
        : { x: p.x, y: p.y, lat, lon, count: 1, tier: c.tier, camera: c.id, offline: this.offline.has(c.id), r: POINT_RADIUS };
    });
  }

  /** Camera ids shown as offline from now on (the small list of /api/agency/map/offline). */
  markOffline(ids) {
    this.offline = new Set(ids);
  }

  /** Redraw for the current view; returns how many cameras the view holds. */
  render() {
    if (!this.index) return 0;
    const ctx = this.prepareCanvas();
    this.items = this.visibleItems();
    const clusters = this.items.filter((i) => i.id !== undefined);
    this.items.filter((i) => i.id === undefined).forEach((i) => drawPoint(ctx, i));
    clusters.forEach((i) => drawCluster(ctx, i));
    this.canvas.style.visibility = "visible";
    const view = this.map.getBounds();
    return this.items.reduce((n, i) => n + (view.contains([i.lat, i.lon]) ? i.count : 0), 0);
  }

  /** The cluster drawn under a point of the map container, if any. */
  clusterAt(containerPoint) {
    const p = containerPoint.subtract(this.origin || L.point(0, 0));
    for (let k = this.items.length - 1; k >= 0; k -= 1) {
      const item = this.items[k];
      if (item.id !== undefined && (item.x - p.x) ** 2 + (item.y - p.y) ** 2 <= (item.r + 2) ** 2) return item;
    }
    return null;
  }

  zoomInto(cluster) {
    this.map.setView([cluster.lat, cluster.lon], Math.min(this.index.getClusterExpansionZoom(cluster.id), 18));
  }
}

/** A legend with the counts, as a map control; control.update(inView) refreshes it. */
export function legendControl(counts) {
  const control = L.control({ position: "bottomleft" });
  control.onAdd = () => {
    const div = L.DomUtil.create("div", "map-legend");
    div.setAttribute("role", "status");
    control.update = (inView) => {
      div.replaceChildren();
      const line = (cls, text) => {
        const p = L.DomUtil.create("div", "", div);
        const swatch = cls ? L.DomUtil.create("span", `swatch ${cls}`, p) : null;
        if (cls === "offline") swatch.style.background = OFFLINE_COLOUR;
        p.append(text);
      };
      line("registered", `Registered: ${counts.registered.toLocaleString()}`);
      line("integrated", `Integrated: ${counts.integrated.toLocaleString()}`);
      line("offline", "Offline (edge box)");
      line("result", "Search result");
      line("", `${counts.total.toLocaleString()} camera${counts.total === 1 ? "" : "s"} · ${inView.toLocaleString()} in view`);
    };
    control.update(0);
    return div;
  };
  return control;
}
