"""Agency search on both backends: radius, polygon, view cone, map points, incident pins."""

from __future__ import annotations

import json

import pytest

from openrtcc.domain.geo import Point, destination
from tests.conftest import HARBOR

CENTER = Point(43.0, -87.92)
WHY = {"purpose": "criminal_investigation", "offence": "120", "case_number": "24-2002"}


def at(p: Point, **kw) -> dict:
    return {"lat": p.lat, "lon": p.lon, **kw}


def ring(*lonlat: tuple[float, float]) -> list[list[float]]:
    return [list(p) for p in (*lonlat, lonlat[0])]


def ids(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()]


# --- radius -------------------------------------------------------------------------------------

def test_radius_boundary_just_inside_and_just_outside(world):
    """The index prefilter (R*Tree box, PostGIS ST_DWithin) must not drop a camera the hub calls inside.

    Due east/west and north/south are where the R*Tree's 32-bit boxes and the spheroid used to differ.
    """
    inside, outside = world.owner("Ines"), world.owner("Otto")
    expected = []
    for bearing in (0, 45, 90, 180, 270):
        cam = world.camera(inside, name=f"inside {bearing}", bearing_deg=bearing,
                           **at(destination(CENTER, bearing, 99.9)))
        expected.append(cam["id"])
        world.camera(outside, name=f"outside {bearing}", bearing_deg=bearing, **at(destination(CENTER, bearing, 100.1)))
    near = world.camera(world.owner("Nell"), name="near", **at(destination(CENTER, 120, 20)))
    analyst = world.staff("analyst")
    r = analyst.post("/api/agency/search/radius", json=at(CENTER, radius_m=100, **WHY))
    assert ids(r)[0] == near["id"]  # nearest first
    assert sorted(ids(r)[1:]) == sorted(expected)
    assert [c["distance_m"] for c in r.json()] == [20.0] + [99.9] * 5
    r = analyst.post("/api/agency/incident-pin", json=at(CENTER, radius_m=100, **WHY))
    assert len(ids(r)) == 6


def test_radius_search_refuses_bad_requests_and_logs_nothing(world):
    owner = world.owner()
    cam = world.camera(owner)
    analyst = world.staff("analyst")
    bad = [
        (at(CENTER, radius_m=5001, **WHY), "radius_m"),
        (at(CENTER, radius_m=0, **WHY), "radius_m"),
        (at(CENTER, radius_m=100), "purpose"),
        (at(CENTER, radius_m=100, purpose="ab"), "purpose"),
        (at(CENTER, radius_m=100, purpose="     "), "purpose"),
        ({"lat": 91, "lon": -87.92, "radius_m": 100, **WHY}, "latitude"),
        ({"lat": "north", "lon": -87.92, "radius_m": 100, **WHY}, "lat"),
        (at(CENTER, radius_m=100, **{**WHY, "case_number": "x" * 65}), "case number"),
        (at(CENTER, radius_m=100, **{**WHY, "purpose": "robbery"}), "free text is not a purpose"),
        (at(CENTER, radius_m=100, **{**WHY, "offence": None}), "offence"),
        (at(CENTER, radius_m=100, **{**WHY, "offence": "robbery"}), "NIBRS"),
        (at(CENTER, radius_m=100, **{**WHY, "case_number": ""}), "case"),
        (at(CENTER, radius_m=100, agency_id="other", **WHY), "agency_id"),
    ]
    nan = float("nan")
    bad += [({"lat": nan, "lon": -87.92, "radius_m": 100, **WHY}, "latitude"),
            (at(CENTER, radius_m=nan, **WHY), "radius_m"),
            (at(CENTER, radius_m=float("inf"), **WHY), "radius_m")]
    for body, mentions in bad:
        r = analyst.client.post("/api/agency/search/radius", content=json.dumps(body),
                                headers={**analyst.headers, "Content-Type": "application/json"})
        assert r.status_code == 422, (body, r.text)
        assert mentions in r.json()["message"], (body, r.text)
    assert owner.get(f"/api/owner/cameras/{cam['id']}/access-log").json() == []


def test_search_is_for_agency_staff_only(world, anon):
    owner = world.owner()
    world.camera(owner)
    body = at(CENTER, radius_m=100, **WHY)
    assert owner.post("/api/agency/search/radius", json=body).status_code == 403
    assert owner.get("/api/agency/map/points").status_code == 403
    assert anon.post("/api/agency/search/radius", json=body).status_code == 401
    assert world.staff("auditor").post("/api/agency/search/radius", json=body).status_code == 403


