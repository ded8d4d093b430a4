"""The sharing page in a real browser: an administrator grants another agency plate reads for named purposes
(a prohibited purpose cannot be ticked), sees the grant, revokes it, and opts in to a hot list shared in."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from openrtcc.services.admin import create_agency
from openrtcc.services.hotlists import import_hot_list, system_actor
from openrtcc.services.sharing import GrantRequest, create_grant
from tests.conftest import HARBOR, PASSWORD
from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_an_administrator_grants_revokes_and_opts_in(page, live_hub, admin_api):
    hub, base = live_hub.hub, live_hub.base_url
    slug = f"harbor-{uuid.uuid4().hex[:6]}"
    harbor = create_agency(hub, slug=slug, name="Harbor Police", jurisdiction=HARBOR,
                           admin_email=f"admin@{slug}.test", admin_password=PASSWORD)
    keeper = system_actor(harbor, "e2e")
    import_hot_list(hub, keeper, name="Harbor stolen", fmt="ncic", data=b"LIC|LIS|NIC\nABC1234|CA|V000000001\n")
    create_grant(hub, keeper, GrantRequest("lakeport", "hot_lists", ["hot_list_follow_up"],
                                           hub.clock.now() + timedelta(days=20)))

    log_on(page, base, new_agency_user(admin_api, "admin"))
    enrol_in_browser(page)
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{base}/sharing")
    form = page.locator("#grant-form")
    form.locator("select[name=to_agency]").select_option(slug)
    assert form.get_by_label("Civil immigration enforcement").is_disabled()  # prohibited by default
    form.get_by_label("Investigation of a specific crime").check()
    form.get_by_role("button", name="Grant").click()
    page.locator("#grant-result", has_text="Granted: Harbor Police sees Plate reads").wait_for()
    row = page.locator("#grants-given tr", has_text="Harbor Police")
    assert "criminal_investigation" in row.inner_text() and "live" in row.inner_text()

    row.get_by_role("button", name="Revoke").click()
    page.locator("#confirm-ok").click()
    page.locator("#grants-given tr", has_text="revoked").wait_for()

    shared = page.locator("#shared-lists tr", has_text="Harbor stolen")
    assert "Not applied" in shared.inner_text()
    shared.get_by_role("button", name="Opt in").click()
    page.locator("#shared-result", has_text="Harbor stolen now applies to your reads").wait_for()
    page.locator("#shared-lists tr", has_text="Applies").wait_for()
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
