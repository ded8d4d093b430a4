"""Sharing grants on both backends, through the API: deny by default, the grant rules with a clear refusal
each (audited, nothing written), federal rules, expiry with the clock, revocation, audit on both sides and
isolation of each agency's grant lists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from openrtcc.adapters.db.tables import audit_log, notification, sharing_grant
from openrtcc.domain.accounts import Role
from openrtcc.domain.governance import AgencyKind, DataKind
from openrtcc.services.hub import Actor
from openrtcc.services.sharing import agencies_sharing, audit_shared_access, list_grants
from tests.conftest import HARBOR

INVESTIGATION = "criminal_investigation"


def grant_body(clock, to: str = "harbor", **kw) -> dict:
    body = {"to_agency": to, "data_kind": "plate_reads", "purposes": [INVESTIGATION],
            "expires_at": (clock.now() + timedelta(days=30)).isoformat()}
    body.update(kw)
    return body


def sharing_with(hub, to_id: str, kind=DataKind.PLATE_READS, purpose=INVESTIGATION) -> list[str]:
    with hub.uow() as uow:
        return agencies_sharing(uow, to_id, kind, purpose, hub.clock.now())


def audit_rows(hub, action: str, **where) -> list:
    q = select(audit_log).where(audit_log.c.action == action)
    for column, value in where.items():
        q = q.where(audit_log.c[column] == value)
    with hub.extras["engine"].connect() as conn:
        return list(conn.execute(q.order_by(audit_log.c.seq)))


def grant_count(hub) -> int:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(func.count()).select_from(sharing_grant)).scalar_one()


def set_kind(hub, agency_id: str, kind: AgencyKind) -> None:
    with hub.uow() as uow:
        uow.governance.set_kind(agency_id, kind, None, hub.clock.now())
        uow.commit_bookkeeping()


def test_grant_lifecycle_expiry_revocation_and_audit_on_both_sides(hub, world, clock):
    lake, harbor, bay = world.agency(), world.agency("harbor", HARBOR), world.agency("bay", HARBOR)
    assert sharing_with(hub, harbor.id) == []  # denied by default
    r = world.admin().post("/api/sharing/grants", json=grant_body(clock, note="MOU 2026-4"))
    assert r.status_code == 201, r.text
    g = r.json()
    assert (g["direction"], g["from_agency"]["slug"], g["to_agency"]["slug"], g["status"]) == (
        "given", "lakeport", "harbor", "live")
    assert sharing_with(hub, harbor.id) == [lake.id]
    assert sharing_with(hub, harbor.id, purpose="stolen_vehicle") == []  # only the purposes named
    assert sharing_with(hub, harbor.id, kind=DataKind.CAMERA_LOCATIONS) == []  # only the kind named
    assert sharing_with(hub, bay.id) == [] and sharing_with(hub, lake.id) == []  # only the recipient named

    received = world.admin("harbor").get("/api/sharing/grants", params={"direction": "received"}).json()
    assert [(x["id"], x["direction"]) for x in received] == [(g["id"], "received")]
    assert world.admin("harbor").get("/api/sharing/grants", params={"direction": "given"}).json() == []
    assert world.admin("bay").get("/api/sharing/grants").json() == []  # a third agency sees nothing of it
    with hub.extras["engine"].connect() as conn:  # the recipient's administrator is told
        (told,) = conn.execute(select(notification).where(notification.c.kind == "sharing")).all()
    assert told.subject == "Lakeport Police shares plate reads with your agency" and "until" in told.body
    for agency in (lake, harbor):
        (rec,) = audit_rows(hub, "sharing.grant_create", agency_id=agency.id, outcome="success")
        assert rec.target == f"sharing_grant:{g['id']}" and rec.details["purposes"] == [INVESTIGATION]

    assert world.admin("harbor").post(f"/api/sharing/grants/{g['id']}/revoke").status_code == 404  # not theirs
    r = world.admin().post(f"/api/sharing/grants/{g['id']}/revoke")
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    assert sharing_with(hub, harbor.id) == []
    again = world.admin().post(f"/api/sharing/grants/{g['id']}/revoke")
    assert (again.status_code, again.json()["error"]) == (409, "already_revoked")
    assert len(audit_rows(hub, "sharing.grant_revoke", outcome="success")) == 2  # one in each agency
    assert len(audit_rows(hub, "sharing.grant_revoke", outcome="denied")) == 2  # harbor's try, the second one

    # Once revoked, a new grant may replace it; it ends by itself at its expiry.
    r = world.admin().post("/api/sharing/grants", json=grant_body(clock, purposes=["stolen_vehicle"]))
    assert r.status_code == 201, r.text
    assert sharing_with(hub, harbor.id, purpose="stolen_vehicle") == [lake.id]
    clock.advance(days=30, microseconds=-1)
    assert sharing_with(hub, harbor.id, purpose="stolen_vehicle") == [lake.id]
    clock.advance(microseconds=1)  # the expiry itself is already outside
    assert sharing_with(hub, harbor.id, purpose="stolen_vehicle") == []
    auditor = Actor("auditor-1", Role.AUDITOR, lake.id)
    assert sorted(v.status for v in list_grants(hub, auditor)) == ["expired", "revoked"]


def test_each_refusal_is_clear_audited_and_writes_nothing(hub, world, clock):
    world.agency(), world.agency("harbor", HARBOR)
    admin = world.admin()
    cases = [
        (grant_body(clock, to="nowhere"), 404, "unknown_agency"),
        (grant_body(clock, to="lakeport"), 422, "self_grant"),
        (grant_body(clock, purposes=["because I asked"]), 422, "unknown_purpose"),
        (grant_body(clock, purposes=[INVESTIGATION, "immigration_enforcement"]), 403, "purpose_prohibited"),
        (grant_body(clock, data_kind="hot_lists"), 422, "hotlist_purpose_required"),
        (grant_body(clock, expires_at=(clock.now() + timedelta(days=366)).isoformat()), 422, "expiry_too_long"),
        (grant_body(clock, expires_at=(clock.now() - timedelta(hours=1)).isoformat()), 422, "bad_expiry"),
        (grant_body(clock, federal_one_to_one=True), 422, "not_federal"),
        (grant_body(clock, to="har\x00bor"), 404, "unknown_agency"),  # PostgreSQL refuses NUL in text: not a 500
        (grant_body(clock, note="MOU\x00 7"), 422, "bad_note"),
    ]
    for body, status, code in cases:
        r = admin.post("/api/sharing/grants", json=body)
        assert (r.status_code, r.json()["error"]) == (status, code), body
    assert admin.post("/api/sharing/grants", json=grant_body(clock, purposes=[])).status_code == 422
    assert admin.post("/api/sharing/grants", json={**grant_body(clock), "expires_at": "2026-12-01T00:00:00"}
                      ).status_code == 422  # no time zone
    assert admin.post("/api/sharing/grants/ab%00c/revoke").status_code == 422
    analyst = world.staff("analyst")
    r = analyst.post("/api/sharing/grants", json=grant_body(clock))
    assert (r.status_code, r.json()["error"]) == (403, "permission_denied")
    assert grant_count(hub) == 0
    denied = audit_rows(hub, "sharing.grant_create", outcome="denied")
    assert [d.details["error"] for d in denied] == [c for _b, _s, c in cases] + ["permission_denied"]

    assert admin.post("/api/sharing/grants", json=grant_body(clock)).status_code == 201
    r = admin.post("/api/sharing/grants", json=grant_body(clock, purposes=["stolen_vehicle"]))
    assert (r.status_code, r.json()["error"]) == (409, "grant_exists")  # one live grant per pair and kind
    assert grant_count(hub) == 1


def test_federal_access_only_through_an_acknowledged_one_to_one_grant(hub, world, clock):
    world.agency()
    fed, county = world.agency("fbi", HARBOR), world.agency("county", HARBOR)
    set_kind(hub, fed.id, AgencyKind.FEDERAL)
    admin = world.admin()
    r = admin.post("/api/sharing/grants", json=grant_body(clock, to="fbi"))
    assert (r.status_code, r.json()["error"]) == (403, "federal_acknowledgement_required")
    r = admin.post("/api/sharing/grants", json=grant_body(clock, to="fbi", federal_one_to_one=True,
                                                          expires_at=(clock.now() + timedelta(days=91)).isoformat()))
    assert (r.status_code, r.json()["error"]) == (422, "expiry_too_long")
    r = admin.post("/api/sharing/grants", json=grant_body(clock, to="fbi", federal_one_to_one=True))
    assert r.status_code == 201 and r.json()["federal_one_to_one"] is True, r.text
    assert sharing_with(hub, fed.id) == [world.agency().id]

    # A grant made to a local agency does not follow it when it becomes federal.
    assert admin.post("/api/sharing/grants", json=grant_body(clock, to="county")).status_code == 201
    assert sharing_with(hub, county.id) == [world.agency().id]
    set_kind(hub, county.id, AgencyKind.FEDERAL)
    assert sharing_with(hub, county.id) == []
    kinds = {a["slug"]: a["kind"] for a in admin.get("/api/sharing/agencies").json()}
    assert kinds == {"fbi": "federal", "county": "federal"}


def test_a_shared_access_is_audited_in_both_agencies(hub, world):
    lake, harbor = world.agency(), world.agency("harbor", HARBOR)
    investigator = Actor("u-1", Role.ANALYST, harbor.id, "10.0.0.9")
    with hub.uow() as uow:
        audit_shared_access(uow, investigator, lake.id, DataKind.PLATE_READS, "sharing.plate_search",
                            case="24-001", results=3)
        uow.commit()
    (mine,) = audit_rows(hub, "sharing.plate_search", agency_id=harbor.id)
    (theirs,) = audit_rows(hub, "sharing.plate_search", agency_id=lake.id)
    assert (mine.actor_id, mine.target, mine.details["source_agency"], mine.details["case"]) == (
        "u-1", f"agency:{lake.id}", lake.id, "24-001")
    assert (theirs.actor_id, theirs.target, theirs.details["acting_agency"], theirs.details["results"]) == (
        "u-1", f"agency:{harbor.id}", harbor.id, 3)


def test_the_cli_grants_lists_and_revokes(settings, hub, world, monkeypatch, capsys):
    from openrtcc.cli import main

    lake, harbor = world.agency(), world.agency("harbor", HARBOR)
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.resolved_database_url)
    base = ["sharing", "grant", "--from", "lakeport", "--to", "harbor", "--kind", "camera_locations"]
    assert main([*base, "--purpose", "protest_activity", "--days", "30"]) == 1
    assert "prohibits the purpose protest_activity" in capsys.readouterr().err
    assert main([*base, "--purpose", INVESTIGATION, "--days", "400"]) == 1
    assert "expiry_too_long" in capsys.readouterr().err
    assert main([*base, "--purpose", INVESTIGATION, "--expires", "next week"]) == 1
    assert "not an ISO date" in capsys.readouterr().err
    assert grant_count(hub) == 0

    assert main([*base, "--purpose", INVESTIGATION, "--purpose", "missing_person", "--days", "30",
                 "--note", "MOU 7"]) == 0
    grant_id = capsys.readouterr().out.split()[1].rstrip(":")
    assert sharing_with(hub, harbor.id, DataKind.CAMERA_LOCATIONS, "missing_person") == [lake.id]
    assert main(["sharing", "list", "--agency", "harbor"]) == 0
    listed = capsys.readouterr().out
    assert grant_id in listed and "received" in listed and "criminal_investigation,missing_person" in listed
    assert main(["sharing", "revoke", grant_id, "--agency", "harbor"]) == 1  # only the giver revokes
    assert main(["sharing", "revoke", grant_id, "--agency", "lakeport"]) == 0
    assert sharing_with(hub, harbor.id, DataKind.CAMERA_LOCATIONS, "missing_person") == []
    (made,) = audit_rows(hub, "sharing.grant_create", agency_id=lake.id, outcome="success")
    assert made.actor_id == "system:rtcc-sharing-cli"
