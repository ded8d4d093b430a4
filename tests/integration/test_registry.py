"""The owner side of the registry on both backends: register, change, withdraw, and refuse bad input."""

from __future__ import annotations

import json

import pytest

from openrtcc.domain.geo import Point, destination
from tests.conftest import HARBOR, camera_body

HOME = Point(43.0, -87.92)
SEARCH = {"purpose": "criminal_investigation", "offence": "220", "case_number": "24-1001"}


def post_raw(session, url: str, body: dict):
    """Send JSON as written, NaN included (httpx refuses to encode NaN itself)."""
    return session.client.post(url, content=json.dumps(body), headers={**session.headers,
                                                                        "Content-Type": "application/json"})


def radius_ids(analyst, point: Point, radius_m: float = 50) -> list[str]:
    r = analyst.post("/api/agency/search/radius", json={"lat": point.lat, "lon": point.lon, "radius_m": radius_m,
                                                        **SEARCH})
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()]


def map_ids(analyst) -> list[str]:
    r = analyst.get("/api/agency/map/points")
    assert r.status_code == 200, r.text
    return [p[0] for p in r.json()["points"]]


def test_registration_keeps_every_field(world):
    owner = world.owner()
    ag = world.agency()
    body = camera_body(ag.id, name="  Shop front  ", address="12 Harbour Rd, Lakeport", bearing_deg=215.5,
                       fov_deg=110, range_m=75, make="Hikvision", model="DS-2CD2143", owner_retention_days=30,
                       tier="integrated",
                       sharing={"mode": "schedule", "share_live": True, "share_recorded": True,
                                "schedule": [{"weekday": 0, "start": "08:00", "end": "18:00"},
                                             {"weekday": 5, "start": "22:00", "end": "23:30"}],
                                "emergency_radius_m": 250, "privacy_masks": [[[0, 0], [0.5, 0], [0.5, 0.5]]],
                                "share_reads_with": [ag.id]})
    r = owner.post("/api/owner/cameras", json=body)
    assert r.status_code == 201, r.text
    cam = r.json()
    expected = {"agency_id": ag.id, "name": "Shop front", "lat": 43.0, "lon": -87.92,
                "address": "12 Harbour Rd, Lakeport", "bearing_deg": 215.5, "fov_deg": 110.0, "range_m": 75.0,
                "make": "Hikvision", "model": "DS-2CD2143", "owner_retention_days": 30, "tier": "integrated",
                "status": "active", "possible_duplicate_of": None,
                "sharing": {"mode": "schedule", "share_live": True, "share_recorded": True,
                            "schedule": [{"weekday": 0, "start": "08:00", "end": "18:00"},
                                         {"weekday": 5, "start": "22:00", "end": "23:30"}],
                            "emergency_radius_m": 250.0, "privacy_masks": [[[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]]],
                            "share_reads_with": [ag.id]}}
    assert {k: cam[k] for k in expected} == expected
    # Stored, not just echoed: the owner's read and the agency's read come from the database.
    stored = owner.get(f"/api/owner/cameras/{cam['id']}").json()
    assert {k: stored[k] for k in expected} == expected
    analyst = world.staff("analyst")
    seen = analyst.get(f"/api/agency/cameras/{cam['id']}", params=SEARCH).json()
    assert (seen["tier"], seen["sharing_mode"], seen["range_m"], seen["make"], seen["owner_retention_days"]) == (
        "integrated", "schedule", 75.0, "Hikvision", 30)
    assert "owner_id" not in seen
    assert seen["contact"] is None  # a detail read never carries the owner's contact


def test_every_sharing_mode_is_accepted(world):
    owner = world.owner()
    for i, mode in enumerate(["always", "emergency_only", "schedule", "paused"]):
        sharing = {"mode": mode, "share_live": mode != "paused", "share_recorded": True}
        if mode == "schedule":
            sharing["schedule"] = [{"weekday": 2, "start": "09:00", "end": "17:00"}]
        cam = world.camera(owner, tier="integrated", sharing=sharing, bearing_deg=i * 90)
        assert cam["sharing"]["mode"] == mode
        assert owner.get(f"/api/owner/cameras/{cam['id']}").json()["sharing"] == {**sharing, "schedule": sharing.get(
            "schedule", []), "emergency_radius_m": 1000.0, "privacy_masks": [], "share_reads_with": []}


