"""`rtcc bench edge --parts live`: live view glass-to-glass latency, camera to a browser's screen.

The whole chain is the real one, each part in its own process as deployed: the RTSP test camera's `/clock`
mount (every frame carries the sender's wall clock in ms, drawn as blocks at the top) -> a real `rtcc edge`
process (capture, policy gate, decode, libx264 low-latency encode, 0.5 s fMP4 segments, HTTPS uploads) ->
a hub served by uvicorn on loopback (in memory segments, LL-HLS playlist with blocking reload) -> headless
Chromium on the live page (hls.js). The page's <video> is drawn to a canvas again and again; the band at
the top of the frame on screen is decoded (`bench/clock_pattern.py`) and the latency is the browser's wall
clock at that moment minus the clock in the frame. One machine, one clock: no skew to correct.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from openrtcc.bench.browser import CHROMIUM, CHROMIUM_ARGS, video_bench_skip_reason
from openrtcc.bench.clock_pattern import BAND_ROWS, band_height, decode_clock_blocks, latency_ms
from openrtcc.bench.report import machine, percentile, replace_section
from openrtcc.bench.server import LoopbackServer
from openrtcc.bench.world import add_staff, build_world, owner_session, staff_session
from openrtcc.domain.accounts import Role

log = logging.getLogger(__name__)

SECTION_TITLE = "## Edge: live view (rtcc bench edge)"
TARGET_MS = 2000.0  # HLS; the issue asks <= 0.5 s only of WebRTC
MAX_SAMPLE_S = 20.0
SAMPLE_EVERY_S = 0.2
START_TIMEOUT_S = 60.0
# The page draws the frame on screen to a small canvas and returns the luma of the band's rows with the
# browser's clock at that moment (Date.now(): the same wall clock as the camera's, on one machine).
SAMPLE_JS = """(rows) => {
  const v = document.getElementById('live-video');
  if (!v || v.readyState < 2 || !v.videoWidth) return null;
  const w = 320, h = Math.round(v.videoHeight * w / v.videoWidth);
  const c = window.__benchCanvas || (window.__benchCanvas = document.createElement('canvas'));
  c.width = w; c.height = h;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0, w, h);
  const at = Date.now();
  const px = g.getImageData(0, 0, w, rows(h)).data;
  const out = [];
  for (let y = 0; y < rows(h); y++) {
    const line = new Array(w);
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      line[x] = Math.round(0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]);
    }
    out.push(line);
  }
  return { at, h, rows: out };
}"""


@dataclass(slots=True)
class LiveFigures:
    latencies_ms: list[float] = field(default_factory=list)
    samples: int = 0
    unreadable: int = 0
    startup_s: float | None = None
    skipped: str | None = None

    def pct(self, q: float) -> float | None:
        return percentile(sorted(self.latencies_ms), q) if self.latencies_ms else None

    @property
    def passed(self) -> bool:
        p95 = self.pct(95)
        return p95 is not None and p95 <= TARGET_MS


def run_live_bench(args) -> int:
    video = Path(args.video)
    seconds = min(float(args.seconds), MAX_SAMPLE_S)
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-live-") as tmp:
        figures = measure(video, seconds, Path(tmp))
    text = section(figures)
    print(text)
    replace_section(Path(args.output), SECTION_TITLE, text)
    return 0 if figures.skipped is None and figures.passed else 1


def measure(video: Path, seconds: float, tmp: Path) -> LiveFigures:
    reason = video_bench_skip_reason(video)
    if reason:
        return LiveFigures(skipped=reason)
    from openrtcc.bench.rtsp_camera_server import CameraServer
    from openrtcc.web.app import create_app

    world = build_world(tmp / "hub")
    officer_email = add_staff(world, Role.OFFICER, "officer")
    with CameraServer(video) as cameras, LoopbackServer(create_app(world.settings, world.hub)) as base_url:
        world.hub.base_url = base_url
        owner = owner_session(base_url, world.password, 1)
        camera_id = _integrated_camera(owner, world)
        box = _start_box(tmp / "edge", base_url, owner, camera_id, cameras.url("clock"))
        try:
            _wait_linked(world.hub, world.city_id, camera_id, box)
            officer = staff_session(base_url, officer_email, world.password)
            return _watch(base_url, officer, camera_id, seconds)
        finally:
            _stop_box(box)



def _integrated_camera(owner, world) -> str:
    center = world.city_box
    r = owner.post("/api/owner/cameras", json={
        "agency_id": world.city_id, "name": "Clock camera", "address": "1 Bench St",
        "lat": (center.min_lat + center.max_lat) / 2, "lon": (center.min_lon + center.max_lon) / 2,
        "bearing_deg": 90, "fov_deg": 90, "range_m": 40, "public_facing_attested": True, "make": None,
        "model": None, "owner_retention_days": 7, "tier": "integrated",
        "sharing": {"mode": "always", "share_live": True, "share_recorded": True}})
    r.raise_for_status()
    return r.json()["id"]


def _start_box(data_dir: Path, base_url: str, owner, camera_id: str, camera_url: str) -> subprocess.Popen:
    """Enrol a box with a one-time code and run it as `rtcc edge run`, its own process."""
    from openrtcc.edge.config import load_edge_config
    from openrtcc.edge.enrolment import enrol

    data_dir.mkdir(parents=True)
    config_path = data_dir / "edge.toml"
    config_path.write_text(
        f'[edge]\nname = "bench box"\ndata_dir = "{data_dir}"\nhub_url = "{base_url}"\n\n'
        f'[[cameras]]\nid = "{camera_id}"\nname = "Clock camera"\nurl = "{camera_url}"\n'
        "record = false\nplate_reading = false\n")
    code = owner.post("/api/owner/edges/codes", json={"name": "bench box"}).raise_for_status().json()["code"]
    enrol(load_edge_config(config_path), code)
    log_file = (data_dir / "edge.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "openrtcc.cli", "edge", "--config", str(config_path), "run"],
                            stdout=log_file, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_linked(hub, agency_id: str, camera_id: str, box: subprocess.Popen) -> None:
    """Until the box's hello has linked the camera and its link is up."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if box.poll() is not None:
            raise RuntimeError(f"rtcc edge exited with {box.returncode}")
        with hub.uow() as uow:
            cam = uow.cameras.get_for_agency(agency_id, camera_id)
            uow.rollback()
        if cam.edge_id and hub.extras["edge_links"].is_connected(cam.edge_id):
            return
        time.sleep(0.2)
    raise RuntimeError("the box did not link the camera in time")


