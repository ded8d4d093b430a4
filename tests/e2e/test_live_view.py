"""The live page in a real browser: an analyst states a purpose, the box streams the real RTSP camera through
the real hub, hls.js plays it (the video's clock advances), the analyst stops it; a second session is ended
by the owner pausing sharing, and the page shows why; then a clip asked on the page arrives and can be
downloaded."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from openrtcc.domain.clock import SystemClock
from openrtcc.edge.access_log import EdgeAccessLog
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.hub_http import hub_client
from openrtcc.edge.hub_uploads import HubUploads
from openrtcc.edge.policy_gate import PolicyGate
from openrtcc.edge.request_handler import RequestHandler
from tests.conftest import camera_body
from tests.e2e.conftest import enrol_in_browser, log_on, new_agency_user, new_owner
from tests.edge_box_link import ALWAYS, LinkedBox, clip_mp4
from tests.edge_live_support import camera_capture
from tests.rtsp import rtsp_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


def _playing(page) -> float:
    return page.evaluate("() => document.getElementById('live-video').currentTime")


def test_analyst_watches_live_video_sees_why_it_ended_and_gets_a_clip(live_hub, admin_api, page, tmp_path,
                                                         rtsp_server):  # noqa: F811
    email, owner = new_owner(live_hub, "Olga")
    r = owner.post("/api/owner/cameras", json=camera_body(live_hub.agency_id, tier="integrated", sharing=ALWAYS))
    assert r.status_code == 201, r.text
    cam = r.json()
    anon = httpx.Client(base_url=live_hub.base_url, timeout=10)
    box = LinkedBox(live_hub.base_url, owner, anon)
    box.connect([cam["id"]])
    config = EdgeConfig.model_validate({"edge": {"hub_url": live_hub.base_url, "data_dir": str(tmp_path)},
                                        "cameras": [{"id": cam["id"], "name": "Front", "url": "rtsp://127.0.0.1:1/x"}]})
    gate = PolicyGate(config)
    policy = box.expect("policy")
    gate.apply_policy(policy)
    camera = camera_capture(cam["id"], rtsp_server.url("static"))
    client = hub_client(config, box.key)
    clock = SystemClock()
    access_log = EdgeAccessLog(tmp_path / "access_log.db", now=clock.now)
    handler = RequestHandler(config, gate, access_log, HubUploads(client), box.send, clock, {cam["id"]: camera}.get)
    try:
        log_on(page, live_hub.base_url, new_agency_user(admin_api, "analyst"))
        enrol_in_browser(page)
        page.wait_for_url("**/map")
        page.goto(f"{live_hub.base_url}/live?camera={cam['id']}")
        page.wait_for_function("() => document.body.dataset.liveReady === '1'")
        for asset in ("hls.light.min.js", "hls.worker.js", "LICENSE"):  # served from the hub, never a CDN
            assert page.request.get(f"{live_hub.base_url}/vendor/hls.js/{asset}").ok, asset
        assert page.locator("#live-logged").is_visible()  # the view is logged, and the page says so first
        page.get_by_role("button", name="Start live view").click()
        page.locator("#live-form .form-error").filter(has_text="purpose").wait_for()  # no purpose, no video

        page.get_by_role("textbox", name="Purpose (required)").fill("robbery in progress at the corner shop")
        page.get_by_role("button", name="Start live view").click()
        assert handler.handle_live_start(box.expect("live_start", timeout=10)) is not None
        page.wait_for_function("() => document.getElementById('live-video').currentTime > 0.5", timeout=20_000)
        first = _playing(page)
        time.sleep(1.5)
        assert _playing(page) > first + 0.5  # it plays on, not one frame
        assert page.locator("#live-camera").inner_text() == cam["name"]

        page.get_by_role("button", name="Stop live view").click()
        handler.handle_live_stop(box.expect("live_stop"))
        page.locator("#live-state").filter(has_text="stopped by you").wait_for()

        # Again, and this time the owner pauses sharing: the box ends it, the page says why.
        page.get_by_role("button", name="Start live view").click()
        session = handler.handle_live_start(box.expect("live_start", timeout=10))
        page.wait_for_function("() => document.getElementById('live-video').currentTime > 0.5", timeout=20_000)
        paused = policy.cameras[0].model_copy(update={"mode": "paused"})
        gate.apply_policy(policy.model_copy(update={"cameras": [paused]}))
        session.join(10)
        page.locator("#live-state").filter(has_text="paused").wait_for(timeout=10_000)
        assert page.locator("#live-stop").is_hidden()
        # A clip of the last minutes, asked on the page; the test plays the box's upload of it.
        page.locator("#clip-case").fill("LP-2026-0042")
        page.locator("#clip-purpose").fill("robbery at the corner shop")
        page.get_by_role("button", name="Ask the box for this clip").click()
        ask = box.expect("clip_request", timeout=10)
        page.locator("#clip-list").filter(has_text="requested").wait_for()
        clip = clip_mp4()
        r = box.http.post(f"/api/edge/clips/{ask.request_id}", content=clip, headers={
            "X-Upload-Token": ask.upload_token, "X-Content-SHA256": hashlib.sha256(clip).hexdigest(),
            "Content-Type": "video/mp4"})
        assert r.status_code == 201, r.text
        page.get_by_role("link", name="Download").wait_for()
        assert page.locator("#clip-list code").get_attribute("title") == hashlib.sha256(clip).hexdigest()
        # Refused requests (the 422 without a purpose, the 410 of the ended playlist) are answers, not faults.
        assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
    finally:
        handler.close()
        client.close()
        camera.stop()
        access_log.close()
        box.close()
        anon.close()
        owner.close()
