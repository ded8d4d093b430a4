"""The registry round trip on both storage backends: owner registers, analyst finds it."""

from tests.conftest import camera_body


def test_owner_registers_and_analyst_finds_it(world):
    owner = world.owner()
    cam = world.camera(owner)
    analyst = world.staff("analyst")
    r = analyst.post("/api/agency/search/radius", json={"lat": 43.0, "lon": -87.92, "radius_m": 50,
                                                        "purpose": "criminal_investigation", "offence": "220",
                                                        "case_number": "24-1001"})
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()] == [cam["id"]]


def test_outside_jurisdiction_is_refused_and_nothing_written(world):
    owner = world.owner()
    ag = world.agency()
    r = owner.post("/api/owner/cameras", json=camera_body(ag.id, lat=44.0))
    assert r.status_code == 422
    assert r.json()["error"] == "outside_jurisdiction"
    assert owner.get("/api/owner/cameras").json() == []
