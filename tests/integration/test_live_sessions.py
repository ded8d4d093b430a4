"""Live view, hub side: who may start a session and when the hub refuses, what the box may upload, who may
play it, and how a session ends (viewer, box, owner's policy, nobody watching). A real hub on loopback,
a box speaking the real protocol over the real WebSocket and HTTP, real fMP4 segments."""

from __future__ import annotations

import pytest

from openrtcc.domain.edge_protocol import LiveEnded, LiveStarted
from openrtcc.services.live_sessions import BOX_SILENT, VIEWER_IDLE, end_refused_sessions, live_segments
from tests.edge_box_link import (
    LinkedBox,
    camera_behind_box,
    fmp4_segments,
    integrated_camera,
    playlist_segments,
)
from tests.edge_hub import live_edge_hub  # noqa: F401  (a fixture)

START = {"purpose": "armed robbery in progress at the corner shop", "case_number": "LP-2026-0042"}


@pytest.fixture(scope="module")
def media():
    return fmp4_segments(3)


@pytest.fixture
def scene(live_edge_hub, world, anon):
    with camera_behind_box(live_edge_hub.url, world, anon, "officer") as scene:
        yield scene


def _start(officer, camera_id: str, body: dict = START):
    return officer.post(f"/api/cameras/{camera_id}/live", json=body)


def _actions(hub) -> list[str]:
    with hub.uow() as uow:
        acts = [r.action for r in uow.audit.iter_records()]
        uow.rollback()
    return acts


def test_live_session_from_request_to_the_box_ending_it(scene, world, hub, media, backend):
    owner, cam, box, officer = scene
    init, segments = media
    colleague = world.staff("analyst")  # same agency, allowed live video: may watch it too (made first: the
    # authenticator's enrolment moves the test clock on by 31 s)
    r = _start(officer, cam["id"])
    assert r.status_code == 201, r.text
    sid, playlist_url = r.json()["id"], r.json()["playlist_url"]
    start = box.expect("live_start")
    assert start.session_id == sid and start.camera_id == cam["id"]
    assert start.requester.purpose == START["purpose"] and start.requester.case_number == START["case_number"]
    assert start.profile == "full"  # not asked: full size
    assert playlist_url == f"/api/live/{sid}/index.m3u8"  # its player may block on reloads (LL-HLS)
    with hub.uow() as uow:
        row = uow.live.session(sid)
        uow.rollback()
    assert row.upload_token_hash != start.upload_token and start.upload_token not in str(row)  # only its hash

    assert officer.get(f"/api/live/{sid}").json()["state"] == "starting"
    box.send(LiveStarted(sent_at=world.clock.now(), session_id=sid))
    assert box.upload(sid, "init", init, start.upload_token).status_code == 204
    for seq, data in enumerate(segments):
        assert box.upload(sid, str(seq), data, start.upload_token).status_code == 204

    text = officer.get(playlist_url).text
    assert text.startswith("#EXTM3U") and '#EXT-X-MAP:URI="init.mp4"' in text
    assert playlist_segments(text) == ["segments/0.m4s", "segments/1.m4s", "segments/2.m4s"]
    assert officer.get(f"/api/live/{sid}/segments/1.m4s").content == segments[1]
    assert officer.get(f"/api/live/{sid}/init.mp4").content == init
    assert colleague.get(playlist_url).status_code == 200
    assert colleague.get(playlist_url).status_code == 200  # recorded once, not per poll
    status = officer.get(f"/api/live/{sid}").json()
    assert status["state"] == "live" and status["confirmed_by_box"] and status["camera_name"] == cam["name"]

    log = owner.get(f"/api/owner/cameras/{cam['id']}/access-log").json()
    assert [e["kind"] for e in log if e["purpose"] == START["purpose"]] == ["live", "live"]  # officer, colleague
    assert "live.start" in _actions(hub) and _actions(hub).count("live.watch") == 1

    box.send(LiveEnded(sent_at=world.clock.now(), session_id=sid, reason="the owner paused sharing"))
    _wait(lambda: officer.get(f"/api/live/{sid}").json()["state"] == "ended")
    status = officer.get(f"/api/live/{sid}").json()
    assert status["end_reason"] == "the owner paused sharing"
    gone = officer.get(playlist_url)
    assert gone.status_code == 410 and "paused" in gone.json()["message"]
    assert box.upload(sid, "3", segments[0], start.upload_token).status_code == 410
    assert live_segments(hub).get(sid) is None  # the video is gone from memory
    assert "live.end" in _actions(hub)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part here
