// One tile of the video wall: a live session of one camera, started with the purpose of the incident it is
// for and the small "tile" profile, played with hls.js, polled for its state; when it ends (the operator
// stopped it, the owner's policy no longer allows it, the box went offline ...) the tile says why.
/* global Hls */
import { api } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { metres } from "./format.js";

const STATUS_EVERY_MS = 2000;
// A small picture, close to live, that never stalls. No LL-HLS blocking reloads: each holds a connection open
// until the next segment, and a browser opens at most six HTTP/1.1 connections to the hub, so sixteen tiles
// blocking at once starved every segment download. hls.js sends them whenever a playlist offers them
// (CAN-BLOCK-RELOAD), low-latency mode or not, so a tile's playlist URL (`?poll=true`, from the hub) asks for
// one that does not. Polling finds a segment up to half a segment (0.5 s) after it lands, so the tile plays two
// segments behind the live edge: one behind left no room for that delay (113 stalls in 31 s over 16 tiles).
const HLS_CONFIG = {
  lowLatencyMode: false,
  liveSyncDuration: 2,
  liveMaxLatencyDuration: 5,
  maxLiveSyncPlaybackRate: 1.25,
  backBufferLength: 2,
  maxBufferLength: 3,
  workerPath: "/vendor/hls.js/hls.worker.js",
};

export class Tile {
  constructor(camera, why, onRemove) {
    this.camera = camera;
    this.why = why;
    this.onRemove = onRemove;
    this.session = null;
    this.hls = null;
    this.timer = null;
    this.ended = false;
    this.video = el("video", { muted: true, playsinline: true, autoplay: true, class: "tile-video",
      "aria-label": `Live video from ${camera.name}` });
    this.video.muted = true;
    this.state = el("p", { class: "tile-state", role: "status" }, "Asking the camera's box…");
    this.stopButton = el("button", { type: "button", class: "small danger", onclick: () => this.stop() },
      `Stop ${camera.name}`);
    this.node = el("figure", { class: "tile", role: "listitem", dataset: { cameraId: camera.id, state: "starting" } },
      this.video,
      el("figcaption", {}, el("strong", {}, camera.name),
        camera.distance_m !== null && camera.distance_m !== undefined ? ` · ${metres(camera.distance_m)}` : "",
        this.state, this.stopButton));
  }

  setState(state, text) {
    this.node.dataset.state = state;
    this.state.textContent = text;
  }

  async start() {
    const body = { purpose: this.why.purpose, case_number: this.why.case_number || null, profile: "tile" };
    try {
      const live = await api(`/api/cameras/${encodeURIComponent(this.camera.id)}/live`, { method: "POST", body });
      this.session = live;
      this.node.dataset.session = live.id;
      this.poll();
    } catch (error) {
      this.end(`could not start: ${error.message}`);
    }
  }

  async poll() {
    if (this.ended || !this.session) return;
    try {
      const status = await api(`/api/live/${encodeURIComponent(this.session.id)}`);
      if (status.state === "ended") {
        this.end(status.end_reason || "the live view ended");
        return;
      }
      if (status.state === "live" && !this.hls) this.play();
    } catch (error) {
      if (error.status === 404 || error.status === 410) {
        this.end(error.message);
        return;
      }
    }
    if (!this.ended) this.timer = setTimeout(() => this.poll(), STATUS_EVERY_MS);
  }

  play() {
    if (!window.Hls || !Hls.isSupported()) {
      this.setState("unsupported", "This browser cannot play live video (no Media Source Extensions).");
      return;
    }
    this.hls = new Hls(HLS_CONFIG);
    this.hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal && data.type === Hls.ErrorTypes.MEDIA_ERROR) this.hls.recoverMediaError();
      // A fatal network error is usually the session ending: the next status poll says why.
    });
    this.hls.loadSource(this.session.playlist_url);
    this.hls.attachMedia(this.video);
    this.video.play().catch(() => {});
    this.setState("live", "Live");
  }

  /** The camera went offline or its owner changed what it shares: say so now; the poll gives the hub's reason. */
  warn(text) {
    if (!this.ended) this.state.textContent = text;
  }

  end(reason) {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    if (this.hls) this.hls.destroy();
    this.hls = null;
    this.video.removeAttribute("src");
    this.setState("ended", `Ended: ${reason}`);
    replaceChildren(this.stopButton, `Remove ${this.camera.name}`);
  }

  /** Stop ends the session (the owner's camera stops streaming); a second press removes the tile. */
  async stop() {
    if (this.ended) {
      this.onRemove(this);
      return;
    }
    const session = this.session;
    this.end("stopped by you");
    if (session) {
      try {
        await api(`/api/live/${encodeURIComponent(session.id)}`, { method: "DELETE" });
      } catch (error) {
        console.warn("the session could not be stopped", error);
      }
    }
  }

  /** Leaving the page: end the session without waiting for the answer. */
  abandon() {
    if (this.ended || !this.session) return;
    fetch(`/api/live/${encodeURIComponent(this.session.id)}`, { method: "DELETE", keepalive: true,
      credentials: "same-origin", headers: { "X-Requested-With": "rtcc" } });
  }
}
