"""How /map loads its cameras, in a real browser: the compact columns form, asked for once (the preload is the
request the page uses), one audit record per open, each camera drawn in its tier's colour where it stands."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sqlalchemy import text

from tests.conftest import camera_body
from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user, new_owner

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ORANGE = (0xC0, 0x56, 0x21)  # TIER_COLOURS.integrated in cluster-layer.js


def map_opens(hub) -> int:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM audit_log WHERE action = 'camera.map'")).scalar()


def pixel_beside_centre(page, selector: str, dx: int) -> tuple[int, int, int]:
    """The colour `dx` pixels right of the element's centre (beside an offline cross, inside a point)."""
    box = page.locator(selector).bounding_box()
    x, y = int(box["x"] + box["width"] / 2) + dx, int(box["y"] + box["height"] / 2)
    png = page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
    b, g, r = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[0, 0]
    return int(r), int(g), int(b)


def test_the_map_loads_its_columns_once_and_draws_the_camera_in_its_tier_colour(page, live_hub, admin_api):
    _, owner = new_owner(live_hub, "Ida")
    r = owner.post("/api/owner/cameras", json=camera_body(live_hub.agency_id, name="Ida's corner", tier="integrated",
                                                          lat=43.012345, lon=-87.912345))
    assert r.status_code == 201, r.text
    analyst = new_agency_user(admin_api, "analyst")
    asked = []
    page.on("request", lambda req: asked.append(req.url.removeprefix(live_hub.base_url)) if "/api/" in req.url else None)
    log_on(page, live_hub.base_url, analyst)
    enrol_in_browser(page)
    page.wait_for_url(f"{live_hub.base_url}/map")
    page.locator("body[data-map-ready='1']").wait_for(state="attached")
    before = map_opens(live_hub.hub)
    asked.clear()

    page.reload()
    page.locator("body[data-map-ready='1']").wait_for(state="attached")
    stats = page.evaluate("window.rtccMapStats")
    assert stats["points"] == 1
    phases = stats["phases"]
    assert 0 < phases["points"] <= phases["index"] <= phases["render"] <= stats["ms"], stats
    # Each preloaded request is the one the page uses: asked once.
    for url in ("/api/agency/map/points?format=columns", "/api/auth/me", "/api/agency/map/offline", "/api/programs"):
        assert asked.count(url) == 1, (url, asked)
    assert map_opens(live_hub.hub) == before + 1
    legend = page.locator(".map-legend").inner_text()
    assert "Integrated: 1" in legend and "Registered: 0" in legend and "1 in view" in legend
    assert "1 active cameras in your program." == page.locator("#map-status").inner_text()
    # The map frames its only camera, so the camera is drawn in the middle of the map.
    assert all(abs(a - b) <= 8 for a, b in zip(pixel_beside_centre(page, "#agency-map", 3), ORANGE))
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
    owner.close()
