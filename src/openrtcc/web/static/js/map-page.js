// The agency's camera map: every active camera, clustered, with the search tools beside it.
import { api } from "./api.js";
import { createMap, jurisdictionLayer } from "./basemap.js";
import { ClusterLayer, legendControl } from "./cluster-layer.js";
import { byId } from "./dom.js";
import { EmergencyPanel } from "./map-emergencies.js";
import { FootageRequestForm } from "./footage-form.js";
import { ResultsView } from "./map-results.js";
import { SearchTools } from "./map-search.js";
import { session } from "./session.js";

const FOOTAGE_ROLES = new Set(["analyst", "supervisor"]);
const OFFLINE_REFRESH_MS = 60_000;

// Cameras their edge box reports offline: a short list beside the points, so the big payload stays as it is.
async function offlineCameras() {
  try {
    return (await api("/api/agency/map/offline")).offline;
  } catch {
    return [];
  }
}

async function myJurisdiction(agencyId) {
  try {
    const programs = await api("/api/programs");
    const mine = programs.find((p) => p.agency_id === agencyId);
    return mine ? mine.jurisdiction : null;
  } catch {
    return null;
  }
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
    window.rtccMapStats = { points, ms: Math.round(performance.now()) };
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
  const pointsRequest = api("/api/agency/map/points");
  pointsRequest.catch(() => {});
  const offlineRequest = offlineCameras();
  const me = await session;
  const map = createMap(byId("agency-map"), { zoomControl: true, worldCopyJump: false });
  const layer = new ClusterLayer(map);
  const [data, jurisdiction] = await Promise.all([pointsRequest, myJurisdiction(me.agency_id)]);
  layer.load(data.fields, data.points);
  layer.markOffline(await offlineRequest);
  frameInitialView(map, layer, jurisdiction);
  const legend = legendControl(layer.counts).addTo(map);
  const redraw = () => legend.update(layer.render());
  redraw();
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
