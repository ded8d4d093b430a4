"""Signed CAD and gunshot webhooks on both backends: a CAD call opens, updates and closes one incident, mapped
through the integration's code map (a code may declare an emergency that opens emergency-only cameras); bad
deliveries (unsigned, wrong signature, stale, replayed, malformed, wrong types, outside the jurisdiction,
oversized, revoked) are each refused with a clear error and an audit record, and store nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from openrtcc.domain.access import AccessKind, AccessRequest, decide_access
from openrtcc.domain.cameras import CameraStatus, SharingMode, SharingPolicy, Tier
from openrtcc.domain.command_events import IncidentChanged
from openrtcc.domain.geo import Point
from openrtcc.domain.webhook_signing import sign
from openrtcc.services.emergencies import active_emergencies
from openrtcc.services.integrations_in import MAX_BODY_BYTES, forget_old_deliveries
from tests.conftest import HARBOR
from tests.edge_hub import serve
from tests.heard_events import Heard, audit_records

CODE_MAP = {"default_category": "other", "default_priority": 4, "codes": {
    "217": {"category": "assault", "priority": 2, "label": "Assault"},
    "SHOTS": {"category": "shots_fired", "priority": 1, "label": "Shots fired",
              "emergency": {"radius_m": 800, "minutes": 30}}}}
SECRET_WORDS = "the caller says the suspect is her neighbour"  # must never reach the audit trail


class Sender:
    """What an integrator's system does: sign the exact bytes and post them."""

    def __init__(self, client, clock, integration: dict, secret: str):
        self.client, self.clock, self.secret = client, clock, secret
        self.url = f"/api/integrations/{integration['id']}/{integration['kind']}"
        self.n = 0

    def post(self, doc: dict | None = None, *, raw: bytes | None = None, secret: str | None = None,
             delivery: str | None = None, at=None, headers: dict | None = None):
        body = raw if raw is not None else json.dumps(doc).encode()
        self.n += 1
        signed = sign(secret or self.secret, at or self.clock.now(), delivery or f"delivery-{self.n:04d}", body)
        return self.client.post(self.url, content=body, headers=(
            signed if headers is None else headers) | {"Content-Type": "application/json"})


def _call(number: str = "26-0001", code: str = "217", **kw) -> dict:
    return {"incident_number": number, "call_type": code, "description": SECRET_WORDS, "received_at":
            "2026-11-21T19:58:00Z", "location": {"lat": 43.0, "lon": -87.92, "address": "12 Main St"}} | kw


@pytest.fixture
def cad(world, anon, clock):
    r = world.admin().post("/api/integrations", json={"kind": "cad", "name": "County CAD", "config": CODE_MAP})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["webhook_url"].endswith(f"/api/integrations/{created['id']}/cad")
    return Sender(anon, clock, created, created["secret"])


def _incidents(hub, agency_id: str) -> list:
    with hub.uow() as uow:
        found = uow.incidents.newest(agency_id, "all", 100)
        uow.rollback()
    return found


def test_a_cad_call_opens_updates_and_closes_one_incident(world, hub, cad, backend):
    heard = Heard(hub, IncidentChanged, lambda uow, e: uow.incidents.get(e.incident.agency_id, e.incident.id))
    r = cad.post(_call())
    assert r.status_code == 200, r.text
    assert r.json()["change"] == "opened"
    officer = world.staff("officer")
    inc = officer.get(f"/api/incidents/{r.json()['incident_id']}").json()
    assert (inc["source"], inc["external_id"], inc["category"], inc["priority"], inc["title"]) == (
        "cad", "26-0001", "assault", 2, "Assault (26-0001)")
    assert inc["details"]["integration_name"] == "County CAD" and inc["emergency_id"] is None

    r = cad.post(_call(priority=1, description="now two suspects"))
    assert r.json() == {"incident_id": inc["id"], "change": "updated", "status": "new"}
    full = officer.get(f"/api/incidents/{inc['id']}").json()
    assert (full["priority"], full["description"]) == (1, "now two suspects")
    assert full["timeline"][-1]["action"] == "cad_update"
    assert full["timeline"][-1]["details"]["changed"] == ["description", "priority"]

    unknown = cad.post(_call("26-0002", "999")).json()
    other = officer.get(f"/api/incidents/{unknown['incident_id']}").json()
    assert (other["category"], other["priority"], other["details"]["unmapped_code"]) == ("other", 4, True)

    r = cad.post(_call(status="closed"))
    assert r.json()["change"] == "closed"
    closed = officer.get(f"/api/incidents/{inc['id']}").json()
    assert (closed["status"], closed["disposition"]) == ("closed", "closed_by_cad")
    late = cad.post(_call(description="late update"))
    assert (late.status_code, late.json()["error"]) == (409, "incident_closed")
    assert [(e.incident.external_id, e.change) for e in heard.events] == [
        ("26-0001", "opened"), ("26-0001", "updated"), ("26-0002", "opened"), ("26-0001", "closed")]
    assert all(v is not None for v in heard.committed)
    assert len(_incidents(hub, world.agency().id)) == 2
    refusal = audit_records(hub, "integration.refused")[-1]
    assert refusal.details["reason"] == "incident_closed" and refusal.agency_id == world.agency().id