# --- polygon ------------------------------------------------------------------------------------

def test_concave_polygon_excludes_the_notch(world):
    """A U shape: a camera in the notch is inside the bounding box but outside the polygon."""
    owner = world.owner()
    left = world.camera(owner, name="left arm", lat=43.005, lon=-87.935)
    right = world.camera(owner, name="right arm", lat=43.005, lon=-87.905)
    base = world.camera(owner, name="base", lat=42.995, lon=-87.92)
    notch = world.camera(owner, name="notch", lat=43.006, lon=-87.92)
    world.camera(owner, name="far away", lat=43.05, lon=-87.95)
    u_shape = {"type": "Polygon", "coordinates": [ring(
        (-87.94, 42.99), (-87.90, 42.99), (-87.90, 43.01), (-87.91, 43.01),
        (-87.91, 43.00), (-87.93, 43.00), (-87.93, 43.01), (-87.94, 43.01))]}
    analyst = world.staff("analyst")
    r = analyst.post("/api/agency/search/area", json={"area": u_shape, **WHY})
    assert set(ids(r)) == {left["id"], right["id"], base["id"]}
    assert notch["id"] not in ids(r)


def test_multipolygon_and_feature_are_accepted(world):
    owner = world.owner()
    a = world.camera(owner, name="a", lat=43.0, lon=-87.92)
    b = world.camera(owner, name="b", lat=43.03, lon=-87.95)
    world.camera(owner, name="between", lat=43.015, lon=-87.935)
    square = lambda lat, lon: [ring((lon - .002, lat - .002), (lon + .002, lat - .002),  # noqa: E731
                                    (lon + .002, lat + .002), (lon - .002, lat + .002))]
    multi = {"type": "MultiPolygon", "coordinates": [square(43.0, -87.92), square(43.03, -87.95)]}
    analyst = world.staff("analyst")
    assert set(ids(analyst.post("/api/agency/search/area", json={"area": multi, **WHY}))) == {a["id"], b["id"]}
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                                  "coordinates": square(43.0, -87.92)}}
    assert ids(analyst.post("/api/agency/search/area", json={"area": feature, **WHY})) == [a["id"]]


def test_polygon_with_a_hole_excludes_the_hole(world):
    owner = world.owner()
    outer = world.camera(owner, name="ring", lat=42.994, lon=-87.92)
    hole = world.camera(owner, name="hole", lat=43.0, lon=-87.92)
    donut = {"type": "Polygon", "coordinates": [
        ring((-87.93, 42.99), (-87.91, 42.99), (-87.91, 43.01), (-87.93, 43.01)),
        ring((-87.925, 42.997), (-87.915, 42.997), (-87.915, 43.003), (-87.925, 43.003))]}
    r = world.staff("analyst").post("/api/agency/search/area", json={"area": donut, **WHY})
    assert ids(r) == [outer["id"]]
    assert hole["id"] not in ids(r)


MALFORMED = [
    ({"type": "Point", "coordinates": [-87.92, 43.0]}, "Polygon or MultiPolygon"),
    ({"type": "Polygon"}, "non-empty list"),
    ({"type": "Polygon", "coordinates": []}, "non-empty list"),
    ({"type": "Polygon", "coordinates": [[[-87.93, 42.99], [-87.91, 42.99], [-87.91, 43.01], [-87.93, 43.01]]]},
     "closed"),
    ({"type": "Polygon", "coordinates": [[[-87.93, 42.99], [-87.91, 42.99], [-87.93, 42.99]]]}, "at least 4"),
    ({"type": "Polygon", "coordinates": [[["a", "b"], [-87.91, 42.99], [-87.91, 43.01], ["a", "b"]]]},
     "[longitude, latitude]"),
    ({"type": "Polygon", "coordinates": [[[-87.93, 92], [-87.91, 42.99], [-87.91, 43.01], [-87.93, 92]]]},
     "out of range"),
    ({"type": "Polygon", "coordinates": "nope"}, "non-empty list"),
    ({"type": "MultiPolygon", "coordinates": [[]]}, "at least one ring"),
    ({"type": "Feature", "geometry": None}, "GeoJSON object"),
]


