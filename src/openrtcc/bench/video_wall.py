"""`rtcc bench wall`: a 16-tile live video wall of integrated cameras in one headless Chromium tab.

The chain is the real one: the RTSP test camera server (the 720p sample clip looping at `/cars` for every
camera but one, which shows `/clock`: the sender's wall clock drawn into each frame; every camera has a 640x360
substream, `/cars_sub` and `/clock_sub`, that live view decodes, as walls do) -> one real `rtcc edge run`
process with 16 cameras, enrolled with a one-time code and linked to a hub served by uvicorn on loopback ->
the /command page in Chromium (Playwright, Debian's /usr/bin/chromium) with the wall in 4x4. An incident opened
through the API arrives on the page's socket and fills the wall (the command center's rule: the nearest cameras the owners'
policies allow now); each tile asks for a live session with the small `tile` profile and plays it with hls.js.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openrtcc.bench.browser import CHROMIUM, CHROMIUM_ARGS, video_bench_skip_reason
from openrtcc.bench.clock_pattern import BAND_ROWS, band_height, decode_clock_blocks, latency_ms
from openrtcc.bench.edge_live import _stop_box
from openrtcc.bench.edge_recording import cpu_seconds
from openrtcc.bench.report import replace_section
from openrtcc.bench.server import LoopbackServer
from openrtcc.bench.video_wall_report import SECTION_TITLE, TileFigures, WallFigures, section
from openrtcc.bench.world import BenchWorld, add_staff, build_world, owner_session, staff_session
from openrtcc.domain.accounts import Role

log = logging.getLogger(__name__)

START_TIMEOUT_S = 90.0
SAMPLE_EVERY_S = 0.25
SETTLE_S = 3.0  # after the last tile starts: hls.js catches up to its live edge (it plays faster until then)
SPACING_DEG = 0.0004  # about 40 m between cameras: all 16 within the wall's search radius
# Per <video>: the camera it shows, its playback position and the browser's frame counters.
STATE_JS = """() => [...document.querySelectorAll('#wall figure.tile')].map(t => {
  const v = t.querySelector('video');
  const q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
  return { camera: t.dataset.cameraId, state: t.dataset.state, time: v ? v.currentTime : 0,
           says: (t.querySelector('.tile-state') || {}).textContent || '',
           frames: q ? q.totalVideoFrames : 0, dropped: q ? q.droppedVideoFrames : 0,
           stalls: v ? (v.__stalls || 0) : 0 };
})"""
COUNT_STALLS_JS = """() => document.querySelectorAll('#wall video').forEach(v => {
  if (!v.__counting) { v.__counting = true; v.__stalls = 0; v.addEventListener('waiting', () => v.__stalls++); }
})"""
# The clock tile's frame on screen, drawn to a small canvas: the band's luma rows and the browser's clock.
CLOCK_JS = """([camera, rowsAt720]) => {
  const t = document.querySelector(`#wall figure.tile[data-camera-id="${camera}"] video`);
  if (!t || t.readyState < 2 || !t.videoWidth) return null;
  const w = 320, h = Math.round(t.videoHeight * w / t.videoWidth), rows = Math.max(2, Math.round(rowsAt720 * h / 720));
  const c = window.__wallCanvas || (window.__wallCanvas = document.createElement('canvas'));
  c.width = w; c.height = h;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(t, 0, 0, w, h);
  const at = Date.now();
  const px = g.getImageData(0, 0, w, rows).data;
  const out = [];
  for (let y = 0; y < rows; y++) {
    const line = new Array(w);
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      line[x] = Math.round(0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]);
    }
    out.push(line);
  }
  return { at, h, rows: out };
}"""


def run_wall_bench(args) -> int:
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-wall-") as tmp:
        figures = measure(Path(args.video), args.tiles, float(args.seconds), Path(tmp))
    text = section(figures)
    print(text)
    replace_section(Path(args.output), SECTION_TITLE, text)
    return 0 if figures.skipped is None and figures.all_playing_s is not None else 1



def measure(video: Path, tiles: int, seconds: float, tmp: Path) -> WallFigures:
    figures = WallFigures(tiles=tiles, seconds=seconds)
    figures.skipped = video_bench_skip_reason(video)
    if figures.skipped:
        return figures
    from openrtcc.bench.rtsp_camera_server import CameraServer, CameraServerUnavailable
    from openrtcc.web.app import create_app

    began = time.monotonic()
    world = build_world(tmp / "hub")
    operator = add_staff(world, Role.SUPERVISOR, "wall-operator")
    dispatcher = add_staff(world, Role.SUPERVISOR, "dispatcher")
    try:
        substream = _substream_clip(video, tmp / "cars-360p.mp4")
        with CameraServer(video, loops={"cars_sub": substream}) as cameras, \
                LoopbackServer(create_app(world.settings, world.hub)) as base_url:
            world.hub.base_url = base_url
            owner = owner_session(base_url, world.password, 1)
            spot = _spot(world)
            camera_ids = [_integrated_camera(owner, world, spot, i) for i in range(tiles)]
            urls = [(cameras.url("clock"), cameras.url("clock_sub"))] + [(cameras.url("cars"), cameras.url("cars_sub"))
                                                     for _ in range(tiles - 1)]
            box = _start_box(tmp / "edge", base_url, owner, camera_ids, urls[:tiles])
            try:
                _wait_all_linked(world, camera_ids, box)
                _watch(figures, base_url, world, operator, dispatcher, spot, camera_ids, box, cameras.pid)
            finally:
                _stop_box(box)
    except CameraServerUnavailable as exc:
        figures.skipped = str(exc)
    finally:
        world.hub.extras["engine"].dispose()
    figures.wall_s = time.monotonic() - began
    return figures


def _spot(world: BenchWorld) -> tuple[float, float]:
    box = world.city_box
    return (box.min_lat + box.max_lat) / 2, (box.min_lon + box.max_lon) / 2


def _integrated_camera(owner, world: BenchWorld, spot: tuple[float, float], i: int) -> str:
    row, col = divmod(i, 4)
    r = owner.post("/api/owner/cameras", json={
        "agency_id": world.city_id, "name": f"Wall camera {i + 1}", "address": f"{10 + i} Bench St",
        "lat": spot[0] + (row - 1.5) * SPACING_DEG, "lon": spot[1] + (col - 1.5) * SPACING_DEG,
        "bearing_deg": (i * 45) % 360, "fov_deg": 90, "range_m": 40, "public_facing_attested": True,
        "make": None, "model": None, "owner_retention_days": 7, "tier": "integrated",
        "sharing": {"mode": "always", "share_live": True, "share_recorded": True}})
    r.raise_for_status()
    return r.json()["id"]


def _substream_clip(video: Path, out: Path) -> Path:
    """The sample clip as a camera's 640x360 substream (H.264, a keyframe a second): cameras offer one, and a
    wall tile is drawn from it, as video walls do, instead of decoding the 720p main stream for a small tile."""
    from fractions import Fraction

    import av

    with av.open(str(video)) as src, av.open(str(out), "w") as dst:
        inp = src.streams.video[0]
        fps = int(round(float(inp.average_rate or 25)))
        enc = dst.add_stream("libx264", rate=fps)
        enc.width, enc.height, enc.pix_fmt = 640, 360, "yuv420p"
        enc.time_base = Fraction(1, fps)
        enc.options = {"preset": "veryfast", "g": str(fps), "bf": "0"}
        for index, frame in enumerate(src.decode(inp)):
            small = frame.reformat(width=640, height=360, format="yuv420p")
            small.pts, small.time_base = index, Fraction(1, fps)
            for packet in enc.encode(small):
                dst.mux(packet)
        for packet in enc.encode():
            dst.mux(packet)
    return out


def _start_box(data_dir: Path, base_url: str, owner, camera_ids: list[str],
               urls: list[tuple[str, str | None]]) -> subprocess.Popen:
    """Enrol one box with every camera (main stream and substream; no recording, no plate reading) and run it as
    `rtcc edge run`."""
    from openrtcc.edge.config import load_edge_config
    from openrtcc.edge.enrolment import enrol

    data_dir.mkdir(parents=True)
    config_path = data_dir / "edge.toml"
    cams = "".join(f'\n[[cameras]]\nid = "{cid}"\nname = "Wall camera {i + 1}"\nurl = "{url}"\n'
                   + (f'substream_url = "{sub}"\n' if sub else "")
                   + "record = false\nplate_reading = false\n"
                   for i, (cid, (url, sub)) in enumerate(zip(camera_ids, urls, strict=True)))
    config_path.write_text(f'[edge]\nname = "wall box"\ndata_dir = "{data_dir}"\nhub_url = "{base_url}"\n{cams}')
    code = owner.post("/api/owner/edges/codes", json={"name": "wall box"}).raise_for_status().json()["code"]
    enrol(load_edge_config(config_path), code)
    log_file = (data_dir / "edge.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "openrtcc.cli", "edge", "--config", str(config_path), "run"],
                            stdout=log_file, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_all_linked(world: BenchWorld, camera_ids: list[str], box: subprocess.Popen) -> None:
    """Until the box's hello has linked every camera, its link is up and its health says each is online."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if box.poll() is not None:
            raise RuntimeError(f"rtcc edge exited with {box.returncode}")
        with world.hub.uow() as uow:
            edges = {uow.cameras.get_for_agency(world.city_id, cid).edge_id for cid in camera_ids}
            states = {r.id: r.online for r in uow.edges.camera_states(list(edges))} if None not in edges else {}
            uow.rollback()
        linked = bool(states) and all(world.hub.extras["edge_links"].is_connected(e) for e in edges)
        if linked and all(states.get(cid) for cid in camera_ids):
            return
        time.sleep(0.5)
    raise RuntimeError("the box did not bring every camera online in time")