def test_contact_preferences_are_the_owners_to_change(world):
    owner = world.owner(share_contact="always")
    r = owner.put("/api/owner/profile/contact", json={"share_contact": "never", "preferred_channel": "portal",
                                                      "phone": "+1 414 555 0199"})
    assert r.status_code == 204, r.text
    assert owner.get("/api/owner/profile").json()["contact"] == {
        "share_contact": "never", "preferred_channel": "portal", "phone": "+1 414 555 0199"}
    for bad in ({"share_contact": "sometimes"}, {"preferred_channel": "fax"}, {"phone": "call me maybe"},
                {"share_contact": "always", "extra": 1}):
        r = owner.put("/api/owner/profile/contact", json=bad)
        assert r.status_code == 422, (bad, r.text)
    assert owner.get("/api/owner/profile").json()["contact"]["share_contact"] == "never"


BAD_WINDOWS = [
    {"weekday": 1, "start": "18:00", "end": "08:00"},  # crosses midnight: must be split
    {"weekday": 1, "start": "10:00", "end": "10:00"},  # empty
    {"weekday": 7, "start": "10:00", "end": "11:00"},
    {"weekday": -1, "start": "10:00", "end": "11:00"},
    {"weekday": 1, "start": "25:00", "end": "26:00"},
    {"weekday": 1, "start": "noon", "end": "13:00"},
    {"weekday": 1, "start": "10:00"},
]


def test_bad_schedule_windows_are_refused_and_nothing_written(world):
    owner = world.owner()
    good = {"weekday": 0, "start": "08:00", "end": "09:00"}
    for window in BAD_WINDOWS:
        body = camera_body(world.agency().id, tier="integrated",
                           sharing={"mode": "schedule", "share_recorded": True, "schedule": [good, window]})
        r = owner.post("/api/owner/cameras", json=body)
        assert r.status_code == 422, (window, r.text)
        assert r.json()["error"] == "invalid_input"
        assert "schedule" in r.json()["message"], r.text
    assert owner.get("/api/owner/cameras").json() == []


def test_public_facing_attestation_is_required(world):
    owner = world.owner()
    r = owner.post("/api/owner/cameras", json=camera_body(world.agency().id, public_facing_attested=False))
    assert r.status_code == 422
    assert r.json()["error"] == "not_public_facing"
    assert owner.get("/api/owner/cameras").json() == []


BAD_REGISTRATIONS = [
    ({"lat": 44.0}, "outside_jurisdiction"),
    ({"lon": -87.80}, "outside_jurisdiction"),  # inside the neighbouring agency, not this one
    ({"bearing_deg": -1}, "bearing_out_of_range"),
    ({"bearing_deg": 360}, "bearing_out_of_range"),
    ({"bearing_deg": 359.5}, "bearing_out_of_range"),
    ({"bearing_deg": "abc"}, "invalid_input"),
    ({"bearing_deg": None}, "invalid_input"),
    ({"fov_deg": 0}, "fov_out_of_range"),
    ({"fov_deg": 361}, "fov_out_of_range"),
    ({"range_m": 0}, "range_out_of_range"),
    ({"range_m": 10_000}, "range_out_of_range"),
    ({"range_m": -5}, "range_out_of_range"),
    ({"lat": 91}, "bad_coordinates"),
    ({"lon": -181}, "bad_coordinates"),
    ({"lat": float("nan")}, "invalid_input"),
    ({"lon": float("nan")}, "invalid_input"),
    ({"bearing_deg": float("nan")}, "invalid_input"),
    ({"range_m": float("inf")}, "invalid_input"),
    ({"owner_retention_days": -1}, "invalid_input"),
    ({"tier": "premium"}, "invalid_input"),
    ({"name": ""}, "invalid_input"),
    ({"address": "x"}, "invalid_input"),
    ({"agency_id": "00000000-0000-0000-0000-000000000000"}, "unknown_agency"),
    ({"owner_id": "someone-else"}, "invalid_input"),  # unknown fields are refused, never trusted
    ({"status": "withdrawn"}, "invalid_input"),
]


