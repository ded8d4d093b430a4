"""The web pages in a real browser against a real hub: sign-up, log-on, portal, map search."""

from __future__ import annotations

import math
import re
import uuid

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveHub, enrol_in_browser, log_on, new_agency_user, new_owner

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOTS = "/tmp"
BANNER_REFUSAL = "accept the system use notification"


def _unexpected_errors(page) -> list[str]:
    # Chromium logs every 4xx as "Failed to load resource"; those are answers the pages handle.
    return [e for e in page.console_errors if not e.startswith("Failed to load resource")]


@pytest.fixture(scope="module")
def analyst(admin_api) -> str:
    return new_agency_user(admin_api, "analyst")


@pytest.fixture(scope="module")
def owner_email(live_hub: LiveHub) -> str:
    email, client = new_owner(live_hub)
    client.close()
    return email


def _sign_up_through_the_page(page, base_url: str) -> str:
    email = f"rosa-{uuid.uuid4().hex[:6]}@owners.test"
    page.goto(f"{base_url}/signup")
    page.get_by_label("Your name").fill("Rosa Resident")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("A business").check()
    page.get_by_label("Name of the business or association").fill("Rosa's Bakery")
    page.get_by_label("Always: investigators may contact me directly").check()
    page.get_by_label("Phone (optional)").fill("+1 414 555 0199")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(re.compile(r"/login\?notice=signed_up"))
    assert page.get_by_label("Email").input_value() == email
    return email


