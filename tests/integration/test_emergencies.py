"""Emergencies: declared, ended and expired, they reach the box's PolicyGate and open or close an
emergency-only camera within the owner's radius (not beyond); only supervisors and admins declare; one agency
never sees another's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openrtcc.domain.access import AccessKind
from openrtcc.services.emergencies import active_emergencies
from tests.edge_hub import live_edge_hub, start_box, wait_for  # noqa: F401  (a fixture)

EMERGENCY_ONLY = {"mode": "emergency_only", "share_live": True, "share_recorded": True, "emergency_radius_m": 500}
# 43.0, -87.92 is the default camera spot; 0.0036 degrees of latitude is about 400 m.
NEAR, FAR = (43.0036, -87.92), (43.0072, -87.92)  # ~400 m: inside the owner's 500 m; ~800 m: beyond it


def _declare(staff, at=NEAR, **kw):
    body = {"lat": at[0], "lon": at[1], "radius_m": 2000, "reason": "armed robbery in progress",
            "case_number": "26-1234", "expires_in_minutes": 60} | kw
    return staff.post("/api/emergencies", json=body)


def test_declared_ended_and_expired_reach_the_box(live_edge_hub, world, tmp_path, clock, backend):
    owner = world.owner("Olga")
    cam = world.camera(owner, tier="integrated", sharing=EMERGENCY_ONLY)["id"]
    agency = world.agency().id
    box = start_box(live_edge_hub, owner, tmp_path, [cam])
    supervisor = world.staff("supervisor")
    try:
        live = lambda: box.gate.decide(cam, agency, AccessKind.LIVE, box.clock.now()).allowed  # noqa: E731
        wait_for(lambda: box.gate.decide(cam, agency, AccessKind.LIVE, box.clock.now()).reason.startswith(
            "shared only during"), what="the policy")
        far = _declare(supervisor, FAR)  # reaches the camera (2 km), but beyond the owner's 500 m
        assert far.status_code == 201, far.text
        near = _declare(supervisor, NEAR, expires_in_minutes=30)
        wait_for(live, 5.0, "the near emergency at the box")
        assert len(active_emergencies(live_edge_hub.hub, agency, clock.now())) == 2

        r = supervisor.post(f"/api/emergencies/{near.json()['id']}/end")
        assert r.status_code == 200 and r.json()["active"] is False
        wait_for(lambda: not live(), 5.0, "the end at the box")
        assert supervisor.post(f"/api/emergencies/{near.json()['id']}/end").status_code == 409

        again = _declare(supervisor, NEAR, expires_in_minutes=5)
        wait_for(live, 5.0, "the second emergency")
        live_edge_hub.hub.extras["emergency_expiry"].check()  # seen as active
        clock.advance(minutes=6)
        live_edge_hub.hub.extras["emergency_expiry"].check()  # seen expired: the boxes hear of it
        before_expiry = clock.now() - timedelta(minutes=3)
        wait_for(lambda: not box.gate.decide(cam, agency, AccessKind.LIVE, before_expiry).allowed, 5.0,
                 "the expiry notice (the notice is gone, not merely past its time)")
        listed = {e["id"]: e["active"] for e in supervisor.get("/api/emergencies").json()}
        assert listed == {far.json()["id"]: True, near.json()["id"]: False, again.json()["id"]: False}
    finally:
        box.stop()


def test_who_may_declare_and_who_sees(world, backend):
    supervisor, officer = world.staff("supervisor"), world.staff("officer")
    assert _declare(officer).status_code == 403
    made = _declare(supervisor)
    assert made.status_code == 201
    other = world.staff("supervisor", "harbor")
    assert other.get("/api/emergencies").json() == []
    assert other.post(f"/api/emergencies/{made.json()['id']}/end").status_code == 404
    assert [e["id"] for e in officer.get("/api/emergencies").json()] == [made.json()["id"]]
    assert world.owner().get("/api/emergencies").status_code == 403


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # plain validation: one backend is enough
@pytest.mark.parametrize("change, field", [
    ({"radius_m": 50_000}, "radius_m"), ({"expires_in_minutes": 25 * 60}, "expires_in_minutes"),
    ({"lat": 91}, "lat"), ({"reason": ""}, "reason"), ({"url": "http://127.0.0.1/"}, "url"),
])
def test_bad_declarations_are_refused(world, change, field, backend):
    r = _declare(world.staff("supervisor"), **change)
    assert r.status_code == 422 and field in r.json()["message"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_outside_the_jurisdiction_is_refused(world, backend):
    r = _declare(world.staff("supervisor"), (40.0, -80.0))
    assert r.status_code == 422 and r.json()["error"] == "outside_jurisdiction"
