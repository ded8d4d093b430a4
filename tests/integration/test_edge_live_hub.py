"""The box's live view and clips against the real hub: an officer asks, the hub sends LiveStart over the real
link, the box's request handler decides with the policy the hub pushed, streams the real RTSP camera, uploads to
the hub's real endpoints, the officer's playlist plays it, and the officer's stop ends it on both sides; an
analyst's clip request is exported from the box's recordings and lands in the case's evidence."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest

from openrtcc.edge.access_log import EdgeAccessLog
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.hub_http import hub_client
from openrtcc.edge.hub_uploads import HubUploads
from openrtcc.edge.policy_gate import PolicyGate
from openrtcc.edge.request_handler import RequestHandler
from openrtcc.edge.segment_store import SegmentStore
from tests.edge_box_link import LinkedBox, integrated_camera, playlist_segments
from tests.edge_hub import live_edge_hub  # noqa: F401  (a fixture)
from tests.edge_live_support import camera_capture, count_video_packets, decode_mp4, record_file
from tests.integration import db_probe as db
from tests.rtsp import VIDEO, rtsp_server  # noqa: F401  (the fixture)

CASE = "LP-2026-0078"
START = {"purpose": "robbery in progress at the corner shop", "case_number": "LP-2026-0077"}


def _wait(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part here
def test_an_officer_watches_the_box_stream_through_the_hub_and_stops_it(live_edge_hub, world, anon, clock,  # noqa: F811
                                                                         tmp_path, rtsp_server):  # noqa: F811
    owner = world.owner("Olga")
    cam = integrated_camera(world, owner)
    box = LinkedBox(live_edge_hub.url, owner, anon)
    box.connect([cam["id"]])
    config = EdgeConfig.model_validate({"edge": {"hub_url": live_edge_hub.url, "data_dir": str(tmp_path)},
                                        "cameras": [{"id": cam["id"], "name": "Front", "url": "rtsp://127.0.0.1:1/x"}]})
    gate = PolicyGate(config)
    gate.apply_policy(box.expect("policy"))  # the owner's policy as the hub pushed it on connect
    camera = camera_capture(cam["id"], rtsp_server.url("static"))
    client = hub_client(config, box.key)
    access_log = EdgeAccessLog(tmp_path / "access_log.db", now=clock.now)
    handler = RequestHandler(config, gate, access_log, HubUploads(client), box.send, clock, {cam["id"]: camera}.get)
    officer = world.staff("officer")
    try:
        r = officer.post(f"/api/cameras/{cam['id']}/live", json=START)
        assert r.status_code == 201, r.text
        sid, playlist_url = r.json()["id"], r.json()["playlist_url"]
        session = handler.handle_live_start(box.expect("live_start"))
        assert session is not None

        text = _wait(lambda: (t := officer.get(playlist_url).text).count(".m4s") >= 2 and t)
        assert '#EXT-X-MAP:URI="init.mp4"' in text
        names = playlist_segments(text)
        init = officer.get(f"/api/live/{sid}/init.mp4").content
        body = b"".join(officer.get(f"/api/live/{sid}/{n}").content for n in names)
        frames = decode_mp4(init + body)
        assert len(frames) >= 10 and frames[0].shape == (360, 640, 3)
        # The viewer's live.watch record covers each playlist and segment fetch, and live.start the box's uploads:
        # no fallback record per request (a wall of 16 tiles would write dozens a second).
        assert [r.target for r in db.audit_after(world.hub, 0) if r.action == "http.request" and "live" in r.target] == []
        assert _wait(lambda: officer.get(f"/api/live/{sid}").json()["state"] == "live")

        assert officer.delete(f"/api/live/{sid}").status_code == 204
        handler.handle_live_stop(box.expect("live_stop"))
        session.join(5)
        assert not session.running and session.end_reason.startswith("stopped by the hub")
        assert _wait(lambda: officer.get(f"/api/live/{sid}").json()["state"] == "ended")
        entries = access_log.latest(10)
        assert [(e.kind, e.outcome) for e in entries] == [("live", "allowed"), ("live", "ended")]
        assert entries[0].purpose == START["purpose"] and entries[0].case_number == START["case_number"]
    finally:
        handler.close()
        client.close()
        camera.stop()
        access_log.close()
        box.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_clip_asked_at_the_hub_is_exported_by_the_box_and_lands_in_the_case_evidence(
        live_edge_hub, world, anon, clock, tmp_path):  # noqa: F811
    owner = world.owner("Olga")
    cam = integrated_camera(world, owner)
    box = LinkedBox(live_edge_hub.url, owner, anon)
    box.connect([cam["id"]])
    config = EdgeConfig.model_validate({"edge": {"hub_url": live_edge_hub.url, "data_dir": str(tmp_path)},
                                        "cameras": [{"id": cam["id"], "name": "Front", "url": "rtsp://127.0.0.1:1/x"}]})
    gate = PolicyGate(config)
    gate.apply_policy(box.expect("policy"))
    store = SegmentStore(tmp_path, config.recording, Alarms(clock.now), clock)
    recorded_at = clock.now() - timedelta(minutes=5)
    record_file(store, cam["id"], VIDEO, recorded_at, seconds=5.0)
    client = hub_client(config, box.key)
    access_log = EdgeAccessLog(tmp_path / "access_log.db", now=clock.now)
    handler = RequestHandler(config, gate, access_log, HubUploads(client), box.send, clock, {}.get, store)
    analyst = world.staff("analyst")
    try:
        r = analyst.post(f"/api/cameras/{cam['id']}/clips", json={
            "purpose": "hit and run on Main St", "case_number": CASE,
            "start": (recorded_at + timedelta(seconds=1)).isoformat(),
            "end": (recorded_at + timedelta(seconds=3)).isoformat()})
        assert r.status_code == 201, r.text
        clip_id = r.json()["id"]
        result = handler.handle_clip_request(box.expect("clip_request")).result(30)
        assert result.status == "ready", result
        clip = _wait(lambda: (c := analyst.get(f"/api/clips/{clip_id}").json())["status"] == "ready" and c)
        assert (clip["sha256"], clip["size_bytes"]) == (result.sha256, result.size_bytes)
        # what the hub stored (its download path is tested hub-side): the bytes the box hashed
        media = live_edge_hub.hub.media
        [stored] = [p for p in media.root.rglob("*") if p.is_file()]
        with media.open(str(stored.relative_to(media.root))) as f:  # sealed at rest: read through the store
            plain = f.read()
        assert hashlib.sha256(plain).hexdigest() == result.sha256 != hashlib.sha256(stored.read_bytes()).hexdigest()
        assert 30 <= count_video_packets(plain) <= 70  # ~2 s at ~18 fps, from the keyframe before
        evidence = analyst.get(f"/api/agency/cases/{CASE}/evidence").json()
        assert [(e["id"], e["sha256"]) for e in evidence] == [(clip_id, result.sha256)]
        assert [(e.kind, e.outcome, e.case_number) for e in access_log.latest(5)] == [
            ("clip", "allowed", CASE), ("clip", "ended", CASE)]
    finally:
        handler.close()
        client.close()
        store.close()
        access_log.close()
        box.close()
