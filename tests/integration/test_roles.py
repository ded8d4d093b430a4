"""Roles: the agency API is for agency staff, the owner API for owners, and each role only for its duties."""

from __future__ import annotations

import re
import uuid

from tests.conftest import camera_body
from tests.integration import db_probe as db

RADIUS = {"lat": 43.0, "lon": -87.92, "radius_m": 50, "purpose": "criminal_investigation", "offence": "220",
          "case_number": "24-0001"}
FOOTAGE = {"case_number": "24-0001", "purpose": "burglary", "lat": 43.0, "lon": -87.92, "radius_m": 200,
           "window_start": "2026-11-20T12:00:00Z", "window_end": "2026-11-20T13:00:00Z"}


def api_routes(app, prefix: str) -> list[tuple[str, str]]:
    """Every (method, path) the application serves under `prefix`, path parameters filled in."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        if path.startswith(prefix):
            filled = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
            found += [(method.upper(), filled) for method in sorted(operations)]
    return found


def test_every_agency_endpoint_refuses_owners(world, app):
    owner = world.owner()
    routes = api_routes(app, "/api/agency/")
    assert len(routes) >= 12, routes  # the listing itself works
    seq = db.audit_head_seq(world.hub)
    for method, path in routes:
        r = owner.client.request(method, path, headers=owner.headers, json={}, params={"purpose": "look around"})
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"] == "agency_only", (method, path)
    refused = db.audit_after(world.hub, seq)
    assert len(refused) == len(routes)  # each refusal is on the record
    assert {(r.action, r.outcome) for r in refused} == {("http.refused", "denied")}
    assert all(r.details == {"code": "agency_only"} for r in refused)


def test_every_owner_endpoint_refuses_agency_staff(world, app):
    routes = api_routes(app, "/api/owner/")
    assert len(routes) >= 10, routes
    for staff in (world.admin(), world.staff("analyst"), world.staff("auditor")):
        for method, path in routes:
            r = staff.client.request(method, path, headers=staff.headers, json={})
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["error"] == "owner_only", (method, path)


def test_staff_cannot_register_or_change_cameras_through_the_owner_api(world):
    owner = world.owner()
    cam = world.camera(owner)
    admin = world.admin()
    body = camera_body(world.agency().id, tier="integrated",
                       sharing={"mode": "always", "share_live": True, "share_recorded": True})
    assert admin.post("/api/owner/cameras", json=body).status_code == 403
    assert admin.put(f"/api/owner/cameras/{cam['id']}", json=body).status_code == 403
    assert admin.delete(f"/api/owner/cameras/{cam['id']}").status_code == 403
    assert db.count(world.hub, "camera") == 1
    assert owner.get(f"/api/owner/cameras/{cam['id']}").json() == cam


def test_auditor_reads_the_audit_trail_and_nothing_else(world):
    owner = world.owner()
    world.camera(owner)
    auditor = world.staff("auditor")
    for r in (auditor.post("/api/agency/search/radius", json=RADIUS),
              auditor.get("/api/agency/map/points"),
              auditor.post("/api/agency/search/view", json={"lat": 43.0, "lon": -87.92, "purpose": "look"}),
              auditor.post("/api/agency/incident-pin", json={"lat": 43.0, "lon": -87.92, "purpose": "look"}),
              auditor.get("/api/agency/footage-requests"),
              auditor.get("/api/agency/users")):
        assert r.status_code == 403 and r.json()["error"] == "permission_denied", r.text
    assert db.count(world.hub, "camera_access") == 0  # the owner's access log saw nothing either
    r = auditor.get("/api/agency/audit")
    assert r.status_code == 200
    assert any(rec["action"] == "http.refused" for rec in r.json())


def test_officer_cannot_open_footage_requests(world):
    owner = world.owner()
    world.camera(owner)
    officer = world.staff("officer")
    assert officer.post("/api/agency/search/radius", json=RADIUS).status_code == 200  # may search
    r = officer.post("/api/agency/footage-requests", json=FOOTAGE)
    assert r.status_code == 403 and r.json()["error"] == "permission_denied"
    assert officer.get("/api/agency/footage-requests").status_code == 403
    assert officer.get("/api/agency/cases/24-0001/evidence").status_code == 403
    assert db.count(world.hub, "footage_request") == 0
    assert db.count(world.hub, "notification") == 0
    assert owner.get("/api/owner/requests").json() == []
    analyst = world.staff("analyst")
    assert analyst.post("/api/agency/footage-requests", json=FOOTAGE).status_code == 201  # the analyst may


def test_only_admins_manage_users(world):
    admin = world.admin()
    victim = world.staff("officer")
    victim_id = db.scalar(world.hub, "SELECT id FROM user_account WHERE email = :e", e=victim.email)
    new_user = {"email": "sneaky@lakeport.test", "display_name": "Sneaky", "role": "admin",
                "password": "Blue-Kettle-Orbit-42"}
    for role in ("supervisor", "analyst", "officer", "auditor"):
        staff = world.staff(role)
        for r in (staff.get("/api/agency/users"), staff.post("/api/agency/users", json=new_user),
                  staff.post(f"/api/agency/users/{victim_id}/unlock")):
            assert r.status_code == 403 and r.json()["error"] == "permission_denied", (role, r.text)
    assert db.count(world.hub, "user_account", "email = :e", e="sneaky@lakeport.test") == 0
    assert admin.post("/api/agency/users", json=new_user).status_code == 201
    assert admin.get("/api/agency/users").status_code == 200


def test_admins_cannot_open_footage_requests_or_read_evidence(world):
    """Administration is not investigation: the admin role carries no footage powers."""
    owner = world.owner()
    world.camera(owner)
    admin = world.admin()
    assert admin.post("/api/agency/footage-requests", json=FOOTAGE).status_code == 403
    assert admin.get("/api/agency/cases/24-0001/evidence").status_code == 403
    assert db.count(world.hub, "footage_request") == 0


def test_user_creation_refuses_roles_and_agencies_from_the_body(world):
    admin = world.admin()
    for body, field in [({"role": "owner"}, "role"), ({"role": "superuser"}, "role"),
                        ({"agency_id": "someone-else"}, "agency_id")]:
        payload = {"email": "x-user@lakeport.test", "display_name": "X", "role": "analyst",
                   "password": "Blue-Kettle-Orbit-42", **body}
        r = admin.post("/api/agency/users", json=payload)
        assert r.status_code == 422, r.text
        assert field in r.json()["message"]
    assert db.count(world.hub, "user_account", "email = :e", e="x-user@lakeport.test") == 0
