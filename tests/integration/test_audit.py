"""The audit trail on both backends: every call leaves a record, refusals included; the chain is verified
by `rtcc audit verify` as a real process; tampering is named; a failing audit write refuses the action."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError

from openrtcc.services.audit_trail import verify_chain
from tests.conftest import PASSWORD, camera_body
from tests.integration import db_probe as db

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 256
LOOK = {"purpose": "criminal_investigation", "offence": "120", "case_number": "24-0042"}
AROUND = {"type": "Polygon", "coordinates": [[[-87.93, 42.99], [-87.91, 42.99], [-87.91, 43.01],
                                              [-87.93, 43.01], [-87.93, 42.99]]]}


class Ledger:
    """Runs one API call and checks exactly which audit records it added."""

    def __init__(self, hub):
        self.hub = hub
        self.calls = 0

    def __call__(self, expected: list[tuple[str, str]], response_status: int, call):
        seq = db.audit_head_seq(self.hub)
        r = call()
        assert r.status_code == response_status, r.text
        added = db.audit_after(self.hub, seq)
        assert [(a.action, a.outcome) for a in added] == expected, [(a.action, a.outcome) for a in added]
        self.calls += 1
        return r, added


def test_every_call_of_a_day_in_the_life_is_on_the_record(world, anon):
    hub = world.hub
    call = Ledger(hub)
    world.agency()
    admin = world.admin()
    analyst = world.staff("analyst")
    auditor = world.staff("auditor")
    lakeport_id = world.agency().id

    # an owner joins and registers a camera
    email = "rosa-flow@owners.test"
    call([("owner.sign_up", "success")], 201, lambda: anon.post("/api/auth/signup", json={
        "email": email, "password": PASSWORD, "display_name": "Rosa"}))
    call([("auth.log_on", "denied")], 401, lambda: anon.post("/api/auth/logon", json={
        "email": email, "password": "Wrong-Password-1", "accept_banner": True}))
    owner = TestClient(world.app)  # holds the session cookie from here on
    r, _ = call([("auth.log_on", "success")], 200, lambda: owner.post("/api/auth/logon", json={
        "email": email, "password": PASSWORD, "accept_banner": True}))
    oh = {"Authorization": f"Bearer {r.json()['token']}"}
    stranger = TestClient(world.app)
    call([("agency.list_programs", "success")], 200, lambda: owner.get("/api/programs"))
    r, added = call([("camera.register", "success")], 201,
                    lambda: owner.post("/api/owner/cameras", headers=oh, json=camera_body(lakeport_id)))
    cid = r.json()["id"]
    assert added[0].target == f"camera:{cid}" and added[0].source == "testclient"
    call([("camera.list_own", "success")], 200, lambda: owner.get("/api/owner/cameras", headers=oh))
    call([("auth.whoami", "success")], 200, lambda: owner.get("/api/auth/me", headers=oh))
    call([("camera.read_own", "success")], 200, lambda: owner.get(f"/api/owner/cameras/{cid}", headers=oh))
    call([("camera.update", "success")], 200, lambda: owner.put(
        f"/api/owner/cameras/{cid}", headers=oh, json=camera_body(lakeport_id, name="Porch camera, east")))
    call([("owner.profile_read", "success")], 200, lambda: owner.get("/api/owner/profile", headers=oh))
    call([("owner.contact_update", "success")], 204, lambda: owner.put(
        "/api/owner/profile/contact", headers=oh, json={"share_contact": "on_request"}))

    # the agency searches, asks for footage, receives it
    for url, body, action in [
        ("/api/agency/search/radius", {"lat": 43.0, "lon": -87.92, "radius_m": 300, **LOOK}, "camera.search_radius"),
        ("/api/agency/search/area", {"area": AROUND, **LOOK}, "camera.search_area"),
        ("/api/agency/search/view", {"lat": 43.0, "lon": -87.9197, **LOOK}, "camera.search_view"),
        ("/api/agency/incident-pin", {"lat": 43.0, "lon": -87.92, **LOOK}, "camera.incident_pin"),
    ]:
        r, added = call([(action, "success")], 200, lambda url=url, body=body: analyst.post(url, json=body))
        assert [c["id"] for c in r.json()] == [cid], url
        assert added[0].agency_id == lakeport_id and added[0].details["purpose"] == LOOK["purpose"]
    call([("camera.map", "success")], 200, lambda: analyst.get("/api/agency/map/points"))
    call([("camera.read", "success")], 200, lambda: analyst.get(f"/api/agency/cameras/{cid}", params=LOOK))
    r, _ = call([("footage.request_open", "success")], 201, lambda: analyst.post("/api/agency/footage-requests", json={
        "case_number": LOOK["case_number"], "purpose": "robbery", "lat": 43.0, "lon": -87.92, "radius_m": 100,
        "window_start": "2026-11-20T12:00:00Z", "window_end": "2026-11-20T13:00:00Z"}))
    rid = r.json()["id"]
    call([("footage.request_list", "success")], 200, lambda: analyst.get("/api/agency/footage-requests"))
    call([("footage.request_read", "success")], 200, lambda: analyst.get(f"/api/agency/footage-requests/{rid}"))
    call([("notification.list", "success")], 200, lambda: owner.get("/api/owner/notifications", headers=oh))
    call([("footage.owner_list", "success")], 200, lambda: owner.get("/api/owner/requests", headers=oh))
    call([("footage.answer", "success")], 200, lambda: owner.post(
        f"/api/owner/requests/{rid}/cameras/{cid}/answer", headers=oh, json={"answer": "approved"}))
    r, _ = call([("footage.upload", "success")], 201, lambda: owner.post(
        f"/api/owner/requests/{rid}/cameras/{cid}/clip", headers=oh, files={"file": ("clip.mp4", MP4, "video/mp4")}))
    eid = r.json()["id"]
    call([("evidence.list", "success")], 200,
         lambda: analyst.get(f"/api/agency/cases/{LOOK['case_number']}/evidence"))
    call([("evidence.download", "success")], 200, lambda: analyst.get(f"/api/agency/evidence/{eid}/content"))
    call([("camera.access_log", "success")], 200, lambda: owner.get(f"/api/owner/cameras/{cid}/access-log",
                                                                     headers=oh))

    # administration and oversight
    call([("user.list", "success")], 200, lambda: admin.get("/api/agency/users"))
    call([("audit.read", "success")], 200, lambda: auditor.get("/api/agency/audit"))

    # refusals are evidence too
    refused = [("http.refused", "denied")]
    _, added = call(refused, 403, lambda: owner.get("/api/agency/map/points", headers=oh))
    assert added[0].details == {"code": "agency_only"} and added[0].actor_id is not None
    _, added = call(refused, 403, lambda: auditor.post("/api/agency/search/radius", json={
        "lat": 43.0, "lon": -87.92, "radius_m": 300, **LOOK}))
    assert added[0].details == {"code": "permission_denied"} and added[0].agency_id == lakeport_id
    _, added = call(refused, 404, lambda: analyst.get("/api/agency/cameras/no-such-camera", params=LOOK))
    assert added[0].target == "GET /api/agency/cameras/{camera_id}"
    _, added = call(refused, 401, lambda: stranger.get("/api/owner/cameras"))
    assert added[0].actor_id is None and added[0].details == {"code": "not_logged_on"}
    call(refused, 401, lambda: stranger.get("/api/owner/cameras", headers={"Authorization": "Bearer forged"}))
    call(refused, 403, lambda: owner.post("/api/owner/cameras", json=camera_body(lakeport_id)))  # cookie, no header

    # the owner leaves
    call([("camera.withdraw", "success")], 200, lambda: owner.delete(f"/api/owner/cameras/{cid}", headers=oh))
    call([("auth.log_off", "success")], 204, lambda: owner.post("/api/auth/logoff", headers=oh))
    assert call.calls >= 35

    report = verify_chain(hub)
    assert report.ok, report.problem
    assert report.checked == report.head_seq == db.count(hub, "audit_log")


def run_verify(database_url: str, tmp_path) -> subprocess.CompletedProcess:
    """`rtcc audit verify` as an operator runs it: its own process, configured by environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
    env.update(RTCC_DATABASE_URL=database_url, RTCC_DATA_DIR=str(tmp_path / "cli-data"))
    return subprocess.run([sys.executable, "-m", "openrtcc.cli", "audit", "verify"], env=env,
                          capture_output=True, text=True, timeout=120)