def test_a_call_type_mapped_to_an_emergency_opens_emergency_only_cameras(world, hub, cad, clock, backend):
    r = cad.post(_call("26-0100", "SHOTS"))
    assert r.status_code == 200, r.text
    supervisor = world.staff("supervisor")
    inc = supervisor.get(f"/api/incidents/{r.json()['incident_id']}").json()
    assert inc["emergency_id"] is not None and inc["priority"] == 1
    (listed,) = supervisor.get("/api/emergencies").json()
    assert (listed["id"], listed["radius_m"], listed["declared_by"], listed["case_number"], listed["active"]) == (
        inc["emergency_id"], 800, None, "26-0100", True)
    policy = SharingPolicy(SharingMode.EMERGENCY_ONLY, True, True, emergency_radius_m=1000)
    near = AccessRequest(world.agency().id, AccessKind.LIVE, world.agency().id, Point(43.004, -87.92),
                         Tier.INTEGRATED, CameraStatus.ACTIVE)  # ~450 m away
    far = AccessRequest(world.agency().id, AccessKind.LIVE, world.agency().id, Point(43.01, -87.92),
                        Tier.INTEGRATED, CameraStatus.ACTIVE)  # ~1.1 km away
    active = active_emergencies(hub, world.agency().id, clock.now())
    assert decide_access(policy, near, clock.now(), active).allowed
    assert not decide_access(policy, far, clock.now(), active).allowed
    clock.advance(minutes=31)
    assert not decide_access(policy, near, clock.now(), active_emergencies(hub, world.agency().id, clock.now())
                             ).allowed


def test_bad_deliveries_are_refused_audited_and_store_nothing(world, hub, cad, clock, backend):
    agency = world.agency().id
    good = json.dumps(_call("26-0200")).encode()
    cases = [
        ("unsigned", cad.post(raw=good, headers={}), 403),
        ("bad_signature", cad.post(raw=good, secret="not-the-secret"), 403),
        ("stale_signature", cad.post(raw=good, at=clock.now() - timedelta(minutes=10)), 403),
        ("malformed_payload", cad.post(raw=b'{"incident_number": "26-0200", "call_type": '), 422),
        ("malformed_payload", cad.post(_call("26-0200", priority="high") | {"location": {"lat": "43", "lon": 1}}),
         422),
        ("outside_jurisdiction", cad.post(_call("26-0200", location={"lat": 44.5, "lon": -87.92})), 422),
        ("too_large", cad.post(_call("26-0200", description="x" * (MAX_BODY_BYTES + 10))), 413),
    ]
    for code, r, status in cases:
        assert (r.status_code, r.json()["error"]) == (status, code), (code, r.text)
        assert r.json()["message"]
    wrong_types = cases[4][1].json()["details"]["problems"]
    assert {p["field"] for p in wrong_types} >= {"priority", "location.lat"}
    assert _incidents(hub, agency) == []
    refused = audit_records(hub, "integration.refused")
    assert [r.details["reason"] for r in refused] == [c[0] for c in cases]
    assert all(r.outcome == "denied" and r.target == f"integration:{cad.url.split('/')[3]}" for r in refused)

    first = cad.post(raw=good, delivery="cad-delivery-0001")
    assert first.status_code == 200, first.text
    replay = cad.post(raw=good, delivery="cad-delivery-0001")
    assert (replay.status_code, replay.json()["error"]) == (409, "replayed")
    assert len(_incidents(hub, agency)) == 1

    r = world.admin().post(f"/api/integrations/{cad.url.split('/')[3]}/revoke")
    assert r.json()["revoked_at"] is not None
    gone = cad.post(_call("26-0201"))
    assert (gone.status_code, gone.json()["error"]) == (403, "unknown_integration")
    wrong_route = cad.client.post(cad.url.replace("/cad", "/gunshot"), content=good)
    assert wrong_route.status_code == 403
    assert len(_incidents(hub, agency)) == 1
    trail = json.dumps([r.details for r in audit_records(hub, "integration.refused")])
    assert SECRET_WORDS not in trail and "26-0200" not in trail  # reasons, never the body
    clock.advance(hours=2)
    assert forget_old_deliveries(hub) == 1  # kept well past the signature's tolerance, then forgotten