def test_hub_refuses_what_it_must_not_ask_for(scene, world, anon, live_edge_hub, hub):
    owner, cam, box, officer = scene
    paused = integrated_camera(world, owner, {"mode": "paused", "share_live": True, "share_recorded": True},
                               bearing_deg=180)
    no_live = integrated_camera(world, owner, {"mode": "always", "share_live": False, "share_recorded": True},
                                bearing_deg=270)
    registered = world.camera(owner, bearing_deg=0)
    offline = integrated_camera(world, owner, lat=43.01)
    other_owner = world.owner("Ivy")
    unlinked = integrated_camera(world, other_owner)
    box.close()
    box2 = LinkedBox(live_edge_hub.url, owner, anon, "box-2")
    box2.connect([cam["id"], paused["id"], no_live["id"], offline["id"]])
    box3 = LinkedBox(live_edge_hub.url, owner, anon, "box-3")
    box3.connect([offline["id"]])
    box3.close()  # offline's box is now box-3, and it is gone

    def refused(camera_id, status, code):
        r = _start(officer, camera_id)
        assert r.status_code == status, r.text
        assert r.json()["error"] == code, r.json()
        return r.json()["message"]

    assert "paused" in refused(paused["id"], 403, "policy_refused")
    assert "live" in refused(no_live["id"], 403, "policy_refused")
    assert "registered" in refused(registered["id"], 403, "policy_refused")
    _wait(lambda: not hub.extras["edge_links"].is_connected(box3.edge_id))
    refused(offline["id"], 409, "edge_offline")
    refused(unlinked["id"], 409, "no_edge")
    harbor_officer = world.staff("officer", "harbor")
    r = _start(harbor_officer, cam["id"])  # another agency's camera: not found, nothing about it told
    assert r.status_code == 404 and cam["name"] not in r.text
    owner_r = owner.post(f"/api/cameras/{cam['id']}/live", json=START)
    assert owner_r.status_code == 403
    auditor = world.staff("auditor")
    assert _start(auditor, cam["id"]).status_code == 403  # no live-video right
    assert _start(officer, cam["id"], {"purpose": "x"}).status_code == 422
    assert _start(officer, cam["id"], {**START, "profile": "4k"}).status_code == 422
    with hub.uow() as uow:
        assert uow.live.open_sessions_for_camera(cam["id"]) == []
        uow.rollback()
    box2.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part here
def test_uploads_refused_unless_from_the_sessions_box_with_its_token(scene, world, anon, live_edge_hub, hub,
                                                                      media):
    owner, cam, box, officer = scene
    init, segments = media
    r = _start(officer, cam["id"], {**START, "profile": "tile"})
    sid = r.json()["id"]
    start = box.expect("live_start")
    assert start.profile == "tile"  # a video wall's tile: the box encodes it small
    # ... and its player polls: its playlist offers no blocking reload (one of 16 tiles must not hold one of
    # the browser's six connections to the hub), and a _HLS_msn that asks for a later segment is answered
    # with what is held (a blocking reload would wait, then answer the same).
    assert r.json()["playlist_url"] == f"/api/live/{sid}/index.m3u8?poll=true"
    polled = officer.get(r.json()["playlist_url"] + "&_HLS_msn=3")
    assert polled.status_code == 200 and polled.text.startswith("#EXTM3U") and "SERVER-CONTROL" not in polled.text
    assert "CAN-BLOCK-RELOAD=YES" in officer.get(f"/api/live/{sid}/index.m3u8").text  # the full player's choice
    token = start.upload_token
    other_owner = world.owner("Ivy")
    stranger = LinkedBox(live_edge_hub.url, other_owner, anon, "stranger")

    assert box.upload(sid, "0", segments[0], "x" * 43).status_code == 403
    assert stranger.upload(sid, "0", segments[0], token).status_code == 404  # another box: not its session
    assert box.upload("no-such-session", "0", segments[0], token).status_code == 404
    assert box.upload(sid, "0", segments[0], token, content_type="text/html").status_code == 422
    assert box.upload(sid, "0", b"<html>not video</html>", token).status_code == 422
    assert box.upload(sid, "0", segments[0], token, duration=None).status_code == 422
    assert box.upload(sid, "-1", segments[0], token).status_code == 422
    assert box.upload(sid, "init", segments[0], token).status_code == 422  # a media segment is no init
    anonymous = box.http.post(f"/api/edge/live/{sid}/segments/0", content=segments[0],
                              headers={"Authorization": "", "X-Upload-Token": token, "Content-Type": "video/mp4"})
    assert anonymous.status_code == 401
    big = box.upload(sid, "0", b"\0\0\0\x10moof" + b"\0" * (9 * 1024 * 1024), token)
    assert big.status_code == 413
    buf = live_segments(hub).get(sid)
    assert buf.init is None and len(buf.segments) == 0  # nothing of any of it kept

    # The playlist is for the session's agency only; owners and other agencies get nothing.
    assert officer.get(f"/api/live/{sid}/index.m3u8").status_code == 200
    harbor = world.staff("officer", "harbor")
    assert harbor.get(f"/api/live/{sid}/index.m3u8").status_code == 404
    assert harbor.get(f"/api/live/{sid}/index.m3u8?poll=true").status_code == 404
    assert harbor.get(f"/api/live/{sid}").status_code == 404
    assert harbor.delete(f"/api/live/{sid}").status_code == 404
    assert owner.get(f"/api/live/{sid}/index.m3u8").status_code == 403
    assert anon.get(f"/api/live/{sid}/index.m3u8").status_code == 401
    stranger.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part here
