"""The demo city on both backends: inside the jurisdictions, every role, working log-ins, seeded once, audited."""

from __future__ import annotations

import json
import time

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openrtcc.adapters.db.tables import agency, audit_log, camera, owner_profile, user
from openrtcc.demo.city import BUSINESS, DEMO_OWNERS, STAFF_ROLES, seed_demo_city
from openrtcc.domain.errors import Conflict
from openrtcc.domain.geo import Point, area_from_geojson
from openrtcc.services.audit_trail import verify_chain

CAMERAS = 300


@pytest.fixture
def seeded(hub) -> dict:
    return seed_demo_city(hub, cameras=CAMERAS)


def _rows(hub, query) -> list:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(query).all()


def _log_on(client: TestClient, email: str, password: str, code: str | None = None):
    body = {"email": email, "password": password, "accept_banner": True}
    if code:
        body["code"] = code
    return client.post("/api/auth/logon", json=body)


def test_every_camera_lies_inside_its_agencys_jurisdiction(hub, seeded):
    areas = {r.id: area_from_geojson(r.jurisdiction) for r in _rows(hub, select(agency))}
    cams = _rows(hub, select(camera.c.agency_id, camera.c.lat, camera.c.lon, camera.c.address))
    assert len(cams) == CAMERAS
    assert [c for c in cams if not areas[c.agency_id].contains(Point(c.lat, c.lon))] == []
    assert {c.agency_id for c in cams} == set(areas)  # both agencies have cameras


def test_both_agencies_every_role_and_every_kind_of_owner_exist(hub, seeded):
    slugs = {r.slug for r in _rows(hub, select(agency))}
    assert slugs == {"lakeport-pd", "harbor-county-so"}
    staff = _rows(hub, select(user.c.agency_id, user.c.role).where(user.c.agency_id.is_not(None)))
    for agency_id in {s.agency_id for s in staff}:
        assert {s.role for s in staff if s.agency_id == agency_id} == {r.value for r in STAFF_ROLES}
    kinds = {r.kind for r in _rows(hub, select(owner_profile.c.kind))}
    assert kinds == {"resident", "business", "hoa"}
    # Only the demo owners can log on; the thousands of other owners have no password at all.
    with_password = _rows(hub, select(user.c.email).where(user.c.role == "owner", user.c.password_hash.is_not(None)))
    assert sorted(r.email for r in with_password) == sorted(p.email for p in DEMO_OWNERS)


def test_demo_logins_work_with_password_and_totp(app, clock, seeded):
    client = TestClient(app)
    code = pyotp.TOTP(seeded["totp_secret"]).at(clock.now())
    for acct in seeded["accounts"]:
        r = _log_on(client, acct["email"], seeded["password"], None if acct["role"] == "owner" else code)
        assert r.status_code == 200, (acct, r.text)
        assert r.json()["role"] == acct["role"]
        assert r.json()["mfa_enrolment_needed"] is False  # agency staff are enrolled already


def test_agency_login_without_a_valid_code_is_refused(app, seeded):
    client = TestClient(app)
    r = _log_on(client, "analyst@police.lakeport.example", seeded["password"], "000000")
    assert r.status_code == 401


def test_analyst_sees_the_map_and_the_owner_sees_history(app, hub, clock, seeded):
    client = TestClient(app)
    code = pyotp.TOTP(seeded["totp_secret"]).at(clock.now())
    token = _log_on(client, "analyst@police.lakeport.example", seeded["password"], code).json()["token"]
    points = client.get("/api/agency/map/points", headers={"Authorization": f"Bearer {token}"}).json()["points"]
    city_id = _rows(hub, select(agency.c.id).where(agency.c.slug == "lakeport-pd"))[0].id
    active = _rows(hub, select(func.count()).select_from(camera)
                   .where(camera.c.agency_id == city_id, camera.c.status == "active"))[0][0]
    assert len(points) == active > 0

    owner = _log_on(client, BUSINESS.email, seeded["password"]).json()["token"]
    headers = {"Authorization": f"Bearer {owner}"}
    answers = {r["answer"] for r in client.get("/api/owner/requests", headers=headers).json()}
    assert "uploaded" in answers
    notes = client.get("/api/owner/notifications", headers=headers).json()
    assert any("asks for footage" in n["subject"] for n in notes)


def test_a_second_seed_is_refused_and_changes_nothing(hub, seeded):
    before = _rows(hub, select(func.count()).select_from(camera))[0][0]
    with pytest.raises(Conflict):
        seed_demo_city(hub, cameras=CAMERAS)
    assert _rows(hub, select(func.count()).select_from(camera))[0][0] == before


def test_the_audit_chain_verifies_after_seeding(hub, seeded):
    report = verify_chain(hub)
    assert report.ok, report.problem
    seeds = _rows(hub, select(audit_log.c.details).where(audit_log.c.action == "demo.seed"))
    assert {d.details["step"] for d in seeds} == {"agency", "cameras", "owners"}


def test_rtcc_demo_seeds_once_and_demo_code_prints_the_current_code(tmp_path, monkeypatch, capsys):
    from openrtcc.cli import main

    monkeypatch.setenv("RTCC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RTCC_DATABASE_URL", raising=False)
    assert main(["demo", "--seed-only", "--fresh", "--cameras", "150", "--data-dir", str(tmp_path)]) == 0
    logins_file = tmp_path / "demo-logins.json"
    assert logins_file.stat().st_mode & 0o777 == 0o600  # it holds the demo password and TOTP secret
    banner = capsys.readouterr().out
    assert "analyst@police.lakeport.example" in banner and "150 cameras" in banner

    assert main(["demo-code", "--data-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.strip()
    totp = pyotp.TOTP(json.loads(logins_file.read_text())["totp_secret"])
    assert printed in {totp.now(), totp.at(time.time() - 30)}  # the step may turn meanwhile


def test_the_demo_publishes_its_governance_on_the_public_portal(app, seeded):
    """No log-in: the policy, the grant to the county, the county's list applied, searches by purpose with the
    refused one, and a signed anchor are there to see."""
    client = TestClient(app)
    portal = client.get("/api/public/transparency/lakeport-pd").json()
    assert "No facial recognition" in portal["policy_text"]
    assert [(g["data_kind"], g["agency_kind"]) for g in portal["access"]["grants"]] == [("plate_reads", "county")]
    assert any(h["shared_from"] and h["name"] == "Harbor County stolen vehicles" for h in portal["hot_lists"])
    refused = {s["purpose"]: s["refused"] for s in portal["searches"]["by_purpose"]}
    assert refused["civil_traffic"] == 1
    assert "Civil traffic or parking enforcement" in portal["search_rules"]["prohibited_purposes"]
    assert client.get("/api/public/audit/anchors").json()
    assert "on legal hold" in seeded["summary"]
