"""The command center in a real browser: an operator logs on; a plate hit arrives live in the feed, is verified
(crop beside the record), acknowledged, assigned, escalated and disposed of; an incident opened through the
API appears on the map and in the feed and fills the wall with live tiles from a box on the real link, which
play; stopping a tile ends its session at the box; an owner pausing a camera shows in the feed and its tile
says why it ended; a camera the box reports offline shows in the feed and on the map; another agency's
incident never shows."""

from __future__ import annotations

import base64
import re
import threading
import uuid
from datetime import UTC, datetime

import cv2
import httpx
import numpy as np
import pyotp
import pytest

from openrtcc.domain.edge_protocol import CameraHealth, Health, LiveStarted
from openrtcc.services.admin import create_agency
from tests.conftest import LAKEPORT, PASSWORD, camera_body
from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user, new_owner
from tests.edge_box_link import ALWAYS, LinkedBox, fmp4_segments

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NCIC = "LIC,LIS,VMA,VCO,NIC\nCMD4242,WI,FORD,WHI,V777777777\nCMD5151,WI,HOND,BLU,V888888888\n"
SCENE = {"lat": 43.0, "lon": -87.92}


def _crop(plate: str) -> str:
    image = np.full((24, 96, 3), 235, np.uint8)
    cv2.putText(image, plate, (2, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1)
    return base64.b64encode(cv2.imencode(".png", image)[1].tobytes()).decode()


def _read(read_id: str, plate: str) -> dict:
    return {"read_id": read_id, "plate": plate, "confidence": 0.93, "lat": 43.001, "lon": -87.921,
            "captured_at": datetime.now(UTC).isoformat(), "crop": _crop(plate.replace(" ", ""))}


class SocketLine:
    """The page's command socket, relayed by the browser itself, so the test can cut it and keep it down."""

    def __init__(self, page):
        self.routes, self.down = [], False
        page.route_web_socket(re.compile(r"/ws/command$"), self._relay)

    def _relay(self, route) -> None:
        if self.down:
            route.close()  # refused while the line is down: the page backs off and tries again
            return
        route.connect_to_server()
        self.routes.append(route)

    def cut(self) -> None:
        self.down = True
        self.routes[-1].close()


def _operator_on_command(page, base: str, admin_api: httpx.Client) -> str:
    """A supervisor (who may also assign) at the command center: the operator of these tests."""
    email = new_agency_user(admin_api, "supervisor")
    log_on(page, base, email)
    enrol_in_browser(page)
    page.wait_for_url(f"{base}/map")
    page.get_by_role("link", name="Command center").click()
    page.wait_for_function("() => document.body.dataset.commandReady === '1'")
    page.locator("#command-connection", has_text="live").wait_for()
    return email


def _console_faults(page) -> list[str]:
    # Chromium logs each 4xx as "Failed to load resource" (refused requests are answers, not faults).
    return [e for e in page.console_errors if not e.startswith("Failed to load resource")]


def test_a_plate_hit_arrives_live_is_verified_acted_on_and_disposed(page, live_hub, admin_api):
    base = live_hub.base_url
    r = admin_api.post("/api/agency/hotlists/import", data={"name": "CMD stolen", "format": "ncic"},
                       files={"file": ("stolen.csv", NCIC.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    r = admin_api.post("/api/agency/read-sources", json={"name": "CMD plate camera", "default_state": "WI"})
    assert r.status_code == 201, r.text
    source = {"Authorization": f"Bearer {r.json()['key']}"}
    line = SocketLine(page)
    _operator_on_command(page, base, admin_api)

    r = httpx.post(f"{base}/api/ingest/reads", json={"version": 1, "reads": [_read("cmd-1", "CMD 4242")]},
                   headers=source)
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text

    item = page.locator("#feed .feed-item.kind-alert", has_text="CMD4242")
    item.wait_for()  # pushed over the socket: the page was not reloaded
    assert page.locator("#command-map .alert-marker").count() == 1  # and on the map

    # The line drops; a hit raised meanwhile is fetched from the API once the page is back on the socket.
    line.cut()
    page.locator("#command-connection", has_text="reconnecting").wait_for()
    r = httpx.post(f"{base}/api/ingest/reads", json={"version": 1, "reads": [_read("cmd-2", "CMD 5151")]},
                   headers=source)
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text
    line.down = False
    page.locator("#command-connection", has_text="live").wait_for()
    page.locator("#feed .feed-item.kind-alert", has_text="CMD5151").wait_for()
    assert page.locator("#feed .feed-item.kind-alert").count() == 2  # the first one is not there twice
    item.get_by_role("button").click()
    detail = page.locator("#detail")
    detail.get_by_role("img", name="Plate crop of read CMD4242").wait_for()
    page.wait_for_function("() => document.querySelector('#verify .plate-crop').naturalWidth === 96")
    facts = detail.locator("#verify-record").inner_text()
    assert "FORD" in facts and "WHI" in facts and "CMD stolen" in facts and "V777777777" in facts

    detail.get_by_role("button", name="Acknowledge").click()
    detail.get_by_text("Done: acknowledge.").wait_for()
    detail.get_by_label("Assign to").select_option(label="Supervisor Tester (supervisor)")
    detail.get_by_role("button", name="Assign", exact=True).click()
    detail.get_by_text("Done: assign.").wait_for()
    detail.get_by_role("button", name="Escalate to supervisors").click()
    detail.get_by_text("Done: escalate.").wait_for()
    assert "Supervisor Tester" in detail.locator("#detail-body").inner_text()
    assert "escalated" in item.inner_text()
    detail.get_by_label("Confirmed: it is the listed vehicle").check()
    detail.get_by_label("Note (optional)").first.fill("white Ford, plate matches the crop")
    detail.get_by_role("button", name="Record disposition").click()
    detail.get_by_text("Recorded: confirmed.").wait_for()

    # A tip from the public lands in the feed; the operator reads it and promotes it to an incident.
    r = httpx.post(f"{base}/api/public/tips", data={"agency_id": live_hub.agency_id, "lat": "43.002", "lon": "-87.92",
                                                    "text": "A white Ford parked behind the school, engine running"})
    assert r.status_code == 201, r.text
    tip = page.locator("#feed .feed-item.kind-tip", has_text="A white Ford parked behind the school")
    tip.get_by_role("button").click()
    detail.locator("#tip-body", has_text="engine running").wait_for()
    detail.get_by_label("Title").fill("White Ford behind the school")
    detail.get_by_role("button", name="Promote to incident").click()
    detail.get_by_text('Promoted: incident "White Ford behind the school" opened.').wait_for()
    page.locator("#feed .feed-item.kind-incident", has_text="White Ford behind the school").wait_for()
    assert "promoted" in tip.inner_text().lower()

    [stored] = [a for a in admin_api.get("/api/agency/alerts").json() if a["plate"] == "CMD4242"]
    assert stored["status"] == "confirmed" and stored["disposition_note"] == "white Ford, plate matches the crop"
    assert stored["acknowledged_at"] and stored["escalated_at"] and stored["assigned_name"] == "Supervisor Tester"
    assert _console_faults(page) == []


def _staff_client(base: str, email: str) -> httpx.Client:
    """Agency staff logged on over HTTP, with an authenticator enrolled now."""
    client = httpx.Client(base_url=base, timeout=10)
    r = client.post("/api/auth/logon", json={"email": email, "password": PASSWORD, "accept_banner": True})
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    secret = client.post("/api/auth/totp/start").json()["secret"]
    assert client.post("/api/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}).status_code == 204
    return client


def _other_agency_supervisor(live_hub) -> httpx.Client:
    email = f"admin-{uuid.uuid4().hex[:6]}@harbor.test"
    create_agency(live_hub.hub, slug="harbor", name="Harbor Police", jurisdiction=LAKEPORT, admin_email=email,
                  admin_password=PASSWORD)
    admin = _staff_client(live_hub.base_url, email)
    try:
        return _staff_client(live_hub.base_url, new_agency_user(admin, "supervisor"))
    finally:
        admin.close()


class BoxStream:
    """The box's side of a live session: confirm it, then upload fMP4 segments at real-time pace until stopped."""

    def __init__(self, box: LinkedBox, start, media):
        self.box, self.start, self.media = box, start, media
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        box.send(LiveStarted(sent_at=datetime.now(UTC), session_id=start.session_id))
        self.thread.start()

    def _run(self):
        init, segments = self.media
        headers = {"X-Upload-Token": self.start.upload_token, "Content-Type": "video/mp4",
                   "Authorization": f"Bearer {self.box.key}"}
        url = f"{self.box.url}/api/edge/live/{self.start.session_id}/segments"
        with httpx.Client(timeout=10) as http:
            http.post(f"{url}/init", content=init, headers=headers)
            for seq, data in enumerate(segments):
                if self.stop.wait(0.5 if seq else 0):
                    return
                r = http.post(f"{url}/{seq}", content=data, headers={**headers, "X-Segment-Duration": "0.500"})
                if r.status_code != 204:
                    return  # the session ended at the hub


def test_an_incident_fills_the_wall_with_live_tiles_and_other_agencies_never_show(page, live_hub, admin_api):
    base = live_hub.base_url
    _, owner = new_owner(live_hub, "Wanda")
    cams = []
    for name, bearing in (("Corner shop", 90), ("Bus stop", 270)):
        r = owner.post("/api/owner/cameras", json=camera_body(live_hub.agency_id, tier="integrated", sharing=ALWAYS,
                                                              name=name, bearing_deg=bearing, **SCENE))
        assert r.status_code == 201, r.text
        cams.append(r.json())
    anon = httpx.Client(base_url=base, timeout=10)
    box = LinkedBox(base, owner, anon)
    box.connect([c["id"] for c in cams])
    harbor = _other_agency_supervisor(live_hub)
    dispatcher = _staff_client(base, new_agency_user(admin_api, "supervisor"))
    streams = []
    try:
        _operator_on_command(page, base, admin_api)
        # Harbor's incident first: had it reached Lakeport's screen, it would be in the feed before ours.
        r = harbor.post("/api/incidents", json={"category": "robbery", "priority": 1, "title": "Harbor secret",
                                                **SCENE})
        assert r.status_code == 201, r.text
        theirs = r.json()["id"]
        r = dispatcher.post("/api/incidents", json={"category": "shots_fired", "priority": 1,
                                                   "title": "Shots fired at Main and 3rd", **SCENE})
        assert r.status_code == 201, r.text
        incident = r.json()

        item = page.locator("#feed .feed-item.kind-incident", has_text="Shots fired at Main and 3rd")
        item.wait_for()
        marker = page.locator(f"#command-map .incident-marker.priority-1.incident-{incident['id']}")
        marker.wait_for()
        starts = {s.session_id: s for s in (box.expect("live_start", timeout=10), box.expect("live_start"))}
        assert {s.camera_id for s in starts.values()} == {c["id"] for c in cams}
        assert {s.profile for s in starts.values()} == {"tile"}
        assert all(incident["id"] in s.requester.purpose for s in starts.values())  # the incident is the purpose
        media = fmp4_segments(40)
        streams = [BoxStream(box, s, media) for s in starts.values()]
        tiles = page.locator("#wall figure.tile")
        assert tiles.count() == 2
        page.wait_for_function("() => [...document.querySelectorAll('#wall video')].every(v => v.currentTime > 0.3)",
                               timeout=20_000)
        assert page.locator("#feed", has_text="Harbor secret").count() == 0
        assert page.locator(f"#command-map .incident-{theirs}").count() == 0

        # Stopping a tile ends its session at the box; a session the box ends says why on its tile.
        first, second = tiles.nth(0), tiles.nth(1)
        first.get_by_role("button", name="Stop").click()
        stopped = box.expect("live_stop")
        assert stopped.session_id == first.get_attribute("data-session")
        first.locator(".tile-state", has_text="stopped by you").wait_for()
        # The owner pauses the other camera: the feed says so, and its tile ends with the hub's reason.
        paused = next(c for c in cams if c["id"] == second.get_attribute("data-camera-id"))
        r = owner.put(f"/api/owner/cameras/{paused['id']}", json=camera_body(
            live_hub.agency_id, tier="integrated", name=paused["name"], bearing_deg=paused["bearing_deg"],
            sharing={**ALWAYS, "mode": "paused"}, **SCENE))
        assert r.status_code == 200, r.text
        page.locator("#feed .feed-item.kind-sharing", has_text=f"{paused['name']}: the owner paused sharing").wait_for()
        second.locator(".tile-state", has_text="Ended:").wait_for(timeout=10_000)
        assert "paused" in second.locator(".tile-state").inner_text()
        # The box reports the first camera offline: the feed names it, the map crosses it out.
        down = first.get_attribute("data-camera-id")
        box.send(Health(sent_at=datetime.now(UTC), cameras=[
            CameraHealth(camera_id=down, online=False, error="no frames for 20 s")]))
        down_name = next(c["name"] for c in cams if c["id"] == down)
        page.locator("#feed .feed-item.kind-camera", has_text=f"{down_name} went offline").wait_for()
        page.locator("#map-status", has_text="1 offline").wait_for()

        # Incident actions round-trip: acknowledged, assigned, escalated, closed.
        item.get_by_role("button").click()
        detail = page.locator("#detail")
        detail.get_by_role("button", name="Acknowledge").click()
        detail.get_by_text("Done: acknowledge.").wait_for()
        detail.get_by_label("Assign to").select_option(label="Supervisor Tester (supervisor)")
        detail.get_by_role("button", name="Assign", exact=True).click()
        detail.get_by_text("Done: assign.").wait_for()
        detail.get_by_role("button", name="Escalate to supervisors").click()
        detail.get_by_text("Done: escalate.").wait_for()
        page.locator("#incident-timeline li", has_text="escalate").wait_for()
        detail.get_by_label("Radius (m)").fill("300")
        detail.get_by_role("button", name="Declare emergency").click()
        detail.get_by_text("Done: emergency.").wait_for()
        page.locator("#feed .feed-item.kind-emergency", has_text="Emergency declared").wait_for()
        page.locator("#command-map .emergency-circle").wait_for()
        detail.get_by_label("Disposition").select_option("report_taken")
        detail.get_by_role("button", name="Close incident").click()
        detail.get_by_text("Done: disposition.").wait_for()
        marker.wait_for(state="detached")  # closed: off the map
        stored = admin_api.get(f"/api/incidents/{incident['id']}").json()
        assert (stored["status"], stored["assigned_name"], stored["disposition"]) == ("closed", "Supervisor Tester",
                                                                                    "report_taken")
        assert stored["escalated_at"]

        # A locked wall keeps what it shows when the next incident arrives.
        page.get_by_label("Lock the wall (new incidents do not refill it)").check()
        r = dispatcher.post("/api/incidents", json={"category": "burglary", "priority": 3,
                                                    "title": "Burglary on Elm", **SCENE})
        assert r.status_code == 201, r.text
        page.locator("#wall-status", has_text='"Burglary on Elm": the wall is locked').wait_for()
        assert tiles.count() == 2 and first.get_attribute("data-session") == stopped.session_id
        assert page.locator("#feed", has_text="Harbor secret").count() == 0
        assert _console_faults(page) == []
    finally:
        for s in streams:
            s.stop.set()
        box.close()
        anon.close()
        owner.close()
        harbor.close()
        dispatcher.close()