def test_bad_registration_is_refused_and_nothing_written(world):
    owner = world.owner()
    world.agency("harbor", jurisdiction=HARBOR)
    for overrides, code in BAD_REGISTRATIONS:
        r = post_raw(owner, "/api/owner/cameras", {**camera_body(world.agency().id), **overrides})
        assert r.status_code == 422, (overrides, r.text)
        assert r.json()["error"] == code, (overrides, r.text)
        assert r.json()["message"]
    assert owner.get("/api/owner/cameras").json() == []
    assert map_ids(world.staff("analyst")) == []
    assert map_ids(world.staff("analyst", "harbor")) == []


def test_missing_required_field_is_refused(world):
    owner = world.owner()
    body = camera_body(world.agency().id)
    del body["bearing_deg"]
    r = owner.post("/api/owner/cameras", json=body)
    assert r.status_code == 422
    assert "bearing_deg" in r.json()["message"]
    assert owner.get("/api/owner/cameras").json() == []


def test_agency_staff_cannot_register_cameras(world):
    analyst = world.staff("analyst")
    r = analyst.post("/api/owner/cameras", json=camera_body(world.agency().id))
    assert r.status_code == 403
    assert map_ids(analyst) == []


# --- likely duplicates ---------------------------------------------------------------------------

def test_same_owner_same_spot_same_way_is_a_likely_duplicate(world):
    owner = world.owner()
    first = world.camera(owner, bearing_deg=90)
    near = destination(HOME, 0, 10)
    body = camera_body(world.agency().id, lat=near.lat, lon=near.lon, bearing_deg=110, name="Porch again")
    r = owner.post("/api/owner/cameras", json=body)
    assert r.status_code == 409
    assert r.json()["error"] == "likely_duplicate"
    assert r.json()["details"] == {"duplicate_of": first["id"]}
    assert [c["id"] for c in owner.get("/api/owner/cameras").json()] == [first["id"]]

    r = owner.post("/api/owner/cameras", json={**body, "allow_duplicate": True})
    assert r.status_code == 201, r.text
    assert r.json()["possible_duplicate_of"] == first["id"]
    assert len(owner.get("/api/owner/cameras").json()) == 2


def test_duplicate_check_wraps_around_north(world):
    owner = world.owner()
    first = world.camera(owner, bearing_deg=350)
    r = owner.post("/api/owner/cameras", json=camera_body(world.agency().id, bearing_deg=10))
    assert r.status_code == 409
    assert r.json()["details"]["duplicate_of"] == first["id"]


def test_not_a_duplicate(world):
    """Another owner at the same spot, the same owner 20 m away or facing the other way, or after withdrawal."""
    agency_id = world.agency().id
    spots = [destination(HOME, 0, 200 * i) for i in range(4)]
    cases = {
        "other owner": (spots[0], 90, True, False),
        "20 m away": (destination(spots[1], 0, 20), 90, False, False),
        "opposite bearing": (spots[2], 270, False, False),
        "first withdrawn": (spots[3], 90, False, True),
    }
    for (name, (spot, bearing, other_owner, withdraw_first)), start in zip(cases.items(), spots):
        owner = world.owner()
        first = world.camera(owner, lat=start.lat, lon=start.lon, bearing_deg=90)
        if withdraw_first:
            assert owner.delete(f"/api/owner/cameras/{first['id']}").status_code == 200
        who = world.owner("Nadia") if other_owner else owner
        r = who.post("/api/owner/cameras", json=camera_body(agency_id, lat=spot.lat, lon=spot.lon,
                                                             bearing_deg=bearing))
        assert r.status_code == 201, (name, r.text)
        assert r.json()["possible_duplicate_of"] is None, name


# --- changes and withdrawal ----------------------------------------------------------------------

def test_owner_moves_camera_and_agency_search_follows_at_once(world):
    owner = world.owner()
    cam = world.camera(owner)
    analyst = world.staff("analyst")
    assert radius_ids(analyst, HOME) == [cam["id"]]
    moved = destination(HOME, 45, 800)
    body = camera_body(world.agency().id, lat=moved.lat, lon=moved.lon, bearing_deg=180, tier="integrated",
                       sharing={"mode": "always", "share_live": True, "share_recorded": True})
    r = owner.put(f"/api/owner/cameras/{cam['id']}", json=body)
    assert r.status_code == 200, r.text
    assert (r.json()["bearing_deg"], r.json()["tier"], r.json()["sharing"]["mode"]) == (180.0, "integrated", "always")
    assert radius_ids(analyst, HOME) == []
    assert radius_ids(analyst, moved) == [cam["id"]]
    area = {"type": "Polygon", "coordinates": [[[moved.lon - 0.001, moved.lat - 0.001],
                                                [moved.lon + 0.001, moved.lat - 0.001],
                                                [moved.lon + 0.001, moved.lat + 0.001],
                                                [moved.lon - 0.001, moved.lat + 0.001],
                                                [moved.lon - 0.001, moved.lat - 0.001]]]}
    r = analyst.post("/api/agency/search/area", json={"area": area, **SEARCH})
    assert [c["id"] for c in r.json()] == [cam["id"]]


