// The command center (/command): the agency's events live over one WebSocket (feed, map, wall), the detail
// panel with the operator's actions, and the video wall that a new incident fills.
import { api } from "./api.js";
import { byId } from "./dom.js";
import { CommandSocket } from "./command-socket.js";
import { DetailPanel } from "./command-detail.js";
import { Feed, alertItem, cameraItem, emergencyItem, incidentItem, sharingItem, tipItem } from "./command-feed.js";
import { IncidentForm } from "./command-incident-form.js";
import { CommandMap } from "./command-map.js";
import { VideoWall } from "./command-wall.js";
import { session } from "./session.js";

const LIVE_ROLES = new Set(["supervisor", "analyst", "officer"]);
let feed;
let map;
let wall;
let detail;

function putAlert(a, { live = false } = {}) {
  const item = alertItem(a);
  feed.put(item);
  if (live) feed.announce(item);
  map.showAlert(a);
}

function putIncident(i) {
  feed.put(incidentItem(i));
  map.showIncident(i);
}

/** An item changed (an action here, or another screen's): redraw it where it shows. */
function refreshed(kind, record) {
  if (kind === "alert") putAlert(record);
  else if (kind === "tip") feed.put(tipItem(record));
  else putIncident(record);
  feed.render();
  const key = `${kind}:${record.id}`;
  if (detail.item && detail.item.key === key) detail.show(feed.items.get(key), { refresh: true });
}

const HANDLERS = {
  alert: (m) => putAlert(m.alert, { live: true }),
  alert_update: (m) => {
    refreshed("alert", m.alert);
    if (m.action === "escalate") feed.announce({ ...feed.items.get(`alert:${m.alert.id}`), title: `escalated: ${m.alert.plate}` });
  },
  incident: (m) => {
    const before = feed.items.get(`incident:${m.incident.id}`)?.ref;
    refreshed("incident", m.incident);
    if (m.incident.escalated_at && !before?.escalated_at) {
      feed.announce({ ...feed.items.get(`incident:${m.incident.id}`), title: `escalated: ${m.incident.title}` });
    }
    if (m.change !== "opened") return;
    feed.announce(feed.items.get(`incident:${m.incident.id}`));
    if (!wall.locked) map.focus(m.incident.lat, m.incident.lon); // the map follows the wall to the new incident
    wall.incidentOpened(m.incident);
  },
  tip: (m) => {
    const item = tipItem(m);
    feed.put(item);
    feed.announce(item);
  },
  camera_status: (m) => {
    feed.put(cameraItem(m, wall.nameOf(m.camera_id)));
    map.cameraStatus(m.camera_id, m.online);
    if (!m.online) wall.cameraChanged(m.camera_id, `Camera offline${m.reason ? `: ${m.reason.replaceAll("_", " ")}` : ""}`);
  },
  sharing: (m) => {
    feed.put(sharingItem(m, wall.nameOf(m.camera_id)));
    wall.cameraChanged(m.camera_id, `The owner changed sharing (${m.change})`);
  },
  emergency: (m) => {
    feed.put(emergencyItem(m));
    map.loadEmergencies();
  },
};

function onMessage(message) {
  const handle = HANDLERS[message.type];
  if (!handle) return;
  handle(message);
  feed.render();
}

// After (re)connecting: what happened while the line was down, from the REST APIs. Whole recent lists, not
// only what is newer: an alert or incident may also have changed (acknowledged, closed) meanwhile.
async function catchUp() {
  // Each list on its own: one that fails (the hub busy, a role without tips) must not hide the others.
  const [alerts, incidents, tips] = await Promise.all(["/api/agency/alerts?limit=200",
    "/api/incidents?status=all&limit=200", "/api/tips?status=open"].map((url) => api(url).catch((error) => {
    console.warn(`catch-up: ${url} failed`, error);
    return [];
  })));
  alerts.slice().reverse().forEach((a) => putAlert(a));
  incidents.slice().reverse().forEach(putIncident);
  tips.forEach((t) => feed.put(tipItem(t)));
  const active = await map.loadEmergencies();
  active.forEach((e) => feed.put(emergencyItem({ emergency_id: e.id, change: "declared", at: e.declared_at })));
  await map.refreshOffline();
  feed.render();
  if (detail.item && feed.items.has(detail.item.key)) detail.show(feed.items.get(detail.item.key), { refresh: true });
}

function setConnection(text, live) {
  const badge = byId("command-connection");
  badge.textContent = text;
  badge.className = `badge ${live ? "status-live" : "status-offline"}`;
}

async function start() {
  const me = await session;
  feed = new Feed(byId("feed"), byId("feed-announce"), (item) => detail.show(item));
  const mayWatch = LIVE_ROLES.has(me.role);
  wall = new VideoWall(mayWatch);
  const form = new IncidentForm(me.role, (incident) => refreshed("incident", incident));
  map = new CommandMap(byId("command-map"), { place: (latlng) => form.place(latlng), open: (key) => feed.open(key) });
  detail = new DetailPanel(me.role, { mayWatch, onChanged: refreshed, onWall: (incident) => {
    map.focus(incident.lat, incident.lon);
    wall.fillFor(incident);
  } });
  for (const radio of document.querySelectorAll("input[name=feed-filter]")) {
    radio.addEventListener("change", () => feed.setFilter(radio.value));
  }
  feed.render();
  await map.loadCameras(me.agency_id);
  detail.loadAssignees();
  new CommandSocket({ onMessage, catchUp, status: setConnection }).connect();
  document.body.dataset.commandReady = "1"; // for tests and the wall benchmark: everything is wired
}

start().catch((error) => {
  byId("map-status").textContent = `The command center could not start: ${error.message}`;
  byId("map-status").className = "form-error";
});