def test_malformed_geojson_gets_a_clear_422(world):
    analyst = world.staff("analyst")
    for area, says in MALFORMED:
        r = analyst.post("/api/agency/search/area", json={"area": area, **WHY})
        assert r.status_code == 422, (area, r.text)
        assert r.json()["error"] == "bad_geometry", (area, r.text)
        assert r.json()["message"].startswith("area: ") and says in r.json()["message"], (area, r.text)
    r = analyst.post("/api/agency/search/area", json={"area": [[1, 2]], **WHY})
    assert r.status_code == 422 and "area" in r.json()["message"]
    r = analyst.post("/api/agency/search/area", json={"area": "POLYGON((0 0, 1 0, 1 1, 0 0))", **WHY})
    assert r.status_code == 422 and "area" in r.json()["message"]


def test_self_intersecting_polygon_is_refused(world):
    """A bow tie has no single inside; PostGIS and the ray test would disagree about it."""
    world.camera(world.owner())
    bowtie = {"type": "Polygon", "coordinates": [ring((-87.93, 42.99), (-87.91, 43.01), (-87.91, 42.99),
                                                       (-87.93, 43.01))]}
    r = world.staff("analyst").post("/api/agency/search/area", json={"area": bowtie, **WHY})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "bad_geometry"
    assert "cross" in r.json()["message"]


def test_area_with_too_many_vertices_is_refused(world):
    circle = [destination(CENTER, i * 360 / 1001, 300) for i in range(1001)]
    area = {"type": "Polygon", "coordinates": [ring(*[(p.lon, p.lat) for p in circle])]}
    r = world.staff("analyst").post("/api/agency/search/area", json={"area": area, **WHY})
    assert r.status_code == 422, r.text
    assert "1000 vertices" in r.json()["message"]


def test_area_too_large_and_purpose_required(world):
    analyst = world.staff("analyst")
    huge = {"type": "Polygon", "coordinates": [ring((-88.2, 42.8), (-87.6, 42.8), (-87.6, 43.2), (-88.2, 43.2))]}
    r = analyst.post("/api/agency/search/area", json={"area": huge, **WHY})
    assert r.status_code == 422
    assert r.json()["error"] == "area_too_large"
    small = {"type": "Polygon", "coordinates": [ring((-87.93, 42.99), (-87.91, 42.99), (-87.91, 43.01),
                                                      (-87.93, 43.01))]}
    r = analyst.post("/api/agency/search/area", json={"area": small})
    assert r.status_code == 422 and "purpose" in r.json()["message"]
    r = analyst.post("/api/agency/search/area", json={"area": small, "purpose": "x"})
    assert r.status_code == 422 and "purpose" in r.json()["message"]


# --- view cone ----------------------------------------------------------------------------------

def test_cameras_that_could_see_a_point(world):
    owner = world.owner()
    target = CENTER
    facing = world.camera(owner, name="facing", **at(destination(target, 270, 30)), bearing_deg=90, fov_deg=60,
                          range_m=50)
    away = world.camera(owner, name="away", **at(destination(target, 90, 30)), bearing_deg=90, fov_deg=60,
                        range_m=50)
    world.camera(owner, name="too short", **at(destination(target, 180, 60)), bearing_deg=0, fov_deg=90,
                 range_m=40)
    closest = world.camera(owner, name="closest", **at(destination(target, 0, 12)), bearing_deg=180, fov_deg=30,
                           range_m=20)
    dome = world.camera(owner, name="dome", **at(destination(target, 135, 45)), bearing_deg=0, fov_deg=360,
                        range_m=60)
    edge_miss = world.camera(owner, name="just misses", **at(destination(target, 270, 25)), bearing_deg=130,
                             fov_deg=70, range_m=50)  # sees 95..165; the target lies at 90
    # Far away cameras of a long range still count: they are found by their own range, not a fixed pin.
    far = world.camera(owner, name="long range", **at(destination(target, 0, 450)), bearing_deg=180, fov_deg=20,
                       range_m=500)
    analyst = world.staff("analyst")
    r = analyst.post("/api/agency/search/view", json=at(target, **WHY))
    got = ids(r)
    assert got == [closest["id"], facing["id"], dome["id"], far["id"]]
    assert away["id"] not in got and edge_miss["id"] not in got
    assert [c["distance_m"] for c in r.json()] == sorted(c["distance_m"] for c in r.json())
    r = analyst.post("/api/agency/search/view", json=at(target))
    assert r.status_code == 422 and "purpose" in r.json()["message"]
    r = analyst.post("/api/agency/search/view", json={"lat": 95, "lon": 0, **WHY})
    assert r.status_code == 422


# --- map ----------------------------------------------------------------------------------------

