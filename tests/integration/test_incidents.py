"""Incidents and operator actions on both backends: opened by an operator, acknowledged, assigned (supervisors
only), escalated, closed, each step on the timeline and in the audit trail, announced on the bus only after it
committed; never visible to another agency; an incident's emergency opens emergency-only cameras near it.
Alerts get the same acknowledge / assign / escalate."""

from __future__ import annotations

import pytest

from openrtcc.domain.access import AccessKind, AccessRequest, decide_access
from openrtcc.domain.cameras import CameraStatus, SharingMode, SharingPolicy, Tier
from openrtcc.domain.command_events import AlertChanged, EmergencyChanged, IncidentChanged
from openrtcc.domain.geo import Point
from openrtcc.services.emergencies import active_emergencies
from tests.conftest import HARBOR
from tests.heard_events import Heard, audit_records
from tests.plate_reads import JPEG, NCIC_LIST, b64, earlier, import_list, new_source, post_reads, read_body

BODY = {"category": "burglary", "priority": 2, "title": "Break-in at the hardware store", "lat": 43.0,
        "lon": -87.92, "address": "12 Main St", "description": "Rear door forced."}


def test_an_operator_works_an_incident_from_open_to_closed(world, hub, backend):
    heard = Heard(hub, IncidentChanged, lambda uow, e: uow.incidents.get(e.incident.agency_id, e.incident.id))
    officer, supervisor = world.staff("officer"), world.staff("supervisor")
    for bad, code in [({"priority": 9}, "invalid_input"), ({"category": "Shots Fired!"}, "bad_category"),
                      ({"lat": 44.5}, "outside_jurisdiction"), ({"title": "x"}, "bad_title")]:
        r = officer.post("/api/incidents", json=BODY | bad)
        assert (r.status_code, r.json()["error"]) == (422, code), r.text
    r = officer.post("/api/incidents", json=BODY)
    assert r.status_code == 201, r.text
    inc = r.json()
    assert (inc["status"], inc["source"], inc["category"], inc["assigned_to"]) == ("new", "operator", "burglary", None)
    url = f"/api/incidents/{inc['id']}"

    assert officer.post(f"{url}/acknowledge").json()["status"] == "acknowledged"
    again = officer.post(f"{url}/acknowledge")
    assert (again.status_code, again.json()["error"]) == (409, "already_acknowledged")
    assert officer.post(f"{url}/assign", json={"user_id": "x"}).status_code == 403  # supervisors assign
    people = {p["role"]: p for p in supervisor.get("/api/incidents/assignees").json()}
    assert set(people) == {"officer", "supervisor"}  # the admin takes no incidents
    stranger = world.staff("officer", slug="harbor") if world.agency("harbor", HARBOR) else None
    r = supervisor.post(f"{url}/assign", json={"user_id": _user_id(hub, stranger.email)})
    assert (r.status_code, r.json()["error"]) == (422, "bad_assignee")
    r = supervisor.post(f"{url}/assign", json={"user_id": people["officer"]["id"], "note": "closest unit"})
    assert (r.json()["status"], r.json()["assigned_name"]) == ("assigned", "Officer")
    assert officer.post(f"{url}/escalate", json={"note": "suspect armed"}).json()["escalated_at"] is not None
    assert officer.post(f"{url}/escalate").json()["error"] == "already_escalated"
    assert officer.post(f"{url}/disposition", json={"disposition": "closed_by_cad"}).status_code == 422
    done = officer.post(f"{url}/disposition", json={"disposition": "report_taken", "note": "RMS 26-118"}).json()
    assert (done["status"], done["disposition"], done["disposition_note"]) == ("closed", "report_taken", "RMS 26-118")
    assert officer.post(f"{url}/acknowledge").json()["error"] == "incident_closed"

    assert officer.get("/api/incidents").json() == []  # open ones only by default
    assert [i["id"] for i in officer.get("/api/incidents?status=closed").json()] == [inc["id"]]
    full = officer.get(url).json()
    assert [(t["action"], t["actor_name"]) for t in full["timeline"]] == [
        ("opened", "Officer"), ("acknowledge", "Officer"), ("assign", "Supervisor"), ("escalate", "Officer"),
        ("disposition", "Officer")]
    assert [e.change for e in heard.events] == ["opened", "updated", "updated", "updated", "closed"]
    assert all(v is not None for v in heard.committed)  # each was in the database when it was heard
    assert heard.committed[-1].status.value == "closed" and heard.events[1].before.status.value == "new"
    assert len(audit_records(hub, "incident.open")) == 1 and len(audit_records(hub, "incident.disposition")) == 1

    # Another agency sees none of it, and cannot act on it.
    assert stranger.get(url).status_code == 404
    assert stranger.post(f"{url}/acknowledge").status_code == 404
    assert stranger.get("/api/incidents?status=all").json() == []
    assert world.staff("auditor").get("/api/incidents").status_code == 403


