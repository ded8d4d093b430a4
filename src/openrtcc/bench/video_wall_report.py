"""The video wall benchmark's figures and their docs/benchmarks.md section."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime

from openrtcc.bench.report import machine, percentile

SECTION_TITLE = "## Command center: 16-tile video wall (rtcc bench wall)"
TARGET_TILE_FPS = 10.0  # a tile is encoded at about 12 frames/s; below 10 on screen it visibly stutters


@dataclass(frozen=True, slots=True)
class TileFigures:
    camera_id: str
    fps: float  # frames the browser decoded per second (getVideoPlaybackQuality().totalVideoFrames)
    dropped: int  # frames it dropped over the window
    stalls: int  # `waiting` events: playback stopped for want of data
    speed: float  # playback seconds per wall second (1.0: keeping up with live)
    state: str  # the tile's state at the end (live, ended ...)


@dataclass(slots=True)
class WallFigures:
    tiles: int = 16
    seconds: float = 30.0
    tiles_playing: int = 0
    all_playing_s: float | None = None  # incident opened -> the last tile's video playing
    first_play_s: list[float] = field(default_factory=list)  # per tile, sorted
    per_tile: list[TileFigures] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)  # glass-to-glass, the clock tile
    clock_samples: int = 0
    clock_camera: str | None = None  # the tile showing /clock_sub (its figures are also shown on their own)
    cpu_s: dict[str, float] = field(default_factory=dict)  # over the play window
    window_s: float = 0.0
    wall_s: float = 0.0
    unplayed: list[str] = field(default_factory=list)  # what the tiles (and the wall) said, when not all played
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        fps = [t.fps for t in self.per_tile]
        return (self.all_playing_s is not None and len(fps) == self.tiles and min(fps) >= TARGET_TILE_FPS)


def _spread(values: list[float], unit: str, digits: int = 1) -> str:
    if not values:
        return "—"
    return (f"{min(values):.{digits}f} / {statistics.median(values):.{digits}f} / {max(values):.{digits}f}"
            f"{unit}")


def rows(f: WallFigures) -> list[list[str]]:
    fps = [t.fps for t in f.per_tile]
    lat = sorted(f.latency_ms)
    cpu = ", ".join(f"{k} {v / f.window_s:.0%}" for k, v in f.cpu_s.items()) if f.window_s else "—"
    playing = f"{f.all_playing_s:.1f} s" if f.all_playing_s is not None else f"not reached ({f.tiles_playing} played)"
    return [
        [f"Incident opened -> all {f.tiles} tiles playing", playing, "-", "-"],
        ["Incident opened -> first / median tile playing",
         f"{f.first_play_s[0]:.1f} / {statistics.median(f.first_play_s):.1f} s" if f.first_play_s else "—", "-", "-"],
        [f"Frames decoded per second per tile, min / median / max ({len(fps)} tiles)", _spread(fps, " fps"),
         f">= {TARGET_TILE_FPS:.0f} fps each", "PASS" if f.passed else "FAIL"],
        ["Dropped frames, all tiles, over the window", f"{sum(t.dropped for t in f.per_tile):,}", "-", "-"],
        ["Stalls (`waiting` events), all tiles, over the window", f"{sum(t.stalls for t in f.per_tile):,}", "-", "-"],
        ["Playback speed per tile, min / median / max (1.0 = keeping up)", _spread([t.speed for t in f.per_tile], "",
                                                                                    2), "-", "-"],
        ["Glass-to-glass latency (clock tile): p50 / p95 / max",
         f"{percentile(lat, 50):,.0f} / {percentile(lat, 95):,.0f} / {lat[-1]:,.0f} ms" if lat else "—", "-", "-"],
        ["Clock frames read / sampled", f"{len(lat)} / {f.clock_samples}", "-", "-"],
        ["Clock tile: frames decoded per second, playback speed, stalls", _clock_tile(f), "-", "-"],
        ["CPU over the window (share of one core)", cpu, "-", "-"],
    ]


def _clock_tile(f: WallFigures) -> str:
    tile = next((t for t in f.per_tile if t.camera_id == f.clock_camera), None)
    return f"{tile.fps:.1f} fps, {tile.speed:.2f}, {tile.stalls}" if tile else "—"


HOW = """How it was measured: `uv run rtcc bench wall --tiles {tiles} --seconds {seconds:g}` builds a hub
(SQLite) served by uvicorn on 127.0.0.1, starts the RTSP test camera server (GStreamer, run by Debian's python3)
and one real `rtcc edge run` process enrolled with a one-time code, with {tiles} cameras (no recording, no plate
reading): the first shows the `/clock` mount (1280x720 at 25 fps, each frame stamped with the sender's wall
clock) with its 640x360 substream `/clock_sub` (the same clock drawn at that size, 25 fps), the others the 720p
sample clip looping at `/cars` with a 640x360 substream (the clip transcoded once, looping at `/cars_sub`); the
box decodes the substream for live view, as walls use cameras' substreams. An owner registers
them as integrated cameras around
one point, shared always with live view. A supervisor's session in headless Chromium (Debian's
`/usr/bin/chromium`, Playwright, 1920x1080) opens `/command` and sets the wall to {side}x{side}; another
supervisor opens an incident at that point through `POST /api/incidents`; the page gets it on its socket and
fills the wall (`/api/wall/nearest`), each tile starting a live session with `profile: "tile"` (the box decodes
the camera's substream and encodes 640x360 at ~12 fps, 600 kbit/s, a segment per second) and playing it with
hls.js, which polls the playlist (no blocking reload: `?poll=true`) and plays 2 s behind the live edge. Timing
starts at the POST. Over a {window:.0f} s window, from 3 s after the last tile started, the page's
`getVideoPlaybackQuality()` gives each tile's decoded and dropped frames, `waiting` events count stalls, and the
clock tile is drawn to a canvas every 0.25 s: latency = the browser's clock minus the clock in the frame. CPU
per process from `/proc` over the window (the hub's process, the box's, every Chromium process, the camera
server). All of it shares this machine's cores. Wall time of the run: {wall:.0f} s."""


def section(f: WallFigures, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    lines = [SECTION_TITLE, "", f"Run {when:%Y-%m-%d %H:%M} UTC on {machine()}.", ""]
    if f.skipped:
        return "\n".join(lines + [f"Not measured: {f.skipped}.", ""])
    lines += ["| measurement | result | target | verdict |", "| --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(r)} |" for r in rows(f)]
    if f.unplayed:
        lines += ["", "Tiles not playing when the wait ended: " + "; ".join(sorted(set(f.unplayed)))[:1000]]
    side = next(n for n in (1, 2, 3, 4) if n * n >= f.tiles)
    lines += ["", HOW.format(tiles=f.tiles, side=side, seconds=f.seconds, window=f.window_s or f.seconds,
                             wall=f.wall_s), ""]
    return "\n".join(lines)