def _stop_box(box: subprocess.Popen) -> None:
    if box.poll() is None:
        box.terminate()
        try:
            box.wait(timeout=15)
        except subprocess.TimeoutExpired:
            box.kill()
            box.wait()


def _watch(base_url: str, officer, camera_id: str, seconds: float) -> LiveFigures:
    from playwright.sync_api import sync_playwright

    figures = LiveFigures()
    token = officer.headers["Authorization"].removeprefix("Bearer ")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            context.add_cookies([{"name": "rtcc_session", "value": token, "url": base_url}])
            page = context.new_page()
            page.goto(f"{base_url}/live?camera={camera_id}")
            page.wait_for_function("() => document.body.dataset.liveReady === '1'")
            page.locator("#live-purpose").fill("benchmark: glass-to-glass latency")
            started = time.monotonic()
            page.locator("#live-form button[type=submit]").click()
            page.wait_for_function("() => document.getElementById('live-video').currentTime > 0",
                                   timeout=START_TIMEOUT_S * 1000)
            figures.startup_s = time.monotonic() - started
            time.sleep(2.0)  # let the player settle on its target latency
            _sample(page, figures, seconds)
            page.locator("#live-stop").click()
        finally:
            browser.close()
    return figures


def _sample(page, figures: LiveFigures, seconds: float) -> None:
    rows_of = f"(h) => Math.max(2, Math.round({BAND_ROWS} * h / 720))"
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = page.evaluate(f"({SAMPLE_JS})({rows_of})")
        figures.samples += 1
        value = decode_clock_blocks(got["rows"][:band_height(got["h"])]) if got else None
        if value is None:
            figures.unreadable += 1
        else:
            figures.latencies_ms.append(float(latency_ms(value, got["at"] * 1_000_000)))
        time.sleep(SAMPLE_EVERY_S)


def section(f: LiveFigures, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    lines = [SECTION_TITLE, "", f"Run {when:%Y-%m-%d %H:%M} UTC on {machine()}.", ""]
    if f.skipped:
        return "\n".join(lines + [f"Not measured: {f.skipped}.", ""])
    p50, p95, top = f.pct(50), f.pct(95), max(f.latencies_ms, default=None)

    def ms(v):
        return "—" if v is None else f"{v:,.0f} ms"

    verdict = "pass" if f.passed else "FAIL"
    lines += ["| measurement | result | target | verdict |", "| --- | --- | --- | --- |",
              f"| glass-to-glass p50 | {ms(p50)} | | |",
              f"| glass-to-glass p95 | {ms(p95)} | <= {TARGET_MS:,.0f} ms (HLS) | {verdict} |",
              f"| glass-to-glass max | {ms(top)} | | |",
              f"| frames read / sampled | {len(f.latencies_ms)} / {f.samples} | | |",
              f"| start (click to first frame played) | "
              f"{'—' if f.startup_s is None else f'{f.startup_s:.1f} s'} | | |",
              "", HOW, ""]
    return "\n".join(lines)


HOW = """How it was measured: `uv run rtcc bench edge --parts live` starts the RTSP test camera (GStreamer, its
`/clock` mount: 1280x720 at 25 fps, each frame stamped with the sender's wall clock in ms as blocks along its
top), a hub (SQLite) served by uvicorn on 127.0.0.1, and a real `rtcc edge run` process enrolled with a
one-time code, its camera pointing at `/clock` (no recording, no plate reading). An officer's session in
headless Chromium (Debian's `/usr/bin/chromium`, Playwright) opens `/live`, states a purpose and starts the
view: the hub decides and sends LiveStart, the box decodes, encodes H.264 (libx264 ultrafast, zerolatency),
cuts 0.5 s fMP4 segments and uploads them; hls.js (low-latency mode, 0.5 s behind the newest segment, LL-HLS
blocking playlist reload) plays them. Every 0.2 s the page draws the frame on screen to a canvas and the
band is decoded: latency = the browser's wall clock at the draw minus the clock in the frame. The first two
seconds after playback starts are not sampled. Camera, box, hub and browser share this machine's cores."""
