"""Map load in headless Chromium: Debian's browser driven by Playwright (never a downloaded browser).

The /map page's contract: it sets `document.body.dataset.mapReady = "1"` once every camera point is on the
map, and `window.rtccMapStats = {points, ms, phases}` (phases: when the points had arrived, were clustered and
first drawn, in ms from the navigation's start).
"""

from __future__ import annotations

import logging
from pathlib import Path

import httpx

from openrtcc.bench.report import MapFigures

log = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WARM_RUNS = 3
READY_TIMEOUT_MS = 60_000
# performance.now() counts from the navigation's start, so this is the page's own open time,
# free of the driver's round trips.
READY = "() => (document.body && document.body.dataset.mapReady === '1') ? performance.now() : false"


def _skip_reason(base_url: str, session: httpx.Client) -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (uv sync --group dev)"
    if session.get(f"{base_url}/map").status_code == 404:
        return "this build has no /map page"
    return None


def _open(page, url: str) -> tuple[float, dict]:
    page.goto(url, wait_until="commit")
    ready_at = page.wait_for_function(READY, polling="raf", timeout=READY_TIMEOUT_MS).json_value()
    stats = page.evaluate("window.rtccMapStats || {}")
    log.info("map ready at %.0f ms, page phases %s", ready_at, stats.get("phases"))
    return float(ready_at), stats


def measure_map_load(base_url: str, session: httpx.Client) -> MapFigures:
    """Open /map as the session's user: once in a fresh profile, then WARM_RUNS times with files cached."""
    reason = _skip_reason(base_url, session)
    if reason:
        log.warning("map load not measured: %s", reason)
        return MapFigures(skipped=reason)
    from playwright.sync_api import sync_playwright

    token = session.headers["Authorization"].removeprefix("Bearer ")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            context.add_cookies([{"name": "rtcc_session", "value": token, "url": base_url}])
            page = context.new_page()
            cold_ms, stats = _open(page, f"{base_url}/map")
            warm = [_open(page, f"{base_url}/map")[0] for _ in range(WARM_RUNS)]
        finally:
            browser.close()
    return MapFigures(points=stats.get("points"), cold_ms=cold_ms, warm_ms=warm, page_ms=stats.get("ms"))


def video_bench_skip_reason(video: Path) -> str | None:
    """Why a benchmark that plays video in Chromium cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed"
    if not video.is_file():
        return f"the sample video {video} is missing"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (uv sync --group dev)"
    return None
