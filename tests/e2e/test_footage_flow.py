"""A footage request from the requests page to the owner's portal and back as evidence, in a browser."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from openrtcc.adapters.signing import public_key_from_pem
from openrtcc.adapters.storage.bag_files import ZipBagReader
from openrtcc.domain.evidence_package import verify_package
from tests.conftest import camera_body
from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user, new_owner

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# A JPEG by its magic bytes: the hub checks the content, not the file name.
CLIP = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
CASE = "2026-E2E-7"


def _open_request(page, base: str, camera: dict) -> None:
    page.goto(f"{base}/requests")
    form = page.locator("#footage-form")
    form.get_by_label("Case number").fill(CASE)
    form.get_by_label("Purpose").fill("Hit and run on Lake Drive")
    form.get_by_label("Incident latitude").fill(str(camera["lat"]))
    form.get_by_label("Incident longitude").fill(str(camera["lon"]))
    form.get_by_label("Radius around the incident (m)").fill("100")
    # The window is prefilled with the last two hours of local time; the page sends it in UTC.
    form.get_by_role("button", name="Send the request to the owners").click()
    form.locator(".form-ok").filter(has_text="1 camera asked, 1 owner notified").wait_for()


def _upload_in_the_portal(browser, base: str, owner_email: str) -> str:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    log_on(page, base, owner_email)
    page.wait_for_url(f"{base}/portal")
    card = page.locator("article.request", has_text=f"case {CASE}")
    card.wait_for()
    assert "Awaiting answer" in card.inner_text()
    assert page.locator("#notification-list li", has_text=f"asks for footage (case {CASE})").count() == 1
    card.get_by_role("button", name="Approve").click()
    card.get_by_text("You approved this request.").wait_for()
    card.get_by_label("Send a clip").set_input_files({"name": "lake-drive.jpg", "mimeType": "image/jpeg", "buffer": CLIP})
    card.get_by_role("button", name="Upload clip").click()
    shown = card.locator(".upload-result code.hash")
    shown.wait_for()
    assert "Footage uploaded" in card.inner_text()
    sha = shown.inner_text()
    context.close()
    return sha


def test_a_footage_request_reaches_the_owner_and_the_clip_returns_as_evidence(page, browser, live_hub, admin_api):
    base = live_hub.base_url
    owner_email, owner_api = new_owner(live_hub, "Fiona")
    r = owner_api.post("/api/owner/cameras", json=camera_body(live_hub.agency_id, name="Lake Drive camera",
                                                              lat=43.03, lon=-87.90))
    assert r.status_code == 201, r.text
    camera = r.json()

    log_on(page, base, new_agency_user(admin_api, "supervisor"))
    enrol_in_browser(page)
    page.wait_for_url(f"{base}/map")
    _open_request(page, base, camera)
    detail = page.locator("#request-detail")
    detail.get_by_role("cell", name="Lake Drive camera").wait_for()
    assert "Awaiting answer" in detail.inner_text()

    sha = _upload_in_the_portal(browser, base, owner_email)
    assert sha == hashlib.sha256(CLIP).hexdigest()

    page.reload()
    evidence = detail.locator("tr", has_text="lake-drive.jpg")
    evidence.wait_for()
    assert sha in evidence.inner_text() and "image/jpeg" in evidence.inner_text()
    assert "Footage uploaded" in detail.inner_text()
    with page.expect_download() as download:
        evidence.get_by_role("link", name="Download").click()
    assert download.value.path().read_bytes() == CLIP

    # The whole case as a signed package, checked as an outside party would: with the key the hub publishes.
    with page.expect_download() as download:
        detail.get_by_role("link", name="Export the case as a signed evidence package").click()
    package = ZipBagReader(download.value.path())
    check = verify_package(package, public_key_from_pem)
    published = httpx.get(f"{base}/api/public/audit/public-key")
    assert check.ok and check.key_id == published.headers["x-key-id"], check.problem
    (clip,) = [n for n in package.names() if n.startswith("data/clips/")]
    assert package.open(clip).read() == CLIP
