// The owner portal: cameras, registration, footage requests, notifications, contact preferences.
import { api } from "./api.js";
import { byId, notice, replaceChildren } from "./dom.js";
import { CameraForm } from "./camera-form.js";
import { CameraList } from "./portal-cameras.js";
import { EdgeBoxes, EdgeSettings } from "./portal-edges.js";
import { setUpContactForm } from "./portal-contact.js";
import { loadNotifications, loadRequests } from "./portal-requests.js";
import { session } from "./session.js";

async function loadPrograms() {
  try {
    return await api("/api/programs");
  } catch (error) {
    replaceChildren(byId("camera-list"), notice(`Agency programs could not be loaded: ${error.message}`, "error"));
    return [];
  }
}

// Links from notifications and emails point at one request: bring it into view once it is drawn.
function revealLinkedRequest() {
  const match = location.hash.match(/^#request-(.+)$/);
  if (!match) return;
  const card = document.getElementById(`request-${match[1]}`);
  if (card) {
    card.classList.add("linked");
    card.scrollIntoView({ block: "center" });
  }
}

await session;
const programs = await loadPrograms();
const list = new CameraList(byId("camera-list"), programs, {
  onEdit: (camera) => form.edit(camera),
  onLoaded: (cameras) => form.map.showCameras(cameras),
  onEdgeSettings: (camera) => edgeSettings.open(camera, boxes.boxes),
});
const form = new CameraForm(byId("camera-form"), programs, () => list.load());
const boxes = new EdgeBoxes(byId("edge-list"), () => list.load());
const edgeSettings = new EdgeSettings(programs, () => Promise.all([list.load(), boxes.load()]));
await Promise.all([
  list.load(),
  boxes.load(),
  loadRequests(byId("request-list")),
  loadNotifications(byId("notification-list")),
  setUpContactForm(byId("contact-form")),
]);
revealLinkedRequest();
