"""Purpose-bound search in a real browser: an analyst's plate search over the camera limit is sent to a
supervisor, who approves it on the governance page; the analyst then searches with the approval."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import camera_body
from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user, new_owner

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _enter(page, base: str, email: str, path: str) -> None:
    log_on(page, base, email)
    enrol_in_browser(page)
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{base}{path}")


def _fill(form, case: str) -> None:
    form.get_by_role("combobox", name="Purpose").select_option("stolen_vehicle")
    form.get_by_label("Offence (NIBRS)").select_option("240")
    form.get_by_label("Case number").fill(case)
    form.get_by_label("Plate", exact=True).fill("ABC123")
    form.get_by_label("Latitude").fill("43.0")
    form.get_by_label("Longitude").fill("-87.92")
    form.get_by_label("Radius (m)").fill("200")


def test_a_wide_search_is_approved_by_a_supervisor_then_made(page, browser, live_hub, admin_api):
    base, case = live_hub.base_url, f"24-{uuid.uuid4().hex[:6]}"
    assert admin_api.put("/api/agency/governance", json={"search_camera_limit": 1}).status_code == 200
    _, owner = new_owner(live_hub)
    for i in range(2):
        r = owner.post("/api/owner/cameras", json=camera_body(live_hub.agency_id, name=f"cam {i}",
                                                               lat=43.0 + i * 0.0003, lon=-87.92))
        assert r.status_code == 201, r.text

    _enter(page, base, new_agency_user(admin_api, "analyst"), "/plates")
    form = page.locator("#plate-form")
    assert form.locator("option[value='immigration_enforcement']").is_disabled()  # prohibited: not choosable
    _fill(form, case)
    form.get_by_role("button", name="Search", exact=True).click()
    form.locator("[data-approval-message]").filter(has_text="more than your agency's limit of 1").wait_for()
    form.get_by_label("Why this search needs so many cameras").fill("the van was seen on both corners")
    form.get_by_role("button", name="Ask a supervisor to approve").click()
    form.locator("[data-approval-status]").filter(has_text="waits for a supervisor").wait_for()

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB", timezone_id="UTC")
    supervisor = context.new_page()
    errors = []
    supervisor.on("pageerror", lambda e: errors.append(str(e)))
    try:
        _enter(supervisor, base, new_agency_user(admin_api, "supervisor"), "/governance")
        row = supervisor.locator("#approvals-pending tr", has_text=case)
        row.wait_for()
        assert "2 cameras" in row.inner_text() and "the van was seen" in row.inner_text()
        row.get_by_role("textbox").fill("fine for this case")
        row.get_by_role("button", name="Approve").click()
        supervisor.locator("#approvals-decided tr", has_text=case).filter(has_text="approved").wait_for()
    finally:
        context.close()
    assert errors == []

    page.reload()
    _fill(form, case)
    form.get_by_label("Supervisor's approval").select_option(index=1)
    form.get_by_role("button", name="Search", exact=True).click()
    page.locator("#plate-results").filter(has_text="No reads match.").wait_for()
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
