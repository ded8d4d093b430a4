"""Clips from integrated cameras, hub side: the request (decided, audited, shown to the owner), the box's
upload checked against its SHA-256 and landed in the case's evidence, refusals from the box, and every bad
request or upload refused with nothing kept. A real hub on loopback and a box speaking the real protocol."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest

from openrtcc.domain.edge_protocol import ClipResult
from tests.edge_box_link import LinkedBox, camera_behind_box, clip_mp4, integrated_camera
from tests.edge_hub import live_edge_hub  # noqa: F401  (a fixture)

CASE = "LP-2026-0077"


@pytest.fixture(scope="module")
def clip_bytes() -> bytes:
    return clip_mp4()


@pytest.fixture
def scene(live_edge_hub, world, anon):
    with camera_behind_box(live_edge_hub.url, world, anon, "analyst") as scene:
        yield scene


def _ask(world, analyst, camera_id: str, **overrides):
    now = world.clock.now()
    body = {"purpose": "hit and run on Main St", "case_number": CASE,
            "start": (now - timedelta(minutes=30)).isoformat(), "end": (now - timedelta(minutes=20)).isoformat()}
    body.update(overrides)
    return analyst.post(f"/api/cameras/{camera_id}/clips", json=body)


def _upload(box, clip_id: str, token: str, data: bytes, sha: str | None = None):
    return box.http.post(f"/api/edge/clips/{clip_id}", content=data, headers={
        "X-Upload-Token": token, "X-Content-SHA256": sha or hashlib.sha256(data).hexdigest(),
        "Content-Type": "video/mp4"})


def _stored_files(hub) -> list:
    return [p for p in hub.media.root.rglob("*") if p.is_file()]


def test_clip_lands_in_the_case_evidence_with_its_sha256(scene, world, hub, clip_bytes, backend):
    owner, cam, box, analyst = scene
    r = _ask(world, analyst, cam["id"])
    assert r.status_code == 201, r.text
    clip_id = r.json()["id"]
    assert r.json()["status"] == "requested"
    ask = box.expect("clip_request")
    assert ask.request_id == clip_id and ask.camera_id == cam["id"] and ask.requester.case_number == CASE
    assert ask.end - ask.start == timedelta(minutes=10)
    log = owner.get(f"/api/owner/cameras/{cam['id']}/access-log").json()
    assert any(e["kind"] == "footage" and e["case_number"] == CASE for e in log)

    up = _upload(box, clip_id, ask.upload_token, clip_bytes)
    assert up.status_code == 201, up.text
    sha = hashlib.sha256(clip_bytes).hexdigest()
    assert up.json()["sha256"] == sha and up.json()["size_bytes"] == len(clip_bytes)
    box.send(ClipResult(sent_at=world.clock.now(), request_id=clip_id, status="ready", sha256=sha,
                        size_bytes=len(clip_bytes)))

    clips = analyst.get("/api/clips", params={"case_number": CASE}).json()
    assert [(c["id"], c["status"], c["sha256"]) for c in clips] == [(clip_id, "ready", sha)]
    evidence = analyst.get(f"/api/agency/cases/{CASE}/evidence").json()
    assert [(e["id"], e["sha256"], e["request_id"], e["camera_id"]) for e in evidence] == [
        (clip_id, sha, None, cam["id"])]
    got = analyst.get(f"/api/clips/{clip_id}/download")
    assert got.status_code == 200 and got.content == clip_bytes and got.headers["x-content-sha256"] == sha
    assert hashlib.sha256(got.content).hexdigest() == sha
    with hub.uow() as uow:
        actions = [r.action for r in uow.audit.iter_records()]
        uow.rollback()
    assert {"clip.request", "clip.received", "clip.download"} <= set(actions)
    # A second upload with the used token is refused: the request is answered.
    assert _upload(box, clip_id, ask.upload_token, clip_bytes).status_code == 410
    assert len(_stored_files(hub)) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part here
def test_mismatching_sha256_keeps_nothing_and_bad_uploads_are_refused(scene, world, anon, live_edge_hub, hub,
                                                                       clip_bytes):
    owner, cam, box, analyst = scene
    clip_id = _ask(world, analyst, cam["id"]).json()["id"]
    token = box.expect("clip_request").upload_token
    wrong = _upload(box, clip_id, token, clip_bytes, sha="0" * 64)
    assert wrong.status_code == 422 and wrong.json()["error"] == "sha256_mismatch"
    assert _upload(box, clip_id, token, clip_bytes[:-10], sha=hashlib.sha256(clip_bytes).hexdigest()).status_code == 422
    assert _upload(box, clip_id, "x" * 43, clip_bytes).status_code == 403
    assert _upload(box, clip_id, token, b"<html>no video</html>").status_code == 422
    assert _upload(box, clip_id, token, clip_bytes, sha="not-a-digest").status_code == 422
    stranger = LinkedBox(live_edge_hub.url, world.owner("Ivy"), anon, "stranger")
    assert _upload(stranger, clip_id, token, clip_bytes).status_code == 404
    stranger.close()
    huge = clip_bytes + b"\0" * (2 * 1024 * 1024)  # past the hub's upload limit (2 MiB in tests)
    assert _upload(box, clip_id, token, huge).status_code == 413  # declared too large: refused unread
    chunked = (huge[i:i + 65536] for i in range(0, len(huge), 65536))  # no length: refused while it streams
    assert _upload(box, clip_id, token, chunked, sha=hashlib.sha256(huge).hexdigest()).status_code == 413
    assert _stored_files(hub) == []  # nothing of any refused upload kept
    assert analyst.get(f"/api/clips/{clip_id}").json()["status"] == "requested"
    assert analyst.get(f"/api/agency/cases/{CASE}/evidence").json() == []
    assert analyst.get(f"/api/clips/{clip_id}/download").status_code == 409
    assert _upload(box, clip_id, token, clip_bytes).status_code == 201  # the right bytes still land


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_box_refusal_closes_the_request_with_its_reason(scene, world, clip_bytes):
    owner, cam, box, analyst = scene
    clip_id = _ask(world, analyst, cam["id"]).json()["id"]
    token = box.expect("clip_request").upload_token
    box.send(ClipResult(sent_at=world.clock.now(), request_id=clip_id, status="refused",
                        reason="the owner does not share recorded video"))
    deadline = time.monotonic() + 5
    while analyst.get(f"/api/clips/{clip_id}").json()["status"] == "requested":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    clip = analyst.get(f"/api/clips/{clip_id}").json()
    assert clip["status"] == "refused" and clip["reason"] == "the owner does not share recorded video"
    assert _upload(box, clip_id, token, clip_bytes).status_code == 410


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_bad_clip_requests_are_refused_before_the_box_is_asked(scene, world, clip_bytes):
    owner, cam, box, analyst = scene
    now = world.clock.now()
    no_recorded = integrated_camera(world, owner, {"mode": "always", "share_live": True, "share_recorded": False},
                                    bearing_deg=200)

    def refused(camera_id, status, **overrides):
        r = _ask(world, analyst, camera_id, **overrides)
        assert r.status_code == status, r.text
        return r.json()

    assert refused(cam["id"], 422, end=(now - timedelta(minutes=40)).isoformat())["error"] == "bad_window"
    assert refused(cam["id"], 422, start=(now - timedelta(hours=2)).isoformat())["error"] == "bad_window"
    assert refused(cam["id"], 422, end=(now + timedelta(minutes=5)).isoformat())["error"] == "bad_window"
    refused(cam["id"], 422, case_number="")
    refused(cam["id"], 422, start="2026-11-20T14:00:00")  # no offset
    assert "recorded" in refused(no_recorded["id"], 403)["message"]
    assert refused("no-such-camera", 404)["error"] == "not_found"
    harbor = world.staff("analyst", "harbor")
    assert _ask(world, harbor, cam["id"]).status_code == 404
    officer = world.staff("officer")  # officers may not ask for footage
    assert _ask(world, officer, cam["id"]).status_code == 403
    assert analyst.get("/api/clips").json() == []
    assert harbor.get("/api/clips").json() == []


def test_a_request_the_box_never_answers_fails_after_the_wait_and_a_late_upload_keeps_nothing(
        scene, world, hub, clip_bytes, backend):
    from openrtcc.services.edge_clips import CLIP_ANSWER_WAIT, fail_unanswered_clips

    owner, cam, box, analyst = scene
    clip_id = _ask(world, analyst, cam["id"]).json()["id"]
    ask = box.expect("clip_request")
    world.clock.advance(seconds=CLIP_ANSWER_WAIT.total_seconds() - 60)
    assert fail_unanswered_clips(hub) == 0  # still within the wait
    world.clock.advance(seconds=120)
    assert fail_unanswered_clips(hub) == 1
    from sqlalchemy import select

    from openrtcc.adapters.db.tables import edge_clip

    with hub.extras["engine"].connect() as conn:  # (the analyst's session locked after 30 idle minutes)
        status, reason = conn.execute(select(edge_clip.c.status, edge_clip.c.reason)
                                      .where(edge_clip.c.id == clip_id)).one()
    assert status == "failed" and "did not answer" in reason
    assert fail_unanswered_clips(hub) == 0  # closed once
    files = _stored_files(hub)
    assert _upload(box, clip_id, ask.upload_token, clip_bytes).status_code == 410
    assert _stored_files(hub) == files