def test_a_bad_change_leaves_the_camera_as_it_was(world):
    owner = world.owner()
    cam = world.camera(owner)
    for bad in ({"lat": 44.0}, {"bearing_deg": 360}, {"public_facing_attested": False}, {"range_m": 0}):
        r = owner.put(f"/api/owner/cameras/{cam['id']}", json=camera_body(world.agency().id, **bad))
        assert r.status_code == 422, (bad, r.text)
    after = owner.get(f"/api/owner/cameras/{cam['id']}").json()
    assert (after["lat"], after["bearing_deg"], after["range_m"]) == (cam["lat"], cam["bearing_deg"], cam["range_m"])
    assert after["updated_at"] == cam["updated_at"]


def test_another_owner_cannot_touch_my_camera(world):
    owner = world.owner()
    cam = world.camera(owner)
    intruder = world.owner("Mallory")
    body = camera_body(world.agency().id, name="Mine now")
    assert intruder.get(f"/api/owner/cameras/{cam['id']}").status_code == 404
    assert intruder.put(f"/api/owner/cameras/{cam['id']}", json=body).status_code == 404
    assert intruder.delete(f"/api/owner/cameras/{cam['id']}").status_code == 404
    assert intruder.get(f"/api/owner/cameras/{cam['id']}/access-log").status_code == 404
    mine = owner.get(f"/api/owner/cameras/{cam['id']}").json()
    assert (mine["name"], mine["status"]) == ("Porch camera", "active")


def test_withdrawal_removes_the_camera_from_every_agency_view_at_once(world):
    owner = world.owner(share_contact="always")
    cam = world.camera(owner)
    keep = world.camera(world.owner("Nadia"), lat=43.01, lon=-87.93)
    analyst = world.staff("analyst")
    assert set(map_ids(analyst)) == {cam["id"], keep["id"]}

    r = owner.delete(f"/api/owner/cameras/{cam['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn"

    assert map_ids(analyst) == [keep["id"]]
    assert radius_ids(analyst, HOME) == []
    r = analyst.post("/api/agency/search/view", json={"lat": HOME.lat, "lon": destination(HOME, 90, 10).lon,
                                                      **SEARCH})
    assert r.json() == []
    r = analyst.post("/api/agency/incident-pin", json={"lat": HOME.lat, "lon": HOME.lon, "radius_m": 100, **SEARCH})
    assert r.json() == []
    assert analyst.get(f"/api/agency/cameras/{cam['id']}", params=SEARCH).status_code == 404
    r = analyst.post("/api/agency/footage-requests", json={
        "case_number": "24-1001", "purpose": "burglary canvass", "lat": HOME.lat, "lon": HOME.lon, "radius_m": 100,
        "window_start": "2026-11-20T12:00:00Z", "window_end": "2026-11-20T13:00:00Z"})
    assert r.status_code == 422
    assert r.json()["error"] == "no_cameras"

    # The owner still sees the withdrawn camera and its log; withdrawing again is a conflict.
    mine = {c["id"]: c["status"] for c in owner.get("/api/owner/cameras").json()}
    assert mine == {cam["id"]: "withdrawn"}
    assert owner.get(f"/api/owner/cameras/{cam['id']}/access-log").status_code == 200
    r = owner.delete(f"/api/owner/cameras/{cam['id']}")
    assert r.status_code == 409
    assert r.json()["error"] == "already_withdrawn"
    r = owner.put(f"/api/owner/cameras/{cam['id']}", json=camera_body(world.agency().id))
    assert r.status_code == 404
    assert map_ids(analyst) == [keep["id"]]


def test_withdraw_unknown_camera_is_404(world):
    owner = world.owner()
    assert owner.delete("/api/owner/cameras/does-not-exist").status_code == 404
