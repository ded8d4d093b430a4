"""The registry benchmark's figures, judged against the targets, as a table and a docs/benchmarks.md section."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

SECTION_TITLE = "## Registry (rtcc bench registry)"
TARGET_REGISTER_PER_S = 500.0
TARGET_SEARCH_P99_MS = 10.0
TARGET_MAP_OPEN_MS = 1_500.0
INTRO = (
    "# Benchmarks\n\n"
    "Figures written by the benchmark commands themselves; run a command again to refresh its section.\n"
)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


@dataclass(slots=True)
class MapFigures:
    points: int | None = None
    cold_ms: float | None = None  # first load in a fresh browser profile: nothing cached
    warm_ms: list[float] = field(default_factory=list)  # repeat loads, static files cached
    page_ms: float | None = None  # what the page itself reports (window.rtccMapStats.ms), cold load
    skipped: str | None = None  # why the browser part did not run


@dataclass(slots=True)
class RegistryFigures:
    cameras: int
    map_cameras: int
    owner_sessions: int = 0
    http_registered: int = 0
    http_seconds: float = 0.0
    batch_registered: int = 0
    batch_seconds: float = 0.0
    batch_size: int = 0
    bulk_imported: int = 0
    bulk_seconds: float = 0.0
    search_ms: list[float] = field(default_factory=list)
    warmup_searches: int = 0
    mean_results: float = 0.0
    radius_m: float = 0.0
    map: MapFigures = field(default_factory=lambda: MapFigures(skipped="--no-browser"))

    @property
    def register_rate(self) -> float:
        return self.http_registered / self.http_seconds if self.http_seconds else 0.0

    @property
    def batch_rate(self) -> float:
        return self.batch_registered / self.batch_seconds if self.batch_seconds else 0.0

    @property
    def bulk_rate(self) -> float:
        return self.bulk_imported / self.bulk_seconds if self.bulk_seconds else 0.0

    def search_percentile(self, q: float) -> float:
        return percentile(self.search_ms, q) if self.search_ms else float("nan")

    @property
    def verdicts(self) -> dict[str, bool | None]:
        m = self.map
        return {
            "register": self.register_rate >= TARGET_REGISTER_PER_S,
            "batch": None if not self.batch_seconds else self.batch_rate >= TARGET_REGISTER_PER_S,
            "search": bool(self.search_ms) and self.search_percentile(99) <= TARGET_SEARCH_P99_MS,
            "map": None if m.cold_ms is None else (m.cold_ms <= TARGET_MAP_OPEN_MS and m.points == self.map_cameras),
        }

    @property
    def all_pass(self) -> bool:
        return all(v is not False for v in self.verdicts.values())


def _verdict(v: bool | None) -> str:
    return "-" if v is None else ("PASS" if v else "FAIL")


def _map_row(f: RegistryFigures) -> list[str]:
    m = f.map
    label = f"Map opens with {f.map_cameras:,} cameras, headless Chromium (fresh profile; warm repeats)"
    if m.cold_ms is None:
        return [label, f"not measured: {m.skipped}", f"<= {TARGET_MAP_OPEN_MS:,.0f} ms", "-"]
    warm = ", ".join(f"{w:,.0f}" for w in m.warm_ms)
    result = f"{m.cold_ms:,.0f} ms ({m.points:,} points; warm: {warm} ms)"
    return [label, result, f"<= {TARGET_MAP_OPEN_MS:,.0f} ms", _verdict(f.verdicts["map"])]


def rows(f: RegistryFigures) -> list[list[str]]:
    v = f.verdicts
    p = f.search_percentile
    return [
        [f"Registration through the HTTP API ({f.owner_sessions} owner sessions, {f.http_registered:,} cameras)",
         f"{f.register_rate:,.0f} cameras/s", f">= {TARGET_REGISTER_PER_S:,.0f} cameras/s", _verdict(v["register"])],
        [f"Registration through the HTTP API in batches of {f.batch_size} ({f.owner_sessions} owner sessions, "
         f"{f.batch_registered:,} cameras)", f"{f.batch_rate:,.0f} cameras/s",
         f">= {TARGET_REGISTER_PER_S:,.0f} cameras/s", _verdict(v["batch"])],
        [f"Bulk import to {f.cameras:,} cameras (repository, one audited transaction per 10,000)",
         f"{f.bulk_rate:,.0f} cameras/s", "-", "-"],
        [f"Radius search through the HTTP API, {f.radius_m:.0f} m, {len(f.search_ms):,} requests: p50 / p95 / p99",
         f"{p(50):.1f} / {p(95):.1f} / {p(99):.1f} ms", f"p99 <= {TARGET_SEARCH_P99_MS:.0f} ms", _verdict(v["search"])],
        ["Cameras per radius search result (mean)", f"{f.mean_results:.1f}", "-", "-"],
        _map_row(f),
    ]


def print_table(f: RegistryFigures) -> None:
    table = [["measurement", "result", "target", "verdict"], *rows(f)]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for n, r in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", load average {:.1f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else ""
    return (f"{os.cpu_count()} cores, {model}{load} at the end of the run; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}")


HOW = """How it was measured: `uv run rtcc bench registry` builds a hub on a fresh temporary data dir (the
embedded default: SQLite in WAL mode) and serves it with uvicorn on 127.0.0.1 from a background thread;
the measuring clients are httpx clients in a separate (spawned) process, so that their work is not
charged to the server's interpreter; both share the machine's cores. Two adjacent agencies: a 16 x 16 km
city that holds {map_cameras:,} cameras and a county beside it with the rest. **Registration**: owners
sign up and log on through the API, then
{sessions} concurrent owner sessions POST `/api/owner/cameras` (validation, jurisdiction check, duplicate
check, insert, audit record, one transaction each); the rate is cameras / wall time. **Bulk import** fills
up to {cameras:,} cameras through the camera repository, 10,000 per audited transaction. **Radius search**:
an analyst logs on (password and TOTP) and one keep-alive client POSTs `/api/agency/search/radius`
(purpose and case number; each returned camera is written to its owner's access log and the search to the
audit chain) at random points in the city, after {warmup} warm-up requests; latency is the client's wall
time per request, nearest-rank percentiles. **Map**: Playwright drives Debian's `/usr/bin/chromium`
headless with the analyst's session cookie, opens `/map` and waits for `document.body.dataset.mapReady
== "1"`; the figure is the page's `performance.now()` at that moment (time from navigation start), for a
first load in a fresh profile, then repeated loads; `window.rtccMapStats` gives the point count and the
page's own timing ({page_ms}). No tile server (offline)."""


def section(f: RegistryFigures, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    lines = [SECTION_TITLE, "", f"Run {when:%Y-%m-%d %H:%M} UTC on {machine()}.", "",
             "| measurement | result | target | verdict |", "| --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(r)} |" for r in rows(f)]
    page = f"{f.map.page_ms:,.0f} ms on the cold load" if f.map.page_ms is not None else "not measured"
    lines += ["", HOW.format(map_cameras=f.map_cameras, sessions=f.owner_sessions, cameras=f.cameras,
                             warmup=f.warmup_searches, page_ms=page), ""]
    return "\n".join(lines)


def write_section(path: Path, f: RegistryFigures, when: datetime | None = None) -> None:
    replace_section(path, SECTION_TITLE, section(f, when))


def replace_section(path: Path, title: str, new: str) -> None:
    """Replace one benchmark's section (from its `## ` title to the next) of the results file, creating
    the file if needed and keeping every other section as it is. Every `rtcc bench` writes through here."""
    text = path.read_text() if path.exists() else INTRO
    start = text.find(title)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + new
    else:
        end = text.find("\n## ", start + len(title))
        text = text[:start] + new + ("\n" + text[end + 1:] if end >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")
