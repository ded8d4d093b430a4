"""An alert arrives live on the alerts page after an ingest; an officer compares crop and record and confirms."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import cv2
import httpx
import numpy as np
import pytest

from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NCIC = "LIC,LIS,VMA,VCO,NIC\nE2E4242,WI,FORD,WHI,V555555555\n"


def _crop() -> str:
    image = np.full((24, 96, 3), 235, np.uint8)
    cv2.putText(image, "E2E4242", (2, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1)
    return base64.b64encode(cv2.imencode(".png", image)[1].tobytes()).decode()


def test_an_alert_arrives_live_and_is_confirmed(page, live_hub, admin_api):
    base = live_hub.base_url
    r = admin_api.post("/api/agency/hotlists/import", data={"name": "E2E stolen", "format": "ncic"},
                       files={"file": ("stolen.csv", NCIC.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    r = admin_api.post("/api/agency/read-sources", json={"name": "E2E plate camera", "default_state": "WI"})
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    email = new_agency_user(admin_api, "officer")
    log_on(page, base, email)
    enrol_in_browser(page)
    page.wait_for_url(f"{base}/map")
    page.goto(f"{base}/alerts")
    page.locator("#alert-connection", has_text="live").wait_for()

    read = {"read_id": "e2e-1", "plate": "E2E 4242", "confidence": 0.91, "lat": 43.01, "lon": -87.91,
            "captured_at": datetime.now(UTC).isoformat(), "crop": _crop()}
    r = httpx.post(f"{base}/api/ingest/reads", json={"version": 1, "reads": [read]},
                   headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text

    row = page.locator("#alert-list tr", has_text="E2E4242")
    row.wait_for()  # pushed over the WebSocket: the page was not reloaded
    assert "exact match" in row.inner_text() and "new" in row.inner_text().lower()
    row.get_by_role("button", name="Verify").click()
    detail = page.locator("#alert-detail")
    crop = detail.get_by_role("img", name="Plate crop of read E2E4242")
    crop.wait_for()
    page.wait_for_function("document.querySelector('.plate-crop').naturalWidth === 96")
    facts = detail.locator("#alert-record").inner_text()
    assert "FORD" in facts and "WHI" in facts and "E2E stolen" in facts and "V555555555" in facts
    detail.get_by_label("Confirmed: it is the listed vehicle").check()
    detail.get_by_label("Note (optional)").fill("white Ford, plate matches the crop")
    detail.get_by_role("button", name="Record disposition").click()
    detail.get_by_text("Recorded: confirmed.").wait_for()
    assert "confirmed" in page.locator("#alert-list tr", has_text="E2E4242").inner_text()
    stored = admin_api.get("/api/agency/alerts").json()
    assert [(a["plate"], a["status"], a["disposition_note"]) for a in stored] == [
        ("E2E4242", "confirmed", "white Ford, plate matches the crop")]
    # Chromium logs each 4xx as "Failed to load resource" (the log-on page asks who is logged on first).
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