def test_gunshot_detections_open_incidents(world, hub, anon, clock, backend):
    admin = world.admin()
    r = admin.post("/api/integrations", json={"kind": "gunshot", "name": "Acoustic sensors",
                                              "config": {"emergency": {"radius_m": 400, "minutes": 20}}})
    assert r.status_code == 201, r.text
    sensors = Sender(anon, clock, r.json(), r.json()["secret"])
    event = {"event_id": "gs-77", "detected_at": "2026-11-21T19:59:30Z", "lat": 43.001, "lon": -87.921,
             "rounds": 5, "kind": "multiple", "confidence": 0.97}
    r = sensors.post(event)
    assert r.status_code == 200, r.text
    inc = world.staff("officer").get(f"/api/incidents/{r.json()['incident_id']}").json()
    assert (inc["source"], inc["category"], inc["priority"], inc["title"]) == (
        "gunshot", "shots_fired", 1, "Multiple gunshots detected: 5 rounds")
    assert inc["details"]["rounds"] == 5 and inc["emergency_id"] is not None
    again = sensors.post(event)  # the same detection under a new delivery id
    assert (again.status_code, again.json()["error"]) == (409, "duplicate_incident")
    maybe = sensors.post(event | {"event_id": "gs-78", "kind": "possible", "rounds": 1, "confidence": 0.4}).json()
    assert world.staff("officer").get(f"/api/incidents/{maybe['incident_id']}").json()["emergency_id"] is None
    bad = sensors.post(event | {"event_id": "gs-79", "kind": "firework"})
    assert (bad.status_code, bad.json()["details"]["problems"][0]["field"]) == (422, "kind")
    listed = admin.get("/api/integrations").json()
    assert [(i["kind"], i["name"], "secret" in i) for i in listed] == [("gunshot", "Acoustic sensors", False)]
    assert world.staff("officer").get("/api/integrations").status_code == 403
    world.agency("harbor", HARBOR)
    other = world.admin("harbor")  # another agency's administrator sees and touches none of them
    assert other.get("/api/integrations").json() == []
    assert other.post(f"/api/integrations/{listed[0]['id']}/revoke").status_code == 404
    bad_config = admin.post("/api/integrations", json={"kind": "cad", "name": "x",
                                                       "config": {"codes": {"217": {"category": "Nope!"}}}})
    assert (bad_config.status_code, bad_config.json()["error"]) == (422, "bad_config")


@pytest.mark.parametrize("backend", ["sqlite"])  # the HTTP path, not the database, is under test here
def test_over_real_http_a_chunked_oversized_body_is_cut_off_and_audited(world, hub, app, cad, clock, backend):
    """A sender that streams without Content-Length is read no further than the limit."""
    server, thread, port = serve(app)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            good = json.dumps(_call("26-0300")).encode()
            r = client.post(cad.url, content=good, headers=sign(cad.secret, clock.now(), "http-delivery-1", good))
            assert (r.status_code, r.json()["change"]) == (200, "opened"), r.text
            chunks = (b"x" * 16384 for _ in range(64))  # 1 MiB, chunked: no length declared up front
            r = client.post(cad.url, content=chunks, headers=sign(cad.secret, clock.now(), "http-delivery-2", b""))
            assert (r.status_code, r.json()["error"]) == (413, "too_large")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    refused = audit_records(hub, "integration.refused")
    assert [(r.details["reason"], r.source) for r in refused] == [("too_large", "127.0.0.1")]
    assert refused[0].details["bytes"] == MAX_BODY_BYTES + 1
