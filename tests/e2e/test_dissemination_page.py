"""The dissemination page in a real browser: a supervisor adds a police unit, previews a bulletin per audience,
sends it, and follows its delivery in the log (no SMTP relay is configured here, so it waits for a retry)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def worker(live_hub):
    """The shared e2e hub serves without its lifespan: the dissemination worker is started here."""
    w = live_hub.hub.extras["dissemination"]
    w.start()
    yield w
    w.stop()


def test_a_supervisor_adds_a_unit_previews_and_sends_a_bulletin(page, live_hub, admin_api, worker):
    base = live_hub.base_url
    log_on(page, base, new_agency_user(admin_api, "supervisor"))
    enrol_in_browser(page)
    page.wait_for_url(f"{base}/map")
    page.goto(f"{base}/dissemination")

    form = page.locator("#subscriber-form")
    form.get_by_label("Name").fill("Unit 12")
    form.get_by_label("Address").fill("unit12@lakeport.test")
    form.get_by_role("button", name="Add subscriber").click()
    page.locator("#subscriber-result", has_text="Unit 12 added.").wait_for()
    page.locator("#subscriber-list tr", has_text="unit12@lakeport.test").wait_for()

    bulletin = page.locator("#bulletin-form")
    bulletin.get_by_label("Title").fill("Parade closures")
    bulletin.get_by_label("Text").fill("Main St closed 9-12; detour via 5th. Questions: ops@lakeport.test")
    bulletin.get_by_label("Public subscribers").check()
    page.get_by_role("button", name="Preview").click()
    police = page.locator("#bulletin-preview [data-audience=police_unit]")
    public = page.locator("#bulletin-preview [data-audience=public]")
    police.wait_for()
    assert "1 subscriber now" in police.inner_text() and "ops@lakeport.test" in police.inner_text()
    assert "0 subscribers now" in public.inner_text() and "ops@lakeport.test" not in public.inner_text()

    page.get_by_role("button", name="Send bulletin").click()
    page.locator("#bulletin-result", has_text="Bulletin sent to 1 subscriber.").wait_for()
    row = page.locator("#delivery-log tr", has_text="Parade closures")
    row.wait_for()
    assert "Unit 12" in row.inner_text()
    assert worker.drain(10)  # tried at once; without a relay the attempt fails and waits for a retry
    page.get_by_label("Status").last.select_option("failed")
    page.locator("#delivery-log tr", has_text="no email channel is configured").wait_for()
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