def _browser_pids() -> list[int]:
    """This process's descendants that are Chromium (Playwright's driver starts the browser)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            names[int(entry)] = stat[stat.find("(") + 1:stat.rfind(")")]
            parents[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    mine, me = [], os.getpid()
    for pid in parents:
        p = pid
        while p in parents and p not in (me, 0, 1):
            p = parents[p]
        if p == me and "chrom" in names[pid].lower():
            mine.append(pid)
    return mine


def _cpu(box_pid: int, camera_pid: int) -> dict[str, float]:
    browser = 0.0
    for pid in _browser_pids():
        try:
            browser += cpu_seconds(pid)
        except OSError:
            pass  # a renderer that ended meanwhile
    return {"hub": time.process_time(), "edge box": cpu_seconds(box_pid), "browser (all processes)": browser,
            "camera server": cpu_seconds(camera_pid)}


def _watch(f: WallFigures, base_url: str, world: BenchWorld, operator: str, dispatcher: str,
           spot: tuple[float, float], camera_ids: list[str], box: subprocess.Popen, camera_pid: int) -> None:
    from playwright.sync_api import sync_playwright

    page_session = staff_session(base_url, operator, world.password)
    opener = staff_session(base_url, dispatcher, world.password)
    token = page_session.headers["Authorization"].removeprefix("Bearer ")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            context.add_cookies([{"name": "rtcc_session", "value": token, "url": base_url}])
            page = context.new_page()
            page.goto(f"{base_url}/command")
            page.wait_for_function("() => document.body.dataset.commandReady === '1'", timeout=30_000)
            # The socket must be up before the incident: only an incident that arrives on it fills the wall.
            page.locator("#command-connection", has_text="live").wait_for(timeout=30_000)
            page.select_option("#wall-layout", str(_side(f.tiles)))
            started = time.monotonic()
            r = opener.post("/api/incidents", json={"category": "robbery", "priority": 1, "title": "Wall benchmark",
                                                    "description": "A 4x4 wall of live tiles.", "lat": spot[0],
                                                    "lon": spot[1], "address": "1 Bench St"})
            r.raise_for_status()
            _wait_playing(f, page, started)
            if f.all_playing_s is not None:
                _play_window(f, page, camera_ids[0], box.pid, camera_pid)
            page.locator("#wall-stop-all").click()
            time.sleep(1.0)  # the stops reach the hub and the box
        finally:
            browser.close()
            page_session.close()
            opener.close()


def _side(tiles: int) -> int:
    return next(n for n in (1, 2, 3, 4) if n * n >= tiles)


def _wait_playing(f: WallFigures, page, started: float) -> None:
    """Until every tile plays (its video's time moves), noting when each started."""
    first: dict[str, float] = {}
    deadline = started + START_TIMEOUT_S
    tiles: list[dict] = []
    while time.monotonic() < deadline:
        tiles = page.evaluate(STATE_JS)
        for t in tiles:
            if t["time"] > 0 and t["camera"] not in first:
                first[t["camera"]] = time.monotonic() - started
        if len(first) >= f.tiles:
            f.all_playing_s = max(first.values())
            break
        time.sleep(0.1)
    f.first_play_s = sorted(first.values())
    f.tiles_playing = len(first)
    if f.all_playing_s is None:  # what the tiles said when time ran out
        f.unplayed = [f"{t['state']}: {t['says']}" for t in tiles if t["camera"] not in first]
        f.unplayed.append(page.locator("#wall-status").inner_text() if page.locator("#wall-status").count() else "")


def _play_window(f: WallFigures, page, clock_camera: str, box_pid: int, camera_pid: int) -> None:
    f.clock_camera = clock_camera
    time.sleep(SETTLE_S)
    page.evaluate(COUNT_STALLS_JS)
    before = {t["camera"]: t for t in page.evaluate(STATE_JS)}
    cpu0, t0 = _cpu(box_pid, camera_pid), time.monotonic()
    end = t0 + f.seconds
    while time.monotonic() < end:
        got = page.evaluate(CLOCK_JS, [clock_camera, BAND_ROWS])
        f.clock_samples += 1
        value = decode_clock_blocks(got["rows"][:band_height(got["h"])]) if got else None
        if value is not None:
            f.latency_ms.append(float(latency_ms(value, got["at"] * 1_000_000)))
        time.sleep(SAMPLE_EVERY_S)
    after, elapsed = page.evaluate(STATE_JS), time.monotonic() - t0
    cpu1 = _cpu(box_pid, camera_pid)
    f.cpu_s = {k: cpu1[k] - cpu0[k] for k in cpu0}
    f.window_s = elapsed
    for t in after:
        b = before.get(t["camera"])
        if b is None:
            continue
        f.per_tile.append(TileFigures(t["camera"], (t["frames"] - b["frames"]) / elapsed, t["dropped"] - b["dropped"],
                                      t["stalls"], (t["time"] - b["time"]) / elapsed, t["state"]))
