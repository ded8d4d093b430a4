"""The public side in Debian's Chromium against a live hub whose dissemination sends to a real SMTP server: sign up
on /subscribe, confirm from the emailed link, unsubscribe from a later alert email; a tip with a photo from /tip
lands in the agency's queue."""

from __future__ import annotations

import threading
import time

import cv2
import httpx
import numpy as np
import pyotp
import pytest
import uvicorn

from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
from openrtcc.domain.incidents import IncidentDraft
from openrtcc.services import incidents
from openrtcc.services.admin import create_agency
from tests.conftest import LAKEPORT, PASSWORD
from tests.edge_hub import free_port
from tests.public_forms_support import body_of, link_in, start_smtp

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def public_hub(tmp_path_factory):
    """A serving hub (lifespan on: the dissemination worker and its retry rounds run) and its mailbox."""
    data = tmp_path_factory.mktemp("public-hub")
    smtp_port, port = free_port(), free_port()
    ctl, mailbox = start_smtp(smtp_port)
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 'rtcc.db'}", smtp_host="127.0.0.1",
                        smtp_port=smtp_port, tile_url="", base_url=f"http://127.0.0.1:{port}",
                        dissemination_interval_s=0.2, outbox_interval_s=0)
    hub = build_hub(settings, fast_hashing=True)
    agency_id = create_agency(hub, slug="lakeport", name="Lakeport Police", jurisdiction=LAKEPORT,
                              admin_email="admin@lakeport.test", admin_password=PASSWORD)
    from openrtcc.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(settings, hub), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the hub did not start"
        time.sleep(0.05)
    yield hub, settings.base_url, agency_id, mailbox
    server.should_exit = True
    thread.join(timeout=10)
    ctl.stop()
    hub.extras["engine"].dispose()


def officer_client(base_url: str) -> httpx.Client:
    """An officer of the agency, logged on over HTTP with an authenticator enrolled at real time."""
    admin = httpx.Client(base_url=base_url, timeout=10)
    r = admin.post("/api/auth/logon", json={"email": "admin@lakeport.test", "password": PASSWORD,
                                            "accept_banner": True})
    admin.headers["Authorization"] = f"Bearer {r.json()['token']}"
    secret = admin.post("/api/auth/totp/start").json()["secret"]
    assert admin.post("/api/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}).status_code == 204
    r = admin.post("/api/agency/users", json={"email": "olive@lakeport.test", "display_name": "Olive",
                                              "role": "officer", "password": PASSWORD})
    assert r.status_code == 201, r.text
    admin.close()
    officer = httpx.Client(base_url=base_url, timeout=10)
    r = officer.post("/api/auth/logon", json={"email": "olive@lakeport.test", "password": PASSWORD,
                                              "accept_banner": True})
    officer.headers["Authorization"] = f"Bearer {r.json()['token']}"
    secret = officer.post("/api/auth/totp/start").json()["secret"]
    assert officer.post("/api/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}).status_code == 204
    return officer


def script_errors(page) -> list[str]:
    """Errors of the pages' scripts (an anonymous visitor's 401 from /api/auth/me is logged as a failed load)."""
    return [e for e in page.console_errors if not e.startswith("Failed to load resource")]


def open_burglary(hub, agency_id: str) -> None:
    """An incident inside the subscriber's circle, through the incident service, announced as operators' are."""
    with hub.uow() as uow:
        view = incidents.open_incident(hub, uow, agency_id, IncidentDraft(
            category="burglary", priority=2, title="Burglary reported on Main St", lat=43.0, lon=-87.92,
            address="120 Main St"), None)
        uow.commit()
    incidents.announce(hub, view, "opened")


def test_sign_up_confirm_by_email_link_then_unsubscribe_from_an_alert_email(page, public_hub):
    hub, base_url, agency_id, mailbox = public_hub
    page.goto(f"{base_url}/subscribe")
    page.get_by_label("Email address").fill("rosa@example.org")
    page.get_by_label("Around a place I pick on the map").check()
    page.locator("#subscribe-map").click()  # the centre of the jurisdiction, framed on load
    page.get_by_label("Radius in metres").fill("3000")
    page.get_by_label("Burglary").check()
    page.get_by_role("button", name="Sign up").click()
    try:
        page.get_by_role("heading", name="Check your messages").wait_for(timeout=5000)
    except Exception:
        raise AssertionError(page.locator("#subscribe-form").inner_text()) from None

    [confirmation] = mailbox.wait_for("rosa@example.org")
    url, _, _ = link_in(confirmation)
    page.goto(url)
    page.get_by_role("button", name="Confirm my sign-up").click()
    page.get_by_role("heading", name="You're signed up").wait_for()
    assert "r***@example.org" in page.locator("#confirm-text").inner_text()

    open_burglary(hub, agency_id)
    [_, alert] = mailbox.wait_for("rosa@example.org", 2)
    assert "burglary" in body_of(alert).lower() and "120 Main" not in body_of(alert)
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url, _, _ = link_in(alert)
    page.goto(unsubscribe_url)
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert script_errors(page) == []


def test_a_tip_with_a_photo_sent_from_the_page_lands_in_the_agency_queue(page, public_hub, tmp_path):
    _, base_url, _, _ = public_hub
    photo = tmp_path / "bike.jpg"
    photo.write_bytes(cv2.imencode(".jpg", np.full((120, 160, 3), 70, np.uint8))[1].tobytes())
    page.goto(f"{base_url}/tip")
    page.get_by_label("What did you see or hear?").fill("A man cutting a bike lock outside the library")
    page.locator("#tip-map").click()
    page.get_by_label("Describe the place").fill("Library bike racks")
    page.get_by_label("A photo or short clip").set_input_files(str(photo))
    page.get_by_role("button", name="Send the tip").click()
    page.get_by_role("heading", name="Tip sent").wait_for()
    assert script_errors(page) == []

    officer = officer_client(base_url)
    [tip] = officer.get("/api/tips?status=new").json()
    assert tip["text"].startswith("A man cutting") and tip["location_text"] == "Library bike racks"
    assert tip["media_type"] == "image/jpeg" and tip["lat"] is not None
    assert officer.get(f"/api/tips/{tip['id']}/media").content.startswith(b"\xff\xd8\xff")
    officer.close()
