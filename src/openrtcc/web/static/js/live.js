// Live view of one camera (/live?camera=ID): the purpose first, then the box's video through hls.js
// until the viewer, the box or the owner's policy ends it; clips of the camera's recorded video below.
/* global Hls */
import { api } from "./api.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { clearErrors, showError, valueOf, whileBusy } from "./forms.js";
import { bytes, dateToLocalInput, localInputToUtc, timeElement, words } from "./format.js";
import { session } from "./session.js";

const STATUS_EVERY_MS = 1000;
const CLIPS_EVERY_MS = 3000;
// Low latency: start half a second behind the newest segment, speed up a little to catch up after a
// stall rather than drifting behind, and keep only a few seconds of video behind the playhead.
const HLS_CONFIG = {
  lowLatencyMode: true,
  liveSyncDuration: 0.5,
  liveMaxLatencyDuration: 3,
  maxLiveSyncPlaybackRate: 1.5,
  backBufferLength: 4,
  maxBufferLength: 4,
  workerPath: "/vendor/hls.js/hls.worker.js",
};

const cameraId = new URLSearchParams(location.search).get("camera");
let current = null; // the session on screen: { id, playlist, hls, timer }

function setState(text) {
  byId("live-state").textContent = text;
}

async function start(form) {
  const body = { purpose: valueOf(form, "purpose") || "", case_number: valueOf(form, "case_number") };
  try {
    const live = await whileBusy(form, () => api(`/api/cameras/${encodeURIComponent(cameraId)}/live`,
      { method: "POST", body }));
    clearErrors(form);
    byId("live-start").hidden = true;
    byId("live-player").hidden = false;
    byId("live-stop").hidden = false;
    current = { id: live.id, playlist: live.playlist_url, hls: null, timer: null };
    byId("main").dataset.liveSession = live.id;
    setState("Asking the camera's box…");
    poll();
  } catch (error) {
    showError(form, error, { purpose_required: "purpose", bad_case_number: "case_number" });
  }
}

async function poll() {
  const live = current;
  if (!live) return;
  try {
    const status = await api(`/api/live/${encodeURIComponent(live.id)}`);
    byId("live-camera").textContent = status.camera_name || "Camera";
    if (status.state === "ended") {
      ended(status.end_reason || "the live view ended");
      return;
    }
    if (status.state === "live" && !live.hls) play(live);
    else if (status.state === "starting") setState("Asking the camera's box…");
  } catch (error) {
    setState(error.message);
  }
  if (current === live) live.timer = setTimeout(poll, STATUS_EVERY_MS);
}

function play(live) {
  const video = byId("live-video");
  if (!window.Hls || !Hls.isSupported()) {
    setState("This browser cannot play live video (no Media Source Extensions).");
    return;
  }
  const hls = new Hls(HLS_CONFIG);
  live.hls = hls;
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    // A fatal network error is usually the session ending: the next status poll says why.
  });
  hls.loadSource(live.playlist);
  hls.attachMedia(video);
  video.play().catch(() => {});
  setState("Live");
}

function ended(reason) {
  const live = current;
  if (!live) return;
  clearTimeout(live.timer);
  if (live.hls) live.hls.destroy();
  current = null;
  setState(`Live view ended: ${reason}`);
  byId("live-state").classList.add("notice-error");
  byId("live-stop").hidden = true;
  byId("live-start").hidden = false;
}

async function stop() {
  const live = current;
  if (!live) return;
  try {
    await api(`/api/live/${encodeURIComponent(live.id)}`, { method: "DELETE" });
  } finally {
    ended("stopped by you");
  }
}

// Leaving the page stops the session, so the owner's camera does not stream to no one.
function stopOnLeave() {
  if (!current) return;
  fetch(`/api/live/${encodeURIComponent(current.id)}`, { method: "DELETE", keepalive: true,
    credentials: "same-origin", headers: { "X-Requested-With": "rtcc" } });
}

// ------------------------------------------------------------------ clips

async function askClip(form) {
  const body = { case_number: valueOf(form, "case_number") || "", purpose: valueOf(form, "purpose") || "",
    start: localInputToUtc(form.elements.start.value), end: localInputToUtc(form.elements.end.value) };
  try {
    await whileBusy(form, () => api(`/api/cameras/${encodeURIComponent(cameraId)}/clips`, { method: "POST", body }));
    clearErrors(form);
    loadClips();
  } catch (error) {
    showError(form, error, { bad_window: "start", bad_case_number: "case_number", purpose_required: "purpose" });
  }
}

async function loadClips() {
  const holder = byId("clip-list");
  try {
    const clips = (await api("/api/clips")).filter((c) => c.camera_id === cameraId);
    replaceChildren(holder, clips.length ? clipTable(clips) : notice("No clips asked of this camera yet."));
    if (clips.some((c) => c.status === "requested")) setTimeout(loadClips, CLIPS_EVERY_MS);
  } catch (error) {
    replaceChildren(holder, notice(`Clips could not be loaded: ${error.message}`, "error"));
  }
}

function clipTable(clips) {
  const rows = clips.map((c) => el("tr", { dataset: { clipId: c.id } },
    el("td", {}, el("strong", {}, c.case_number)),
    el("td", {}, timeElement(c.start), " – ", timeElement(c.end)),
    el("td", {}, el("span", { class: `badge status-${c.status}` }, words(c.status)), c.reason ? ` (${c.reason})` : null),
    el("td", {}, c.sha256 ? el("code", { title: c.sha256 }, `${c.sha256.slice(0, 12)}…`) : "—",
      c.size_bytes ? ` ${bytes(c.size_bytes)}` : null),
    el("td", {}, c.status === "ready"
      ? el("a", { href: `/api/clips/${encodeURIComponent(c.id)}/download`, class: "button small" }, "Download")
      : null)));
  return el("div", { class: "table-wrap" }, table(["Case", "Time range", "Status", "SHA-256", ""], rows, "Clips"));
}

function prefillClipWindow(form) {
  const end = new Date(Date.now() - 60 * 1000);
  form.elements.end.value = dateToLocalInput(end);
  form.elements.start.value = dateToLocalInput(new Date(end.getTime() - 10 * 60 * 1000));
}

async function main() {
  const me = await session;
  if (!cameraId) {
    replaceChildren(byId("live-start"), notice("Open a camera from the map to view it live.", "error"));
    return;
  }
  const form = byId("live-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    start(form);
  });
  byId("live-stop").addEventListener("click", stop);
  window.addEventListener("pagehide", stopOnLeave);
  const clips = byId("clips");
  if (clips.dataset.forRoles.split(" ").includes(me.role)) {
    clips.hidden = false;
    const clipForm = byId("clip-form");
    prefillClipWindow(clipForm);
    clipForm.addEventListener("submit", (event) => {
      event.preventDefault();
      askClip(clipForm);
    });
    loadClips();
  }
  document.body.dataset.liveReady = "1"; // for tests and the benchmark: the form is wired
}

main();
