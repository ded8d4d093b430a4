"""In Debian's Chromium against a live hub: the public transparency page shows an agency's figures without a
log-in and names no one; an administrator's change on /governance is on the public page at once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user, new_owner
from tests.plate_reads import NCIC_LIST, post_reads, read_body

pytestmark = pytest.mark.slow
ADDRESS = "2290 Juniper Hollow Road, Lakeport"
OWNER = "Philippa"


@pytest.fixture(scope="module")
def figures(live_hub, admin_api):
    """A camera, a plate camera with reads that hit a hot list, a policy text: made through the API."""
    email, owner = new_owner(live_hub, OWNER)
    r = owner.post("/api/owner/cameras", json={
        "agency_id": live_hub.agency_id, "name": "Porch camera", "lat": 43.0, "lon": -87.92, "address": ADDRESS,
        "bearing_deg": 90, "fov_deg": 90, "range_m": 40, "public_facing_attested": True,
        "owner_retention_days": 14, "tier": "registered"})
    assert r.status_code == 201, r.text
    r = admin_api.post("/api/agency/hotlists/import", data={"name": "NCIC stolen", "format": "ncic"},
                       files={"file": ("ncic.csv", NCIC_LIST.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    r = admin_api.post("/api/agency/read-sources", json={"name": "Main St plate camera", "kind": "lpr_camera"})
    key = r.json()["key"]
    at = datetime.now(UTC) - timedelta(minutes=5)
    r = post_reads(admin_api, key, [read_body("e2e-1", "ABC123", at, state="CA"), read_body("e2e-2", "JKW9034", at)])
    assert r.status_code == 200, r.text
    r = admin_api.put("/api/agency/governance", json={"policy_text": "Plate reads are deleted after 30 days."})
    assert r.status_code == 200, r.text
    return {"owner_email": email}


def test_the_public_page_shows_the_figures_without_logging_in(page, live_hub, figures):
    page.goto(f"{live_hub.base_url}/transparency")
    page.get_by_label("Agency").select_option("lakeport")  # the only agency is also opened by itself
    page.get_by_role("heading", name="Lakeport Police").wait_for()
    assert page.url.endswith("/transparency/lakeport")
    cameras = page.locator("#portal-cameras")
    assert re.search(r"Active cameras\s*1", cameras.inner_text())
    assert "Registered (location only; footage on request)" in cameras.inner_text()
    plates = page.locator("#portal-plates").inner_text()
    assert re.search(r"Reads in the last 30 days\s*2", plates) and "NCIC stolen" in plates
    assert "Plate-reading cameras" in plates
    rules = page.locator("#portal-rules").inner_text()
    assert "30 days" in rules and "Civil immigration enforcement" in rules
    assert "Plate reads are deleted after 30 days." in page.locator("#portal-policy").inner_text()
    alerts = page.locator("#portal-alerts").inner_text()
    assert "no alerts checked yet" in alerts and re.search(r"Not yet checked\s*1", alerts)
    page.locator("#portal-audit table").wait_for()
    assert page.locator("#portal-audit").inner_text().count("user-") >= 1
    assert page.get_by_role("link", name="CSV", exact=True).get_attribute("href") == "/api/public/transparency/lakeport.csv"
    html = page.content()
    for secret in ("ABC123", "JKW9034", ADDRESS, "Juniper", OWNER, figures["owner_email"], live_hub.admin_email):
        assert secret.lower() not in html.lower(), secret
    assert page.locator("#logoff").is_hidden()  # no session was ever made
    assert page.console_errors == [e for e in page.console_errors if "401" in e]


def test_an_administrators_change_is_public_at_once(page, live_hub, admin_api, figures):
    email = new_agency_user(admin_api, "admin")
    log_on(page, live_hub.base_url, email)
    enrol_in_browser(page)
    page.wait_for_url(re.compile(r"/admin$"))
    page.goto(f"{live_hub.base_url}/governance")
    retention = page.get_by_label("Retention (days)")
    retention.wait_for()
    assert retention.input_value() == "30"
    retention.fill("45")
    page.get_by_role("button", name="Save settings").click()
    page.locator(".field-error", has_text="1 to 30 days").wait_for()
    retention.fill("12")
    page.get_by_label(re.compile("Civil traffic or parking enforcement")).check()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Saved. The transparency portal shows the new settings now.").wait_for()
    page.goto(f"{live_hub.base_url}/transparency/lakeport")
    rules = page.locator("#portal-rules")
    rules.wait_for()
    assert re.search(r"kept\s*12 days", rules.inner_text()) and "Civil traffic or parking enforcement" in rules.inner_text()