def test_map_points_hold_only_active_cameras_of_the_callers_agency(world):
    world.agency("harbor", jurisdiction=HARBOR)
    owner = world.owner()
    mine = world.camera(owner, tier="integrated", sharing={"mode": "always", "share_live": True})
    gone = world.camera(owner, name="gone", lat=43.02, lon=-87.95)
    theirs = world.camera(owner, "harbor", name="harbor cam", lat=43.0, lon=-87.75)
    assert owner.delete(f"/api/owner/cameras/{gone['id']}").status_code == 200

    r = world.staff("officer").get("/api/agency/map/points")
    assert r.status_code == 200
    doc = r.json()
    assert doc["fields"] == ["id", "lat", "lon", "tier", "sharing_mode"]
    assert doc["points"] == [[mine["id"], 43.0, -87.92, "integrated", "always"]]
    harbor = world.staff("analyst", "harbor").get("/api/agency/map/points").json()["points"]
    assert [p[0] for p in harbor] == [theirs["id"]]


def test_other_agency_cannot_reach_my_cameras(world):
    world.agency("harbor", jurisdiction=HARBOR)
    cam = world.camera(world.owner())
    other = world.staff("analyst", "harbor")
    assert ids(other.post("/api/agency/search/radius", json=at(CENTER, radius_m=500, **WHY))) == []
    assert ids(other.post("/api/agency/search/view", json=at(destination(CENTER, 90, 10), **WHY))) == []
    assert ids(other.post("/api/agency/incident-pin", json=at(CENTER, radius_m=500, **WHY))) == []
    assert other.get(f"/api/agency/cameras/{cam['id']}", params=WHY).status_code == 404


def test_camera_detail_needs_a_purpose(world):
    cam = world.camera(world.owner())
    analyst = world.staff("analyst")
    assert analyst.get(f"/api/agency/cameras/{cam['id']}").status_code == 422
    assert analyst.get(f"/api/agency/cameras/{cam['id']}", params={"purpose": "x"}).status_code == 422
    assert analyst.get("/api/agency/cameras/nope", params=WHY).status_code == 404
    assert analyst.get(f"/api/agency/cameras/{cam['id']}", params=WHY).json()["id"] == cam["id"]


# --- incident pin -------------------------------------------------------------------------------

def test_incident_pin_shows_contact_exactly_as_each_owner_allows(world):
    always = world.owner("Alice", share_contact="always")
    on_request = world.owner("Bob", share_contact="on_request")
    never = world.owner("Carol", share_contact="never")
    cam_a = world.camera(always, **at(destination(CENTER, 0, 10)))
    cam_b = world.camera(on_request, **at(destination(CENTER, 90, 20)))
    cam_c = world.camera(never, **at(destination(CENTER, 180, 30)))
    officer = world.staff("officer")
    r = officer.post("/api/agency/incident-pin", json=at(CENTER, radius_m=100, **WHY))
    assert ids(r) == [cam_a["id"], cam_b["id"], cam_c["id"]]
    contacts = {c["id"]: c["contact"] for c in r.json()}
    assert contacts[cam_a["id"]]["name"] == "Alice"
    assert contacts[cam_a["id"]]["email"] == always.email
    assert contacts[cam_a["id"]]["phone"] == "+1 414 555 0100"
    assert contacts[cam_b["id"]] | {"note": ""} == {"name": "Bob", "organisation": None, "email": None,
                                                    "phone": None, "preferred_channel": "portal", "note": ""}
    assert contacts[cam_c["id"]] | {"note": ""} == {"name": "(withheld)", "organisation": None, "email": None,
                                                    "phone": None, "preferred_channel": "portal", "note": ""}
    assert "Carol" not in r.text and never.email not in r.text and on_request.email not in r.text

    # The owner changes their mind; the next pin follows at once.
    assert always.put("/api/owner/profile/contact", json={"share_contact": "never"}).status_code == 204
    r = officer.post("/api/agency/incident-pin", json=at(CENTER, radius_m=100, **WHY))
    assert always.email not in r.text and "+1 414 555 0100" not in r.text
    assert {c["id"]: c["contact"]["name"] for c in r.json()}[cam_a["id"]] == "(withheld)"


def test_incident_pin_refusals(world):
    world.camera(world.owner(share_contact="always"))
    admin = world.admin()  # administrators manage accounts; they do not see owner contacts
    assert admin.post("/api/agency/incident-pin", json=at(CENTER, radius_m=100, **WHY)).status_code == 403
    officer = world.staff("officer")
    for body in (at(CENTER, radius_m=100), at(CENTER, radius_m=6000, **WHY), {"lat": 43, "lon": 200, **WHY}):
        assert officer.post("/api/agency/incident-pin", json=body).status_code == 422, body
