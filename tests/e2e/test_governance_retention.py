"""The governance page's retention section in a real browser: a supervisor places and releases a legal hold;
an administrator runs the purge and reads its deletion report."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _enter(page, base: str, email: str) -> None:
    log_on(page, base, email)
    enrol_in_browser(page)
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{base}/governance")


def test_a_supervisor_holds_a_case_and_an_admin_runs_the_purge(page, browser, live_hub, admin_api):
    base = live_hub.base_url
    case = f"2026-{uuid.uuid4().hex[:6]}"
    _enter(page, base, new_agency_user(admin_api, "supervisor"))
    form = page.locator("#retention-hold-form")
    form.get_by_label("Case number").fill("../bad")
    form.get_by_label("Reason").fill("preservation letter")
    form.get_by_role("button", name="Place legal hold").click()
    form.locator(".field-error").wait_for()  # refused beside the field, nothing placed
    form.get_by_label("Case number").fill(case)
    form.get_by_role("button", name="Place legal hold").click()
    row = page.locator("#retention-holds tr", has_text=case)
    row.wait_for()
    assert "Active" in row.inner_text() and "preservation letter" in row.inner_text()
    assert page.locator("#retention-runs-block").is_hidden()  # reports are for administrators and auditors
    row.get_by_role("button", name="Release").click()
    page.locator("#confirm-ok").click()
    page.locator("#retention-holds tr", has_text=case).filter(has_text="Released").wait_for()

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB", timezone_id="UTC")
    admin = context.new_page()
    errors = []
    admin.on("pageerror", lambda e: errors.append(str(e)))
    try:
        _enter(admin, base, new_agency_user(admin_api, "admin"))
        admin.get_by_role("button", name="Dry run (count only)").click()
        admin.locator("#retention-run-status", has_text="Dry run: Done").wait_for()
        admin.get_by_role("button", name="Run purge now").click()
        admin.locator("#retention-runs tr", has_text="By hand").first.wait_for()
        assert "\tDone" in admin.locator("#retention-runs tbody tr").first.inner_text()
        assert admin.locator("#retention-holds tr", has_text=case).count() == 1  # admins see holds, read only
        assert admin.locator("#retention-hold-form").is_hidden()
    finally:
        context.close()
    assert errors == []
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