def _register_camera_by_clicking_the_map(page, name: str) -> tuple[float, float]:
    form = page.locator("#camera-form")
    form.get_by_label("Camera name").fill(name)
    form.get_by_label("Address").fill("12 Harbour Road, Lakeport")
    box = page.locator("#camera-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lat, lon = float(form.get_by_label("Latitude").input_value()), float(form.get_by_label("Longitude").input_value())
    assert 42.95 < lat < 43.07 and -87.99 < lon < -87.85, (lat, lon)  # inside Lakeport, where the map framed
    form.get_by_label("Facing (°)").fill("120")
    form.get_by_label("Make").fill("Axis")
    form.get_by_label("Model").fill("P1455")
    form.get_by_label("I confirm this camera faces public space", exact=False).check()
    form.get_by_role("button", name="Register camera").click()
    form.locator(".form-ok").filter(has_text=f"Registered “{name}”").wait_for()
    return lat, lon


def test_owner_registers_a_camera_and_an_analyst_finds_it_on_the_map(page, live_hub, analyst):
    base = live_hub.base_url
    email = _sign_up_through_the_page(page, base)
    log_on(page, base, email)
    page.wait_for_url(f"{base}/portal")

    name = f"E2E Porch {uuid.uuid4().hex[:4]}"
    lat, lon = _register_camera_by_clicking_the_map(page, name)
    row = page.locator("#camera-list tr", has_text=name)
    row.wait_for()
    assert "Registered" in row.inner_text() and "Active" in row.inner_text()
    page.screenshot(path=f"{SCREENSHOTS}/rtcc-portal.png", full_page=True)

    page.get_by_role("button", name="Log off").click()
    page.wait_for_url(re.compile(r"/login\?notice=logged_off"))

    log_on(page, base, analyst)
    enrol_in_browser(page)
    page.wait_for_url(f"{base}/map")

    # A selector wait, not wait_for_function: the pages' CSP forbids the eval that one needs.
    page.locator("body[data-map-ready='1']").wait_for(state="attached")
    stats = page.evaluate("window.rtccMapStats")
    assert stats["points"] == 1 and stats["ms"] > 0

    search = page.locator("#search-form")
    search.get_by_role("combobox", name="Purpose").select_option("criminal_investigation")  # a purpose from the list, not free text
    search.get_by_label("Offence (NIBRS)").select_option("220")
    search.get_by_label("Case number").fill("24-E2E1")
    search.get_by_label("Note (optional)").fill("E2E check: burglary near Harbour Road")
    search.get_by_label("Radius", exact=True).check()
    search.get_by_label("Radius (m)").fill("100")
    # The map opens framed on the only camera, so the middle of the map is the camera's spot.
    box = page.locator("#agency-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    clicked = float(search.get_by_label("Latitude").input_value()), float(search.get_by_label("Longitude").input_value())
    assert abs(clicked[0] - lat) < 1e-4 and abs(clicked[1] - lon) < 1e-4, (clicked, lat, lon)
    result = page.locator("#results li", has_text=name)
    result.wait_for()
    assert page.locator("#results-summary").inner_text() == "1 camera within the radius."
    result.get_by_role("button").click()
    assert result.get_attribute("aria-current") == "true"
    page.screenshot(path=f"{SCREENSHOTS}/rtcc-map.png")

    # 15 m in front of the camera (it faces 120°, sees 90° wide and 30 m far): it could have seen that spot.
    spot = lat + 15 * math.cos(math.radians(120)) / 111_320, lon + 15 * math.sin(math.radians(120)) / (
        111_320 * math.cos(math.radians(lat)))
    search.get_by_label("Who could see it?").check()
    search.get_by_label("Latitude").fill(f"{spot[0]:.6f}")
    search.get_by_label("Longitude").fill(f"{spot[1]:.6f}")
    search.get_by_role("button", name="Search here").click()
    page.locator("#results-summary").filter(has_text="1 camera could have seen this spot.").wait_for()
    assert name in page.locator("#results").inner_text()

    # The incident pin lists the owner's contact, as Rosa allowed ("always"), and leads to a footage request.
    search.get_by_label("Incident pin").check()
    search.get_by_role("button", name="Search here").click()
    page.locator("#results-summary").filter(has_text="1 camera near the incident.").wait_for()
    contact = page.locator("#results li", has_text=name).locator(".contact").inner_text()
    assert "Rosa Resident" in contact and "Rosa's Bakery" in contact and "+1 414 555 0199" in contact
    page.get_by_role("button", name="Request footage for this incident").click()
    dialog = page.locator("#footage-dialog")
    assert dialog.get_by_label("Purpose").input_value() == "E2E check: burglary near Harbour Road"
    assert float(dialog.get_by_label("Incident latitude").input_value()) == pytest.approx(spot[0], abs=1e-6)
    assert _unexpected_errors(page) == []


def test_log_on_is_refused_until_the_banner_is_acknowledged(page, live_hub, owner_email):
    log_on(page, live_hub.base_url, owner_email, acknowledge=False)
    error = page.locator("#logon-form .form-error")
    error.wait_for()
    assert BANNER_REFUSAL in error.inner_text()
    assert page.get_by_label("I acknowledge the system use notification above").get_attribute("aria-invalid") == "true"
    assert page.url.startswith(f"{live_hub.base_url}/login")
    assert page.request.get(f"{live_hub.base_url}/api/auth/me").status == 401


def test_a_wrong_password_shows_the_hubs_refusal(page, live_hub, owner_email):
    log_on(page, live_hub.base_url, owner_email, "Not-The-Password-99")
    error = page.locator("#logon-form .form-error")
    error.wait_for()
    assert error.inner_text() == "email, password or code not accepted"
    assert page.url.startswith(f"{live_hub.base_url}/login")
    assert page.request.get(f"{live_hub.base_url}/api/auth/me").status == 401


def test_a_page_without_a_session_sends_the_user_to_log_on_and_back(page, live_hub, owner_email):
    base = live_hub.base_url
    page.goto(f"{base}/portal#contact")
    page.wait_for_url(re.compile(r"/login\?reason=signin&next=%2Fportal%23contact$"))
    assert page.locator("#login-reason").inner_text() == "Log on to continue."
    page.get_by_label("I acknowledge the system use notification above").check()
    page.get_by_label("Email").fill(owner_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log on").click()
    page.wait_for_url(f"{base}/portal#contact")


def test_the_portal_shows_refusals_beside_the_fields_and_offers_register_anyway(page, live_hub, owner_email):
    base = live_hub.base_url
    log_on(page, base, owner_email)
    page.wait_for_url(f"{base}/portal")
    form = page.locator("#camera-form")

    def fill(lat: str, lon: str) -> None:
        form.get_by_label("Camera name").fill("Shop corner")
        form.get_by_label("Address").fill("3 Market Square, Lakeport")
        form.get_by_label("Latitude").fill(lat)
        form.get_by_label("Longitude").fill(lon)
        form.get_by_label("I confirm this camera faces public space", exact=False).check()
        form.get_by_role("button", name="Register camera").click()

    fill("43.5", "-87.9")  # north of Lakeport's jurisdiction
    latitude_error = form.locator(".field:has(#cam-lat) .field-error")
    latitude_error.wait_for()
    assert "outside the jurisdiction of Lakeport Police" in latitude_error.inner_text()
    assert form.get_by_label("Latitude").get_attribute("aria-invalid") == "true"

    fill("43.02", "-87.95")
    form.locator(".form-ok").filter(has_text="Registered “Shop corner”").wait_for()
    fill("43.02", "-87.95")  # the same camera again: the hub suspects a duplicate
    form.locator(".form-error").filter(has_text="looks like your camera 'Shop corner'").wait_for()
    form.get_by_role("button", name="Register anyway").click()
    form.locator(".form-ok").filter(has_text="Registered “Shop corner”").wait_for()
    flagged = page.locator("#camera-list tr", has_text="possible duplicate")
    flagged.wait_for()
    assert page.locator("#camera-list tbody tr", has_text="Shop corner").count() == 2
    assert _unexpected_errors(page) == []


def test_an_administrator_adds_a_user_unlocks_one_and_reads_the_audit_trail(page, live_hub, admin_api):
    import httpx

    base = live_hub.base_url
    locked = new_agency_user(admin_api, "officer")
    for _ in range(5):  # CJIS: five failed log-ons lock an agency account until an administrator unlocks it
        httpx.post(f"{base}/api/auth/logon", json={"email": locked, "password": "Wrong-Guess-123", "accept_banner": True})

    log_on(page, base, new_agency_user(admin_api, "admin"))
    enrol_in_browser(page)
    page.wait_for_url(f"{base}/admin")
    locked_row = page.locator("#user-list tr", has_text=locked)
    locked_row.wait_for()
    assert "Locked" in locked_row.inner_text()
    locked_row.get_by_role("button", name="Unlock").click()
    page.locator("#user-list tr", has_text=locked).filter(has_text="Active").wait_for()
    assert page.locator("#user-list tr", has_text=locked).get_by_role("button", name="Unlock").count() == 0

    form = page.locator("#user-form")
    new_email = f"olive-{uuid.uuid4().hex[:6]}@lakeport.test"
    form.get_by_label("Name").fill("Olive Officer")
    form.get_by_label("Email").fill(new_email)
    form.get_by_label("Role").select_option("officer")
    form.get_by_label("Initial password").fill("short")
    form.get_by_role("button", name="Add user").click()
    assert "at least 8 characters" in form.locator(".field:has(#user-password) .field-error").inner_text()
    form.get_by_label("Initial password").fill(PASSWORD)
    form.get_by_role("button", name="Add user").click()
    form.locator(".form-ok").filter(has_text="Olive Officer (officer) was added.").wait_for()
    assert "Not yet" in page.locator("#user-list tr", has_text=new_email).inner_text()

    page.get_by_role("link", name="Audit").click()
    page.wait_for_url(f"{base}/audit")
    page.locator("#audit-list tbody tr").first.wait_for()
    seqs = [int(s) for s in page.locator("#audit-list tbody tr td:first-child").all_inner_texts()]
    assert len(seqs) > 5 and seqs == sorted(seqs, reverse=True)  # newest first
    assert page.locator("#audit-list tbody tr", has_text="user.unlock").count() == 1
    assert _unexpected_errors(page) == []