def test_rtcc_audit_verify_names_the_first_altered_or_missing_record(world, database_url, tmp_path):
    hub = world.hub
    owner = world.owner()
    for i in range(5):
        world.camera(owner, name=f"Camera {i}", lat=43.0 + i * 0.001)
    head = db.audit_head_seq(hub)
    assert head == 8  # agency, sign-up, log-on, five cameras

    done = run_verify(database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"audit chain intact: {head} records, head at {head}" in done.stdout

    db.drop_append_only_guard(hub)
    # each tampering hits an earlier record, so each run must name the newest damage
    db.execute(hub, f"DELETE FROM audit_log WHERE seq >= {head - 1}")          # the tail
    done = run_verify(database_url, tmp_path)
    assert done.returncode == 1
    assert f"BROKEN at record {head - 1}: record {head - 1} is missing: the chain head is at {head}" in done.stderr

    db.execute(hub, "DELETE FROM audit_log WHERE seq = 5")                      # a record in the middle
    done = run_verify(database_url, tmp_path)
    assert done.returncode == 1
    assert "BROKEN at record 5: record 5 is missing (next present is 6)" in done.stderr

    db.execute(hub, """UPDATE audit_log SET details = '{"reason": "nothing to see"}' WHERE seq = 3""")
    done = run_verify(database_url, tmp_path)
    assert done.returncode == 1
    assert "BROKEN at record 3: record 3 was altered" in done.stderr


def test_audit_log_is_append_only(world):
    hub = world.hub
    world.owner()
    before = db.rows(hub, "SELECT seq, hash FROM audit_log ORDER BY seq")
    assert before
    for sql in ("UPDATE audit_log SET outcome = 'success' WHERE seq = 1",
                "UPDATE audit_log SET details = '{}'",
                "DELETE FROM audit_log WHERE seq = 1",
                "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError) as err:
            db.execute(hub, sql)
        assert "append-only" in str(err.value)
    assert db.rows(hub, "SELECT seq, hash FROM audit_log ORDER BY seq") == before
    assert verify_chain(hub).ok


def test_an_action_whose_audit_record_cannot_be_written_is_refused(world):
    hub = world.hub
    owner = world.owner()
    agency_id = world.agency().id
    head = db.audit_head_seq(hub)
    db.break_audit_inserts(hub)
    try:
        r = owner.post("/api/owner/cameras", json=camera_body(agency_id))
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "audit_unavailable"
        assert db.count(hub, "camera") == 0
        # log-on too: no session is issued that the record could not describe, right password or wrong
        sessions = db.count(hub, "session")
        for password in (PASSWORD, "Wrong-Password-1"):
            r = TestClient(world.app).post("/api/auth/logon", json={"email": owner.email, "password": password,
                                                                    "accept_banner": True})
            assert r.status_code == 503 and "token" not in r.json()
        assert db.count(hub, "session") == sessions
        assert db.count(hub, "failed_logon") == 0
        # a refusal stays a refusal even when it cannot be recorded
        assert owner.get("/api/agency/map/points").status_code == 403
    finally:
        db.repair_audit_inserts(hub)
    assert db.audit_head_seq(hub) == head
    assert db.scalar(hub, "SELECT seq FROM audit_head") == head  # the head did not move either
    assert owner.get("/api/owner/cameras").json() == []
    assert owner.post("/api/owner/cameras", json=camera_body(agency_id)).status_code == 201
    assert verify_chain(hub).ok


def test_audit_records_outlive_the_camera_they_describe(world):
    hub = world.hub
    owner = world.owner()
    cam = world.camera(owner)
    analyst = world.staff("analyst")
    assert analyst.get(f"/api/agency/cameras/{cam['id']}", params=LOOK).status_code == 200
    assert owner.delete(f"/api/owner/cameras/{cam['id']}").status_code == 200
    assert analyst.get(f"/api/agency/cameras/{cam['id']}", params=LOOK).status_code == 404  # gone from view
    target = f"camera:{cam['id']}"
    actions = [r.action for r in db.rows(hub, "SELECT action FROM audit_log WHERE target = :t ORDER BY seq",
                                         t=target)]
    assert actions == ["camera.register", "camera.read", "camera.withdraw"]
    auditor = world.staff("auditor")
    seen = [r for r in auditor.get("/api/agency/audit").json() if r["target"] == target]
    assert [r["action"] for r in seen] == ["camera.read"]  # the agency's own look stays reviewable
    assert seen[0]["details"]["purpose"] == LOOK["purpose"]
    assert verify_chain(hub).ok


def test_rtcc_audit_verify_says_when_it_cannot_read_the_log(tmp_path):
    """A wrong database setting is neither a broken nor an intact chain: exit 2, and no password shown."""
    empty = tmp_path / "empty.db"
    done = run_verify(f"sqlite:///{empty}", tmp_path)
    assert done.returncode == 2
    assert "cannot read the audit log" in done.stderr and "audit_head" in done.stderr
    assert "intact" not in done.stdout
    done = run_verify("postgresql+psycopg://rtcc:top-secret-pw@127.0.0.1:1/nowhere", tmp_path)
    assert done.returncode == 2
    assert "cannot read the audit log at postgresql+psycopg://rtcc:***@127.0.0.1:1/nowhere" in done.stderr
    assert "top-secret-pw" not in done.stderr + done.stdout
