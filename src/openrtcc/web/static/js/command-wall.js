// The video wall: a grid of live tiles (1x1 to 4x4). A new incident fills it with the cameras nearest the
// incident that the owners' policies allow now, unless the operator has locked the wall; the operator can
// fill it for any incident, stop a tile (its session ends) or all of them.
import { api } from "./api.js";
import { byId, el, replaceChildren } from "./dom.js";
import { Tile } from "./command-tile.js";

export class VideoWall {
  /** mayWatch: the role includes live video; without it the wall says so and never fills. */
  constructor(mayWatch) {
    this.mayWatch = mayWatch;
    this.grid = byId("wall");
    this.status = byId("wall-status");
    this.layout = byId("wall-layout");
    this.lock = byId("wall-lock");
    this.tiles = [];
    this.layout.addEventListener("change", () => this.relayout());
    byId("wall-stop-all").addEventListener("click", () => this.stopAll("Stopped by you."));
    window.addEventListener("pagehide", () => this.tiles.forEach((t) => t.abandon()));
    this.relayout();
    if (!mayWatch) this.status.textContent = "Your role does not include live video, so the wall stays empty.";
  }

  get size() {
    return Number(this.layout.value);
  }

  get locked() {
    return this.lock.checked;
  }

  relayout() {
    const n = this.size;
    this.grid.className = `wall layout-${n}`;
    for (const extra of this.tiles.slice(n * n)) this.remove(extra, true);
    this.render();
  }

  render() {
    const free = this.size * this.size - this.tiles.length;
    const empty = Array.from({ length: Math.max(0, free) }, () => el("div", { class: "tile empty", role: "listitem" },
      el("span", { class: "muted" }, "Empty")));
    replaceChildren(this.grid, this.tiles.map((t) => t.node), empty);
  }

  /** A new incident arrived: fill the wall for it, unless the operator locked the wall. */
  incidentOpened(incident) {
    if (!this.mayWatch) return Promise.resolve();
    if (this.locked) {
      this.status.textContent = `New incident "${incident.title}": the wall is locked, so it was not refilled.`;
      return Promise.resolve();
    }
    return this.fillFor(incident);
  }

  async fillFor(incident) {
    const params = new URLSearchParams({ limit: this.size * this.size });
    let wall;
    try {
      wall = await api(`/api/wall/incident/${encodeURIComponent(incident.id)}?${params}`);
    } catch (error) {
      this.status.textContent = `The wall could not be filled: ${error.message}`;
      return;
    }
    const why = { purpose: wall.purpose, case_number: wall.case_number };
    const cameras = wall.cameras;
    this.stopAll(null);
    this.tiles = cameras.map((c) => new Tile(c, why, (t) => this.remove(t, false)));
    this.render();
    this.tiles.forEach((t) => t.start());
    this.status.textContent = cameras.length
      ? `${cameras.length} camera${cameras.length === 1 ? "" : "s"} nearest "${incident.title}" that the owners let you watch now.`
      : `No camera near "${incident.title}" may be watched live now (owners' policies, or their boxes are offline).`;
  }

  remove(tile, stopFirst) {
    if (stopFirst) tile.stop();
    this.tiles = this.tiles.filter((t) => t !== tile);
    this.render();
  }

  stopAll(message) {
    for (const t of this.tiles) if (!t.ended) t.stop();
    this.tiles = [];
    this.render();
    if (message) this.status.textContent = message;
  }

  /** The name of a camera on the wall (the feed names cameras it knows). */
  nameOf(cameraId) {
    return this.tiles.find((t) => t.camera.id === cameraId)?.camera.name;
  }

  /** A camera_status or sharing message about a camera on the wall. */
  cameraChanged(cameraId, text) {
    for (const t of this.tiles) if (t.camera.id === cameraId) t.warn(text);
  }
}