def test_viewer_stop_sends_live_stop(scene, world):
    owner, cam, box, officer = scene
    sid = _start(officer, cam["id"]).json()["id"]
    box.expect("live_start")
    assert officer.delete(f"/api/live/{sid}").status_code == 204
    stop = box.expect("live_stop")
    assert stop.session_id == sid and "viewer" in stop.reason
    assert officer.get(f"/api/live/{sid}").json()["end_reason"] == "stopped by the viewer"
    assert officer.delete(f"/api/live/{sid}").status_code == 204  # stopping twice is harmless


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_owner_policy_change_ends_sessions_it_refuses(scene, world, hub):
    owner, cam, box, officer = scene
    sid = _start(officer, cam["id"]).json()["id"]
    box.expect("live_start")
    assert end_refused_sessions(hub, cam["id"]) == 0  # still allowed: nothing ends
    body = {k: cam[k] for k in ("agency_id", "name", "lat", "lon", "address", "bearing_deg", "fov_deg", "range_m",
                                "make", "model", "owner_retention_days", "tier")}
    body.update(public_facing_attested=True, sharing={"mode": "paused", "share_live": True, "share_recorded": True})
    assert owner.put(f"/api/owner/cameras/{cam['id']}", json=body).status_code == 200
    stop = box.expect("live_stop")  # the owner's change itself ends it on the hub's side
    assert stop.session_id == sid and "paused" in stop.reason
    status = officer.get(f"/api/live/{sid}").json()
    assert status["state"] == "ended" and "paused" in status["end_reason"]
    assert end_refused_sessions(hub, cam["id"]) == 0  # once only


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part here
def test_nobody_watching_ends_the_session_at_the_next_upload(scene, world, media):
    owner, cam, box, officer = scene
    init, segments = media
    sid = _start(officer, cam["id"]).json()["id"]
    token = box.expect("live_start").upload_token
    assert box.upload(sid, "0", segments[0], token).status_code == 204
    world.clock.advance(seconds=VIEWER_IDLE.total_seconds() + 1)
    assert box.upload(sid, "1", segments[1], token).status_code == 410
    assert "watching" in box.expect("live_stop").reason


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_silent_box_ends_the_session_and_the_viewer_is_told(scene, world, media):
    owner, cam, box, officer = scene
    init, segments = media
    sid = _start(officer, cam["id"]).json()["id"]
    token = box.expect("live_start").upload_token
    assert box.upload(sid, "0", segments[0], token).status_code == 204
    world.clock.advance(seconds=BOX_SILENT.total_seconds() - 1)
    assert officer.get(f"/api/live/{sid}").json()["state"] == "live"
    world.clock.advance(seconds=2)
    status = officer.get(f"/api/live/{sid}").json()
    assert status["state"] == "ended" and "no video from the camera's box" in status["end_reason"]
    assert box.expect("live_stop").session_id == sid
    assert officer.get(f"/api/live/{sid}/index.m3u8").status_code == 410


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_revoking_the_box_or_moving_the_camera_ends_its_sessions(scene, world, anon, live_edge_hub):
    owner, cam, box, officer = scene
    first = _start(officer, cam["id"]).json()["id"]
    box.expect("live_start")
    other = LinkedBox(live_edge_hub.url, owner, anon, "box-2")
    assert owner.put(f"/api/owner/cameras/{cam['id']}/edge", json={"edge_id": other.edge_id}).status_code == 200
    assert "another box" in officer.get(f"/api/live/{first}").json()["end_reason"]
    other.connect([cam["id"]])
    second = _start(officer, cam["id"]).json()["id"]
    other.expect("live_start")
    assert owner.post(f"/api/owner/edges/{other.edge_id}/revoke").status_code == 200
    status = officer.get(f"/api/live/{second}").json()
    assert status["state"] == "ended" and status["end_reason"] == "the owner revoked the camera's edge box"
    other.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_emergency_only_camera_is_live_while_the_emergency_lasts(scene, world, anon, live_edge_hub):
    owner, cam, box, officer = scene
    supervisor = world.staff("supervisor")
    nearby = integrated_camera(world, owner, {"mode": "emergency_only", "share_live": True, "share_recorded": True,
                                              "emergency_radius_m": 500}, bearing_deg=10)
    box.close()
    box = LinkedBox(live_edge_hub.url, owner, anon, "box-2")
    box.connect([nearby["id"]])
    assert _start(officer, nearby["id"]).status_code == 403  # no emergency yet
    r = supervisor.post("/api/emergencies", json={"lat": nearby["lat"], "lon": nearby["lon"], "radius_m": 300,
                                                          "reason": "armed suspect", "expires_in_minutes": 30})
    assert r.status_code == 201, r.text
    sid = _start(officer, nearby["id"]).json()["id"]
    box.expect("live_start")
    assert supervisor.post(f"/api/emergencies/{r.json()['id']}/end").status_code == 200
    stop = box.expect("live_stop")
    assert stop.session_id == sid and "emergency" in stop.reason
    assert officer.get(f"/api/live/{sid}").json()["state"] == "ended"
    box.close()


def _wait(predicate, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
