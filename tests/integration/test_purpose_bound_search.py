"""Purpose-bound search on both backends: structured purposes, prohibited purposes, the search log, the
repeat-search alarm, supervisor approval over the camera limit, and searches shared by another agency."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from openrtcc.adapters.db.tables import search_log
from openrtcc.domain.governance import AgencyGovernance
from tests.conftest import HARBOR
from tests.plate_reads import new_source, post_reads, read_body

WHY = {"purpose": "criminal_investigation", "offence": "220", "case_number": "24-5001"}
SPOT = {"lat": 43.0, "lon": -87.92}
PLATES = "/api/agency/plates/search"
RADIUS = "/api/agency/search/radius"
APPROVALS = "/api/search-approvals"


def audit(hub, action: str) -> list:
    with hub.uow() as uow:
        found = [a for a in uow.audit.iter_records() if a.action == action]
        uow.rollback()
    return found


def logged(hub) -> list:
    with hub.uow() as uow:
        rows = list(uow.conn.execute(select(search_log).order_by(search_log.c.id)))
        uow.rollback()
    return rows


def notices(session) -> list[dict]:
    r = session.get(f"{APPROVALS}/notices")
    assert r.status_code == 200, r.text
    return r.json()


def test_the_purpose_list_marks_what_the_agency_prohibits(world):
    doc = world.staff("officer").get(f"{APPROVALS}/purposes").json()
    prohibited = {p["code"] for p in doc["purposes"] if p["prohibited"]}
    assert prohibited == {"immigration_enforcement", "protest_activity", "reproductive_health"}
    assert {"criminal_investigation", "missing_person"} <= {p["code"] for p in doc["purposes"]}
    assert {"220", "240", "NONE"} <= {o["code"] for o in doc["offences"]}
    assert doc["camera_limit"] == 50 and doc["repeat_threshold"] == 3
    assert world.owner().get(f"{APPROVALS}/purposes").status_code == 403


def test_each_bad_purpose_is_refused_with_its_code_and_audited(world, hub):
    analyst = world.staff("analyst")
    bad = [
        ({"offence": "220", "case_number": "24-1"}, "purpose_required"),
        ({**WHY, "purpose": "looking for my ex's car"}, "unknown_purpose"),  # free text alone
        ({**WHY, "offence": None}, "offence_required"),
        ({**WHY, "offence": "ARSONISH"}, "unknown_offence"),
        ({**WHY, "offence": "NONE"}, "offence_required"),  # an investigation names its offence
        ({**WHY, "case_number": " "}, "case_number_required"),
        ({**WHY, "case_number": "24 1; drop"}, "bad_case_number"),
        ({**WHY, "note": "x" * 301}, "bad_note"),
    ]
    for body, code in bad:
        r = analyst.post(PLATES, json={**body, "plate": "ABC123"})
        assert r.status_code == 422 and r.json()["error"] == code, (body, r.text)
        r = analyst.post(RADIUS, json={**body, **SPOT, "radius_m": 100})
        assert r.status_code == 422 and r.json()["error"] == code, (body, r.text)
    codes = [a.details["code"] for a in audit(hub, "plate.search")]
    assert codes == [code for _, code in bad]
    assert [a.outcome for a in audit(hub, "camera.search_radius")] == ["denied"] * len(bad)
    assert all("ex's car" not in str(a.details) for a in audit(hub, "plate.search"))  # the code, not the text
    assert logged(hub) == []  # an unparsed purpose is no search
    for hostile in ({"note": "stolen\x00car"}, {"approval_id": "x'; drop table"}):  # NUL: PostgreSQL refuses it
        r = analyst.post(PLATES, json={**WHY, "plate": "ABC123", **hostile})
        assert r.status_code == 422 and r.json()["error"] == "invalid_input", r.text


def test_a_prohibited_purpose_is_refused_logged_and_told_to_supervisors(world, hub):
    owner = world.owner()
    cam = world.camera(owner)
    supervisor, analyst = world.staff("supervisor"), world.staff("analyst")
    immigration = {"purpose": "immigration_enforcement", "offence": "NONE", "case_number": "24-9999"}
    r = analyst.post(PLATES, json={**immigration, "plate": "ABC123"})
    assert r.status_code == 403 and r.json()["error"] == "purpose_prohibited", r.text
    r = analyst.post(RADIUS, json={**immigration, "purpose": "protest_activity", **SPOT, "radius_m": 200})
    assert r.status_code == 403 and r.json()["error"] == "purpose_prohibited", r.text
    refused = audit(hub, "plate.search") + audit(hub, "camera.search_radius")
    assert [(a.outcome, a.details["code"], a.details["purpose"]) for a in refused] == [
        ("denied", "purpose_prohibited", "immigration_enforcement"),
        ("denied", "purpose_prohibited", "protest_activity")]
    assert [(r.kind, r.purpose, r.outcome) for r in logged(hub)] == [
        ("plate", "immigration_enforcement", "refused"), ("camera", "protest_activity", "refused")]
    told = [n for n in notices(supervisor) if n["kind"] == "search_prohibited"]
    assert len(told) == 2 and "Civil immigration enforcement" in told[1]["body"]
    assert notices(analyst) == []
    assert owner.get(f"/api/owner/cameras/{cam['id']}/access-log").json() == []  # nothing was looked at
    # An administrator may lift a prohibition; the same search then goes through.
    with hub.uow() as uow:
        uow.governance.save(AgencyGovernance(world.agency().id, prohibited_purposes=frozenset()), None,
                            hub.clock.now())
        uow.commit_bookkeeping()
    assert analyst.post(PLATES, json={**immigration, "plate": "ABC123"}).status_code == 200


def test_repeated_searches_for_one_plate_alarm_every_supervisor_once_per_crossing(world, hub, clock):
    supervisors = [world.staff("supervisor"), world.staff("supervisor")]
    analyst, other = world.staff("analyst"), world.staff("analyst")
    search = lambda who, plate: who.post(PLATES, json={**WHY, "plate": plate})  # noqa: E731
    for _ in range(2):
        assert search(analyst, "ABC123").status_code == 200
    assert search(other, "ABC123").status_code == 200  # someone else's search does not count
    assert search(analyst, "XYZ987").status_code == 200  # nor does another plate
    r = analyst.post(PLATES, json={**WHY, "plate": "ABC123", "page_size": 1})
    assert r.status_code == 200
    alarms = audit(hub, "search.repeat_alarm")
    assert [(a.details["plate"], a.details["count"], a.details["supervisors"]) for a in alarms] == [("ABC###", 3, 2)]
    for s in supervisors:
        told = [n for n in notices(s) if n["kind"] == "search_repeat"]
        assert len(told) == 1 and "ABC###" in told[0]["subject"] + told[0]["body"]
        assert "ABC123" not in told[0]["subject"] + told[0]["body"]
    for _ in range(2):
        search(analyst, "ABC123")
    assert len(audit(hub, "search.repeat_alarm")) == 1  # 4 and 5: the same crossing
    search(analyst, "abc-123")  # the plate as typed differently is the same plate
    assert [a.details["count"] for a in audit(hub, "search.repeat_alarm")] == [3, 6]
    clock.advance(days=8)  # past the 7-day window the count starts again
    search(analyst, "ABC123")
    assert len(audit(hub, "search.repeat_alarm")) == 2
    rows = logged(hub)
    assert all(r.plate_hash and "ABC" not in r.plate_hash for r in rows)  # the log keeps keyed hashes only
    assert len({r.plate_hash for r in rows}) == 2


def _crowded(world, hub, n: int = 3, limit: int = 2) -> list[str]:
    owner = world.owner()
    ids = [world.camera(owner, name=f"cam {i}", lat=43.0 + i * 0.0002, lon=-87.92)["id"] for i in range(n)]
    with hub.uow() as uow:
        uow.governance.save(AgencyGovernance(world.agency().id, search_camera_limit=limit), None, hub.clock.now())
        uow.commit_bookkeeping()
    return ids


def test_a_search_over_the_camera_limit_waits_for_a_supervisor(world, hub, clock):
    cams = _crowded(world, hub)
    analyst, supervisor, second = world.staff("analyst"), world.staff("supervisor"), world.staff("supervisor")
    wide = {**WHY, **SPOT, "radius_m": 200}
    r = analyst.post(RADIUS, json=wide)
    assert r.status_code == 403 and r.json()["error"] == "approval_required", r.text
    assert r.json()["details"] == {"camera_count": 3, "limit": 2}
    assert analyst.post(RADIUS, json={**wide, "radius_m": 10}).status_code == 200  # one camera: no approval

    ask = {**WHY, **SPOT, "radius_m": 200, "kind": "camera", "justification": "canvass the whole block for a van"}
    r = analyst.post(APPROVALS, json={**ask, "justification": "because"})
    assert r.status_code == 422 and r.json()["error"] == "justification_required"
    r = analyst.post(APPROVALS, json={**ask, "radius_m": 10})
    assert r.status_code == 422 and r.json()["error"] == "approval_not_needed"
    r = analyst.post(APPROVALS, json={**ask, "purpose": "protest_activity", "offence": "NONE"})
    assert r.status_code == 403 and r.json()["error"] == "purpose_prohibited"
    r = analyst.post(APPROVALS, json=ask)
    assert r.status_code == 201, r.text
    approval = r.json()
    assert approval["status"] == "pending" and approval["camera_count"] == 3
    assert any(n["kind"] == "search_approval" for n in notices(supervisor))

    r = analyst.post(RADIUS, json={**wide, "approval_id": approval["id"]})
    assert r.status_code == 403 and r.json()["error"] == "approval_invalid"  # still pending
    assert analyst.post(f"{APPROVALS}/{approval['id']}/approve", json={}).status_code == 403  # not a supervisor
    assert [a["id"] for a in supervisor.get(APPROVALS).json()] == [approval["id"]]
    assert [a["id"] for a in analyst.get(APPROVALS).json()] == [approval["id"]]
    r = supervisor.post(f"{APPROVALS}/{approval['id']}/approve", json={"note": "ok for this case"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    r = second.post(f"{APPROVALS}/{approval['id']}/deny", json={"note": "too late"})
    assert r.status_code == 409 and r.json()["error"] == "already_decided"
    assert any("approved" in n["subject"] for n in notices(analyst))

    r = analyst.post(RADIUS, json={**wide, "approval_id": approval["id"]})
    assert r.status_code == 200 and sorted(c["id"] for c in r.json()) == sorted(cams)
    for changed in ({"radius_m": 300}, {"case_number": "24-5002"}, {"offence": "120"}, {"lat": 43.0001}):
        r = analyst.post(RADIUS, json={**wide, **changed, "approval_id": approval["id"]})
        assert r.status_code == 403 and r.json()["error"] == "approval_invalid", changed
    r = second.post(RADIUS, json={**wide, "approval_id": approval["id"]})  # another user's approval
    assert r.status_code == 403 and r.json()["error"] == "approval_invalid"
    clock.advance(hours=25)
    analyst = world.log_on(analyst.email, secret=analyst.totp_secret)  # the old session timed out too
    r = analyst.post(RADIUS, json={**wide, "approval_id": approval["id"]})
    assert r.status_code == 403 and "expired" in r.json()["message"]

    done = [r for r in logged(hub) if r.approval_id]
    assert [(r.outcome, r.camera_count) for r in done] == [("done", 3)]
    assert [a.outcome for a in audit(hub, "search.approval_approve")] == ["success"]
    assert [a.details["code"] for a in audit(hub, "search.approval_deny")] == ["already_decided"]


def test_a_supervisor_cannot_approve_their_own_search_and_a_denial_needs_a_reason(world, hub):
    _crowded(world, hub)
    supervisor, other = world.staff("supervisor"), world.staff("supervisor")
    ask = {**WHY, **SPOT, "radius_m": 200, "kind": "camera", "justification": "canvass the whole block for a van"}
    mine = supervisor.post(APPROVALS, json=ask).json()
    r = supervisor.post(f"{APPROVALS}/{mine['id']}/approve", json={})
    assert r.status_code == 403 and r.json()["error"] == "own_request"
    assert [a.details["code"] for a in audit(hub, "search.approval_approve")] == ["own_request"]
    r = other.post(f"{APPROVALS}/{mine['id']}/deny", json={})
    assert r.status_code == 422 and r.json()["error"] == "note_required"
    r = other.post(f"{APPROVALS}/{mine['id']}/deny", json={"note": "use a smaller radius"})
    assert r.status_code == 200 and r.json()["status"] == "denied"
    r = supervisor.post(RADIUS, json={**WHY, **SPOT, "radius_m": 200, "approval_id": mine["id"]})
    assert r.status_code == 403 and r.json()["error"] == "approval_invalid"
    # Another agency's supervisor sees nothing of it and cannot decide it.
    world.agency("harbor", jurisdiction=HARBOR)
    harbor = world.staff("supervisor", "harbor")
    assert harbor.get(f"{APPROVALS}?decided=true").json() == []
    assert harbor.post(f"{APPROVALS}/{mine['id']}/approve", json={}).status_code == 404
    assert other.post(f"{APPROVALS}/a%00b/approve", json={}).status_code == 422
    r = other.post(f"{APPROVALS}/{mine['id']}/deny", json={"note": "no\x00"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"


def test_shared_reads_and_cameras_only_with_a_live_grant_for_the_purpose(world, hub, clock, anon):
    world.agency("harbor", jurisdiction=HARBOR)
    key, _ = new_source(world, "harbor")
    read = read_body("h-1", "SHR001", clock.now() - timedelta(hours=1), lon=-87.75)
    assert post_reads(anon, key, [read]).status_code == 200
    world.camera(world.owner(), "harbor", lat=43.0, lon=-87.75)
    analyst = world.staff("analyst")
    look = {**WHY, "purpose": "stolen_vehicle", "offence": "240", "plate": "SHR001", "include_shared": True}
    assert analyst.post(PLATES, json=look).json()["results"] == []  # denied by default
    harbor_admin = world.admin("harbor")
    for kind in ("plate_reads", "camera_locations"):
        r = harbor_admin.post("/api/sharing/grants", json={
            "to_agency": "lakeport", "data_kind": kind, "purposes": ["stolen_vehicle"],
            "expires_at": (clock.now() + timedelta(days=30)).isoformat()})
        assert r.status_code == 201, r.text
    r = analyst.post(PLATES, json=look)
    assert r.status_code == 200, r.text
    got = r.json()["results"]
    assert [(x["plate"], x["agency_id"]) for x in got] == [("SHR001", world.agency("harbor").id)]
    assert analyst.post(PLATES, json={**look, "include_shared": False}).json()["results"] == []
    assert analyst.post(PLATES, json={**look, "purpose": "criminal_investigation"}).json()["results"] == []
    cams = analyst.post(RADIUS, json={**WHY, "purpose": "stolen_vehicle", "offence": "240", "lat": 43.0,
                                      "lon": -87.75, "radius_m": 100, "include_shared": True})
    assert cams.status_code == 200 and len(cams.json()) == 1
    lakeport, harbor = world.agency().id, world.agency("harbor").id
    searches = audit(hub, "plate.search")
    assert len([a for a in searches if a.details.get("shared_from") == [harbor]]) == 1
    mirrored = [a for a in searches + audit(hub, "camera.search_radius") if a.agency_id == harbor]
    assert [(a.target, a.details["data_kind"]) for a in mirrored] == [
        (f"agency:{lakeport}", "plate_reads"), (f"agency:{lakeport}", "camera_locations")]
    clock.advance(days=31)  # the grants expired: nothing shared any more
    analyst = world.log_on(analyst.email, secret=analyst.totp_secret)
    assert analyst.post(PLATES, json={**look, "since": (clock.now() - timedelta(days=40)).isoformat()}
                        ).json()["results"] == []
