"""Isolation: one agency never reaches another's cameras, requests, evidence, users or audit records;
one owner never reaches another's cameras; nothing on the agency side changes an owner's sharing policy."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import HARBOR, Session, World, camera_body
from tests.integration import db_probe as db

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 256
CASE = "24-0001"
WINDOW = {"window_start": "2026-11-20T12:00:00Z", "window_end": "2026-11-20T13:00:00Z"}
# a square of about 2 km around the Lakeport camera at 43.0, -87.92
AROUND_CAMERA = {"type": "Polygon", "coordinates": [[[-87.93, 42.99], [-87.91, 42.99], [-87.91, 43.01],
                                                     [-87.93, 43.01], [-87.93, 42.99]]]}
LOOK = {"purpose": "criminal_investigation", "offence": "120", "case_number": CASE}


@dataclass
class TwoAgencies:
    world: World
    owner: Session
    camera: dict
    lakeport: Session   # analyst of the agency the camera is enrolled with
    harbor: Session     # analyst of the neighbouring agency
    request_id: str
    evidence_id: str


@pytest.fixture
def two(world) -> TwoAgencies:
    owner = world.owner()
    cam = world.camera(owner)
    lakeport = world.staff("analyst")
    world.agency("harbor", HARBOR)
    harbor = world.staff("analyst", "harbor")
    r = lakeport.post("/api/agency/footage-requests", json={"case_number": CASE, "purpose": "robbery",
                                                            "lat": 43.0, "lon": -87.92, "radius_m": 100, **WINDOW})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = owner.post(f"/api/owner/requests/{rid}/cameras/{cam['id']}/clip",
                   files={"file": ("porch.mp4", MP4, "video/mp4")})
    assert r.status_code == 201, r.text
    return TwoAgencies(world, owner, cam, lakeport, harbor, rid, r.json()["id"])


def searches(cam: dict) -> list[tuple[str, dict]]:
    """Every way an agency can look for cameras, aimed at this camera."""
    seen_point = {"lat": 43.0, "lon": -87.9197}  # about 25 m east of it, inside its cone (facing east)
    return [
        ("/api/agency/search/radius", {"lat": cam["lat"], "lon": cam["lon"], "radius_m": 5000, **LOOK}),
        ("/api/agency/search/area", {"area": AROUND_CAMERA, **LOOK}),
        ("/api/agency/search/view", {**seen_point, **LOOK}),
        ("/api/agency/incident-pin", {"lat": cam["lat"], "lon": cam["lon"], "radius_m": 5000, **LOOK}),
    ]


def test_the_camera_is_visible_to_its_own_agency(two):
    """The control for the test below: every search that finds nothing for Harbor finds it for Lakeport."""
    cid = two.camera["id"]
    for url, body in searches(two.camera):
        r = two.lakeport.post(url, json=body)
        assert r.status_code == 200, (url, r.text)
        assert [c["id"] for c in r.json()] == [cid], url
    assert cid in [p[0] for p in two.lakeport.get("/api/agency/map/points").json()["points"]]
    assert two.lakeport.get(f"/api/agency/cameras/{cid}", params=LOOK).status_code == 200
    assert two.lakeport.get(f"/api/agency/footage-requests/{two.request_id}").status_code == 200
    assert [e["id"] for e in two.lakeport.get(f"/api/agency/cases/{CASE}/evidence").json()] == [two.evidence_id]
    r = two.lakeport.get(f"/api/agency/evidence/{two.evidence_id}/content")
    assert r.status_code == 200 and r.content == MP4


def test_another_agency_cannot_reach_the_camera(two):
    cid = two.camera["id"]
    access_before = db.count(two.world.hub, "camera_access")
    for url, body in searches(two.camera):
        r = two.harbor.post(url, json=body)
        assert r.status_code == 200, (url, r.text)
        assert r.json() == [], url
    points = two.harbor.get("/api/agency/map/points").json()["points"]
    assert cid not in [p[0] for p in points]
    r = two.harbor.get(f"/api/agency/cameras/{cid}", params=LOOK)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    # The owner's access log shows no Harbor look at this camera (only Harbor's own map overview row).
    rows = db.rows(two.world.hub, "SELECT camera_pk FROM camera_access WHERE agency_id = :a",
                   a=two.world.agency("harbor").id)
    assert all(r.camera_pk is None for r in rows)
    assert db.count(two.world.hub, "camera_access") - access_before == len(rows)


def test_another_agency_cannot_reach_footage_requests_or_evidence(two):
    h = two.harbor
    r = h.get(f"/api/agency/footage-requests/{two.request_id}")
    assert r.status_code == 404
    assert h.get("/api/agency/footage-requests").json() == []
    assert h.get(f"/api/agency/cases/{CASE}/evidence").json() == []
    r = h.get(f"/api/agency/evidence/{two.evidence_id}/content")
    assert r.status_code == 404 and r.content != MP4
    # Nor can it send the owner a request by pointing at the camera's location.
    r = h.post("/api/agency/footage-requests", json={"case_number": "H-1", "purpose": "fishing",
                                                     "lat": 43.0, "lon": -87.92, "radius_m": 2000, **WINDOW})
    assert r.status_code == 422 and r.json()["error"] == "no_cameras"
    assert [q["request_id"] for q in two.owner.get("/api/owner/requests").json()] == [two.request_id]
    assert db.count(two.world.hub, "footage_request") == 1


def test_another_agency_cannot_see_or_unlock_users(two):
    world = two.world
    harbor_admin = world.admin("harbor")
    emails = {u["email"] for u in harbor_admin.get("/api/agency/users").json()}
    assert emails and all(e.endswith("@harbor.test") for e in emails)
    lakeport_analyst_id = db.scalar(world.hub, "SELECT id FROM user_account WHERE email = :e", e=two.lakeport.email)
    db.execute(world.hub, f"UPDATE user_account SET locked_at = created_at WHERE id = '{lakeport_analyst_id}'")
    r = harbor_admin.post(f"/api/agency/users/{lakeport_analyst_id}/unlock")
    assert r.status_code == 404
    assert db.scalar(world.hub, "SELECT locked_at FROM user_account WHERE id = :i", i=lakeport_analyst_id)
    owner_id = db.scalar(world.hub, "SELECT id FROM user_account WHERE email = :e", e=two.owner.email)
    assert harbor_admin.post(f"/api/agency/users/{owner_id}/unlock").status_code == 404


def test_another_agency_reads_only_its_own_audit_records(two):
    world = two.world
    harbor_id, lakeport_id = world.agency("harbor").id, world.agency().id
    auditor = world.staff("auditor", "harbor")
    records = auditor.get("/api/agency/audit", params={"limit": 1000}).json()
    assert records
    seqs = [r["seq"] for r in records]
    stored = db.rows(world.hub, "SELECT seq, agency_id FROM audit_log WHERE seq IN (%s)" % ",".join(map(str, seqs)))
    assert {r.agency_id for r in stored} == {harbor_id}
    text = repr(records)
    for secret in (two.camera["id"], two.request_id, two.evidence_id, lakeport_id, CASE):
        assert secret not in text
    lakeport_auditor = world.staff("auditor")
    assert any(two.request_id in (r["target"] or "")
               for r in lakeport_auditor.get("/api/agency/audit", params={"limit": 1000}).json())


def test_an_owner_cannot_read_or_change_another_owners_camera(world):
    alice, mallory = world.owner("Alice"), world.owner("Mallory")
    cam = world.camera(alice)
    cid = cam["id"]
    hostile = camera_body(world.agency().id, name="mine now", lat=43.01)
    for r in (mallory.get(f"/api/owner/cameras/{cid}"),
              mallory.put(f"/api/owner/cameras/{cid}", json=hostile),
              mallory.delete(f"/api/owner/cameras/{cid}"),
              mallory.get(f"/api/owner/cameras/{cid}/access-log")):
        assert r.status_code == 404, r.text
        assert r.json()["error"] == "not_found"
    assert mallory.get("/api/owner/cameras").json() == []
    assert alice.get(f"/api/owner/cameras/{cid}").json() == cam
    assert db.count(world.hub, "camera", "status = 'active'") == 1


def test_an_owner_cannot_answer_or_upload_for_another_owners_camera(two):
    mallory = two.world.owner("Mallory")
    base = f"/api/owner/requests/{two.request_id}/cameras/{two.camera['id']}"
    assert mallory.post(f"{base}/answer", json={"answer": "declined"}).status_code == 404
    r = mallory.post(f"{base}/clip", files={"file": ("fake.mp4", MP4, "video/mp4")})
    assert r.status_code == 404
    assert db.count(two.world.hub, "evidence_item") == 1
    assert [q["answer"] for q in two.owner.get("/api/owner/requests").json()] == ["uploaded"]


def test_nothing_on_the_agency_side_changes_a_sharing_policy(world, app):
    owner = world.owner()
    cam = world.camera(owner, tier="integrated",
                       sharing={"mode": "emergency_only", "share_live": True, "share_recorded": False})
    cid = cam["id"]
    # No agency route replaces, patches or deletes a camera, or speaks of its sharing policy at all.
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/api/agency/"):
            assert "sharing" not in path and "policy" not in path, path
            if path.startswith("/api/agency/cameras"):
                assert not set(operations) & {"put", "patch", "delete"}, path
    admin, analyst = world.admin(), world.staff("supervisor")
    opened_up = {"sharing": {"mode": "always", "share_live": True, "share_recorded": True}, "tier": "integrated"}
    for staff in (admin, analyst):
        for method in ("PUT", "PATCH", "DELETE", "POST"):
            r = staff.client.request(method, f"/api/agency/cameras/{cid}", headers=staff.headers,
                                     json={**camera_body(world.agency().id), **opened_up})
            assert r.status_code == 405, (method, r.text)
            r = staff.client.request(method, f"/api/agency/cameras/{cid}/sharing", headers=staff.headers,
                                     json=opened_up["sharing"])
            assert r.status_code in (404, 405), (method, r.text)
        r = staff.put(f"/api/owner/cameras/{cid}", json={**camera_body(world.agency().id), **opened_up})
        assert r.status_code == 403
    assert owner.get(f"/api/owner/cameras/{cid}").json() == cam
    stored = db.rows(world.hub, "SELECT sharing_mode, share_live, share_recorded FROM camera")
    assert [(r.sharing_mode, bool(r.share_live), bool(r.share_recorded)) for r in stored] == \
        [("emergency_only", True, False)]
