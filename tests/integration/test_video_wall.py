"""The video wall's camera choice: nearest first, only what the owners' policies allow this agency live now
(emergencies included), only cameras behind a connected box that reports them online; a search, so it is
audited and on each owner's access log. A real hub on loopback and a box on the real link."""

from __future__ import annotations

import pytest

from tests.edge_box_link import LinkedBox, integrated_camera
from tests.edge_hub import live_edge_hub  # noqa: F401  (a fixture)

HERE = {"lat": 43.0, "lon": -87.92}
WHY = {"purpose": "shots fired at Main and 3rd", "case_number": "LP-2026-0077"}
EMERGENCY_ONLY = {"mode": "emergency_only", "share_live": True, "share_recorded": True, "emergency_radius_m": 800}


def _north(metres: float) -> dict:
    return {"lat": HERE["lat"] + metres / 111_195, "lon": HERE["lon"]}


@pytest.fixture
def street(live_edge_hub, world, anon):  # noqa: F811
    """Cameras of one owner around the place, in the order of their distance, all behind one box."""
    owner = world.owner("Olga")
    cams = {
        "near": integrated_camera(world, owner, name="Near", **_north(30)),
        "emergency": integrated_camera(world, owner, EMERGENCY_ONLY, name="Emergency only", **_north(60)),
        "paused": integrated_camera(world, owner, {"mode": "paused", "share_live": True, "share_recorded": True},
                                    name="Paused", **_north(90)),
        "no_live": integrated_camera(world, owner, {"mode": "always", "share_live": False,
                                                    "share_recorded": True}, name="Recorded only", **_north(130)),
        "far": integrated_camera(world, owner, name="Far", **_north(400)),
        "outside": integrated_camera(world, owner, name="Outside the radius", **_north(3000)),
    }
    registered = world.camera(owner, name="Registered", **_north(20), bearing_deg=200)  # no video at all
    unlinked = integrated_camera(world, owner, name="No box", **_north(25), bearing_deg=300)  # no box yet
    box = LinkedBox(live_edge_hub.url, owner, anon)
    box.connect([c["id"] for c in cams.values()])
    yield cams, registered, unlinked, box, owner
    box.close()


def _wall(session, **params):
    return session.get("/api/wall/nearest", params={**HERE, **WHY, **params})


def test_the_wall_holds_the_nearest_cameras_the_owners_allow_now(street, world, hub):
    cams, registered, unlinked, box, owner = street
    officer = world.staff("officer")
    r = _wall(officer, radius_m=1000)
    assert r.status_code == 200, r.text
    got = r.json()
    assert [c["name"] for c in got] == ["Near", "Far"]
    assert [round(c["distance_m"]) for c in got] == [30, 400]
    assert got[0]["live_reason"] == "the owner shares at all times"
    assert [c["name"] for c in _wall(officer, radius_m=1000, limit=1).json()] == ["Near"]

    # An emergency declared here opens the emergency-only camera, in its place by distance.
    supervisor = world.staff("supervisor")
    r = supervisor.post("/api/emergencies", json={**HERE, "radius_m": 500, "reason": "active shooter",
                                                  "expires_in_minutes": 30})
    assert r.status_code == 201, r.text
    got = _wall(officer, radius_m=1000).json()
    assert [c["name"] for c in got] == ["Near", "Emergency only", "Far"]
    assert "emergency" in got[1]["live_reason"]

    # Each camera returned is on its owner's access log with the purpose; the search is audited.
    log = owner.get(f"/api/owner/cameras/{cams['near']['id']}/access-log").json()
    assert any(e["kind"] == "location" and e["purpose"] == WHY["purpose"] for e in log), log
    with hub.uow() as uow:
        records = [a for a in uow.audit.iter_records() if a.action == "wall.nearest"]
        uow.rollback()
    assert [r.details["count"] for r in records] == [2, 1, 3]
    assert records[-1].details["purpose"] == WHY["purpose"] and records[-1].details["case"] == WHY["case_number"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the search itself is checked on both above
def test_a_box_gone_away_takes_its_cameras_off_the_wall(street, world):
    cams, _, _, box, _ = street
    officer = world.staff("officer")
    assert len(_wall(officer).json()) == 2
    box.close()
    assert _wall(officer).json() == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the search itself is checked on both above
def test_another_agency_and_the_wrong_roles_get_nothing(street, world):
    harbor = world.staff("officer", slug="harbor")
    assert _wall(harbor).json() == []  # the cameras are enrolled with Lakeport
    assert _wall(world.staff("auditor")).status_code == 403
    assert world.owner("Oscar").get("/api/wall/nearest", params={**HERE, **WHY}).status_code in (401, 403)


BAD = [  # each names what is wrong
    ({"purpose": ""}, "query.purpose"),
    ({"limit": 17}, "query.limit"),
    ({"limit": 0}, "query.limit"),
    ({"radius_m": 6000}, "query.radius_m"),
    ({"lat": 91}, "latitude must be within -90..90"),
    ({"case_number": "no spaces allowed"}, "case number:"),
]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # checked before the database is asked
def test_bad_requests_are_refused_with_a_clear_error(street, world, hub):
    officer = world.staff("officer")
    for params, message in BAD:
        r = _wall(officer, **params)
        assert r.status_code == 422 and r.json()["message"].startswith(message), (params, r.text)
    with hub.uow() as uow:
        assert not [a for a in uow.audit.iter_records() if a.action == "wall.nearest"]  # no search was made
        uow.rollback()


def test_the_wall_for_an_incident_states_the_incident(street, world, hub):
    cams, *_ = street
    supervisor = world.staff("supervisor")
    r = supervisor.post("/api/incidents", json={"category": "shots_fired", "priority": 1,
                                                "title": "Shots fired at Main and 3rd", **HERE})
    assert r.status_code == 201, r.text
    incident = r.json()
    r = supervisor.get(f"/api/wall/incident/{incident['id']}", params={"limit": 4})
    assert r.status_code == 200, r.text
    wall = r.json()
    assert wall["purpose"] == f"incident {incident['id']}: Shots fired at Main and 3rd"
    assert [c["name"] for c in wall["cameras"]] == ["Near", "Far"]
    with hub.uow() as uow:
        [record] = [a for a in uow.audit.iter_records() if a.action == "wall.nearest"]
        uow.rollback()
    assert record.target == f"incident:{incident['id']}" and record.details["purpose"] == wall["purpose"]
    # Another agency's incident is not there for Harbor, nor Harbor's for Lakeport.
    assert world.staff("officer", slug="harbor").get(f"/api/wall/incident/{incident['id']}").status_code == 404
    assert supervisor.get("/api/wall/incident/no-such-incident").status_code == 404