def _user_id(hub, email: str) -> str:
    with hub.uow() as uow:
        user = uow.accounts.by_email(email)
        uow.rollback()
    return user.id


def test_an_incident_emergency_opens_emergency_only_cameras_near_it(world, hub, clock, backend):
    heard = Heard(hub, EmergencyChanged, lambda uow, e: uow.emergencies.get(e.agency_id, e.emergency_id))
    officer, supervisor = world.staff("officer"), world.staff("supervisor")
    inc = officer.post("/api/incidents", json=BODY).json()
    url = f"/api/incidents/{inc['id']}/emergency"
    body = {"radius_m": 800, "expires_in_minutes": 30}
    assert officer.post(url, json=body).status_code == 403
    policy = SharingPolicy(SharingMode.EMERGENCY_ONLY, True, True, emergency_radius_m=1000)
    request = AccessRequest(world.agency().id, AccessKind.LIVE, world.agency().id, Point(43.004, -87.92),
                            Tier.INTEGRATED, CameraStatus.ACTIVE)  # ~450 m from the incident
    assert not decide_access(policy, request, clock.now(), active_emergencies(hub, world.agency().id, clock.now())
                             ).allowed
    r = supervisor.post(url, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["emergency_id"] is not None
    assert decide_access(policy, request, clock.now(), active_emergencies(hub, world.agency().id, clock.now())
                         ).allowed
    assert supervisor.post(url, json=body).json()["error"] == "emergency_exists"
    listed = supervisor.get("/api/emergencies").json()
    assert [(e["id"], e["radius_m"], e["case_number"]) for e in listed] == [
        (r.json()["emergency_id"], 800, f"incident {inc['id'][:8]}")]
    assert supervisor.post(f"/api/emergencies/{r.json()['emergency_id']}/end").status_code == 200
    again = supervisor.post(url, json=body | {"expires_in_minutes": 5})  # the first one is over: a new one may be
    assert again.status_code == 200 and again.json()["emergency_id"] != r.json()["emergency_id"]
    hub.extras["emergency_expiry"].check()
    clock.advance(minutes=6)
    hub.extras["emergency_expiry"].check()
    assert [e.change for e in heard.events] == ["declared", "ended", "declared", "expired"]
    assert all(row is not None for row in heard.committed)
    assert [t["action"] for t in supervisor.get(f"/api/incidents/{inc['id']}").json()["timeline"]][-1] == "emergency"


@pytest.fixture
def an_alert(world, anon, clock):
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    key, _ = new_source(world)
    r = post_reads(anon, key, [read_body("r-exact", "ABC 123", earlier(clock, seconds=20), state="CA",
                                         crop=b64(JPEG))])
    assert r.status_code == 200, r.text
    with world.hub.uow() as uow:
        (alert,) = uow.alerts.newest(world.agency().id, after=None, status=None, limit=5)
        uow.rollback()
    return alert.id


def test_operators_acknowledge_assign_and_escalate_alerts(world, hub, an_alert, backend):
    heard = Heard(hub, AlertChanged, lambda uow, e: uow.alerts.get(e.alert.agency_id, e.alert.id))
    officer, supervisor = world.staff("officer"), world.staff("supervisor")
    url = f"/api/agency/alerts/{an_alert}"
    a = officer.post(f"{url}/acknowledge").json()
    assert a["acknowledged_at"] is not None and a["status"] == "new"
    assert officer.post(f"{url}/acknowledge").json()["error"] == "already_acknowledged"
    assert officer.post(f"{url}/assign", json={"user_id": "x"}).status_code == 403
    people = {p["role"]: p["id"] for p in supervisor.get("/api/incidents/assignees").json()}
    a = supervisor.post(f"{url}/assign", json={"user_id": people["officer"]}).json()
    assert (a["assigned_to"], a["assigned_name"]) == (people["officer"], "Officer")
    assert officer.post(f"{url}/escalate", json={}).json()["escalated_at"] is not None
    listed = officer.get("/api/agency/alerts").json()[0]  # the list carries the operator state too
    assert (listed["assigned_name"], listed["acknowledged_at"] is not None, listed["escalated_at"] is not None) == (
        "Officer", True, True)
    assert officer.post(f"{url}/disposition", json={"disposition": "misread"}).status_code == 200
    assert officer.post(f"{url}/escalate", json={}).json()["error"] == "alert_closed"
    assert [e.action for e in heard.events] == ["acknowledge", "assign", "escalate", "disposition"]
    assert heard.committed[1].assigned_name == "Officer"  # committed before it was announced
    world.agency("harbor", HARBOR)
    assert world.staff("officer", slug="harbor").post(f"{url}/acknowledge").status_code == 404
    assert len(audit_records(hub, "alert.assign")) == 1
