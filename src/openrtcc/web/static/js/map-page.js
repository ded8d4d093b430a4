// The agency's camera map: every active camera, clustered, with the search tools beside it.
import { api } from "./api.js";
import { createMap, jurisdictionLayer } from "./basemap.js";
import { ClusterLayer, featuresFromColumns, legendControl } from "./cluster-layer.js";
import { byId } from "./dom.js";
import { EmergencyPanel } from "./map-emergencies.js";
import { FootageRequestForm } from "./footage-form.js";
import { ResultsView } from "./map-results.js";
import { SearchTools } from "./map-search.js";
import { session } from "./session.js";

const FOOTAGE_ROLES = new Set(["analyst", "supervisor"]);
const OFFLINE_REFRESH_MS = 60_000;
// The compact form of the points (ids joined, coordinates as whole microdegrees): map.html preloads this URL.
const POINTS_URL = "/api/agency/map/points?format=columns";

// Cameras their edge box reports offline: a short list beside the points, so the big payload stays as it is.
async function offlineCameras() {
  try {
    return (await api("/api/agency/map/offline")).offline;
  } catch {
    return [];
  }
}

async function myJurisdiction(programsRequest, agencyId) {
  const programs = await programsRequest;
  const mine = programs && programs.find((p) => p.agency_id === agencyId);
  return mine ? mine.jurisdiction : null;
}

// Parsed and clustered as soon as they arrive, while the session and the programs are still on their way.
function indexPoints(pointsRequest) {
  const indexed = pointsRequest.then((doc) => {
    performance.mark("rtcc:points");
    const built = ClusterLayer.index(featuresFromColumns(doc));
    performance.mark("rtcc:index");
    return built;
  });
  indexed.catch(() => {});
  return indexed;
}

// Start where the cameras are; with none yet, show the agency's area; failing that, the world.
function frameInitialView(map, layer, jurisdiction) {
  const area = jurisdiction ? jurisdictionLayer(jurisdiction).addTo(map) : null;
  if (layer.bounds) map.fitBounds(layer.bounds, { maxZoom: 16, padding: [30, 30], animate: false });
  else if (area && area.getBounds().isValid()) map.fitBounds(area.getBounds(), { animate: false });
  else map.setView([20, 0], 2, { animate: false });
}

// The benchmark reads these two names: keep them exactly.
function announceFirstRender(points) {
  requestAnimationFrame(() => requestAnimationFrame(() => {
    // phases: when the points arrived and were clustered, and the first drawing, from the navigation's start.
    const phases = Object.fromEntries(performance.getEntriesByType("mark").filter((m) => m.name.startsWith("rtcc:"))
      .map((m) => [m.name.slice(5), Math.round(m.startTime)]));
    window.rtccMapStats = { points, ms: Math.round(performance.now()), phases };
    document.body.dataset.mapReady = "1";
  }));
}

function setUpFootageRequests(role) {
  const button = byId("request-footage");
  const dialog = byId("footage-dialog");
  const form = new FootageRequestForm(byId("footage-form"), () => {});
  let incident = null;
  button.addEventListener("click", () => {
    form.prefill(incident);
    dialog.showModal();
  });
  return (next) => {
    incident = next;
    byId("incident-actions").hidden = !(next && FOOTAGE_ROLES.has(role));
  };
}

async function start() {
  // The points are the long pole of the first render: ask for them while the session is being checked.
  // A visitor without a map role gets a refusal here, and the session check sends them on their way.
  const indexed = indexPoints(api(POINTS_URL));
  const programsRequest = api("/api/programs").catch(() => null);
  const offlineRequest = offlineCameras();
  const me = await session;
  const map = createMap(byId("agency-map"), { zoomControl: true, worldCopyJump: false });
  const layer = new ClusterLayer(map);
  const [built, jurisdiction] = await Promise.all([indexed, myJurisdiction(programsRequest, me.agency_id)]);
  layer.adopt(built);
  layer.markOffline(await offlineRequest);
  frameInitialView(map, layer, jurisdiction);
  const legend = legendControl(layer.counts).addTo(map);
  const redraw = () => legend.update(layer.render());
  redraw();
  performance.mark("rtcc:render");
  map.on("moveend", redraw);
  const status = () => {
    const off = layer.offline.size ? `, ${layer.offline.size.toLocaleString()} offline` : "";
    byId("map-status").textContent = `${layer.counts.total.toLocaleString()} active cameras in your program${off}.`;
  };
  status();
  setInterval(async () => {
    layer.markOffline(await offlineCameras());
    redraw();
    status();
  }, OFFLINE_REFRESH_MS);
  announceFirstRender(layer.counts.total);
  const results = new ResultsView(map, byId("results"), byId("results-summary"));
  const tools = new SearchTools(map, byId("search-form"), results, setUpFootageRequests(me.role));
  routeClicks(map, layer, tools);
  new EmergencyPanel(map, me.role).load();
}

// A click on a cluster opens it; anywhere else it is a place for the active search tool.
function routeClicks(map, layer, tools) {
  map.on("click", (event) => {
    const cluster = layer.clusterAt(event.containerPoint);
    if (cluster) layer.zoomInto(cluster);
    else tools.clicked(event.latlng);
  });
  map.on("mousemove", (event) => {
    map.getContainer().classList.toggle("over-cluster", Boolean(layer.clusterAt(event.containerPoint)));
  });
}

start().catch((error) => {
  byId("map-status").textContent = `The map could not be loaded: ${error.message}`;
  byId("map-status").className = "form-error";
});
