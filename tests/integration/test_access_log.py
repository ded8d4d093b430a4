"""The owner's access log on both backends: every agency look at a camera, with who, when, why and case."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from openrtcc.domain.geo import Point, destination
from tests.conftest import HARBOR

HOME = Point(43.0, -87.92)
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 8
CRIME = "Investigation of a specific crime"  # owners see the purpose's label, never a note
EXIGENT = "Imminent threat to life or safety"


def log_of(owner, cam: dict) -> list[dict]:
    r = owner.get(f"/api/owner/cameras/{cam['id']}/access-log")
    assert r.status_code == 200, r.text
    return r.json()


def iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def test_owner_sees_each_kind_of_access_with_agency_time_purpose_and_case(world, clock):
    owner = world.owner(share_contact="always")
    cam = world.camera(owner)
    analyst = world.staff("analyst")

    clock.advance(minutes=1)
    t_radius = clock.now()
    r = analyst.post("/api/agency/search/radius", json={"lat": HOME.lat, "lon": HOME.lon, "radius_m": 100,
                                                        "purpose": "criminal_investigation", "offence": "220",
                                                        "case_number": "24-3001"})
    assert r.status_code == 200
    clock.advance(minutes=1)
    t_detail = clock.now()
    r = analyst.get(f"/api/agency/cameras/{cam['id']}", params={"purpose": "check the view angle",
                                                                 "case_number": "24-3001"})
    assert r.status_code == 200
    clock.advance(minutes=1)
    t_pin = clock.now()
    r = analyst.post("/api/agency/incident-pin", json={"lat": HOME.lat, "lon": HOME.lon, "radius_m": 100,
                                                       "purpose": "exigent_threat", "offence": "NONE",
                                                       "case_number": "24-3002", "note": "shots fired"})
    assert r.status_code == 200
    clock.advance(minutes=1)
    t_request = clock.now()
    r = analyst.post("/api/agency/footage-requests", json={
        "case_number": "24-3002", "purpose": "shots fired, looking for the car", "lat": HOME.lat, "lon": HOME.lon,
        "radius_m": 100, "window_start": iso(t_request - timedelta(hours=2)),
        "window_end": iso(t_request - timedelta(hours=1))})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = owner.post(f"/api/owner/requests/{rid}/cameras/{cam['id']}/clip",
                   files={"file": ("porch.mp4", MP4, "video/mp4")})
    assert r.status_code == 201, r.text
    evidence_id = r.json()["id"]
    clock.advance(minutes=1)
    t_download = clock.now()
    r = analyst.get(f"/api/agency/evidence/{evidence_id}/content")
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == r.headers["x-content-sha256"]

    entries = log_of(owner, cam)
    got = [(e["at"], e["agency"], e["kind"], e["purpose"], e["case_number"], e["scope"]) for e in entries]
    expected = [
        (iso(t_download), "Lakeport Police", "footage", "evidence review, case 24-3002", "24-3002", "this camera"),
        (iso(t_request), "Lakeport Police", "footage_request", "shots fired, looking for the car", "24-3002",
         "this camera"),
        (iso(t_pin), "Lakeport Police", "contact", EXIGENT, "24-3002", "this camera"),
        (iso(t_pin), "Lakeport Police", "location", EXIGENT, "24-3002", "this camera"),
        (iso(t_detail), "Lakeport Police", "location", "check the view angle", "24-3001", "this camera"),
        (iso(t_radius), "Lakeport Police", "location", CRIME, "24-3001", "this camera"),
    ]
    assert sorted(got) == sorted(expected)
    assert [e[0] for e in got] == sorted((e[0] for e in got), reverse=True)  # newest first


def test_incident_pin_logs_contact_disclosure_only_when_contact_is_given(world):
    owner = world.owner(share_contact="on_request")
    cam = world.camera(owner)
    r = world.staff("officer").post("/api/agency/incident-pin", json={
        "lat": HOME.lat, "lon": HOME.lon, "radius_m": 50, "purpose": "crash_investigation", "offence": "NONE",
        "case_number": "24-3003"})
    assert r.status_code == 200
    assert [e["kind"] for e in log_of(owner, cam)] == ["location"]


def test_map_overview_is_a_program_wide_entry_only_while_enrolled(world, clock):
    early = world.owner("Early")
    cam_early = world.camera(early)
    analyst = world.staff("analyst")
    clock.advance(minutes=5)
    t_map = clock.now()
    assert analyst.get("/api/agency/map/points").status_code == 200

    clock.advance(seconds=0.5)  # registered a moment after the map view: it was not on that map
    late = world.owner("Late")
    cam_late = world.camera(late, lat=43.01, lon=-87.93)

    assert [(e["at"], e["agency"], e["kind"], e["purpose"], e["case_number"], e["scope"])
            for e in log_of(early, cam_early)] == [
        (iso(t_map), "Lakeport Police", "location", "camera map overview", None, "all cameras in the program")]
    assert log_of(late, cam_late) == []

    clock.advance(minutes=5)
    assert analyst.get("/api/agency/map/points").status_code == 200
    assert len(log_of(late, cam_late)) == 1

    # After withdrawal, later map views are not about this camera.
    clock.advance(minutes=5)
    assert early.delete(f"/api/owner/cameras/{cam_early['id']}").status_code == 200
    clock.advance(minutes=5)
    assert analyst.get("/api/agency/map/points").status_code == 200
    assert len(log_of(early, cam_early)) == 2
    assert len(log_of(late, cam_late)) == 2


def test_accesses_by_another_agency_never_appear(world):
    world.agency("harbor", jurisdiction=HARBOR)
    owner = world.owner(share_contact="always")
    cam = world.camera(owner)
    harbor_cam = world.camera(owner, "harbor", lat=43.0, lon=-87.75)
    other = world.staff("analyst", "harbor")
    why = {"purpose": "criminal_investigation", "offence": "23H", "case_number": "99-0001"}
    assert other.get("/api/agency/map/points").status_code == 200
    assert other.post("/api/agency/search/radius", json={"lat": HOME.lat, "lon": HOME.lon, "radius_m": 500,
                                                         **why}).json() == []
    assert other.post("/api/agency/incident-pin", json={"lat": HOME.lat, "lon": HOME.lon, "radius_m": 500,
                                                        **why}).json() == []
    assert other.get(f"/api/agency/cameras/{cam['id']}", params=why).status_code == 404
    r = other.post("/api/agency/footage-requests", json={
        "case_number": "99-0001", "purpose": "fishing expedition", "lat": HOME.lat, "lon": HOME.lon,
        "radius_m": 500, "window_start": "2026-11-20T10:00:00Z", "window_end": "2026-11-20T11:00:00Z"})
    assert r.status_code == 422
    assert log_of(owner, cam) == []

    # And the other way round: Lakeport's map view is not on the Harbor camera's log.
    assert world.staff("analyst").get("/api/agency/map/points").status_code == 200
    assert [e["agency"] for e in log_of(owner, harbor_cam)] == ["Harbor Police"]
    assert [e["agency"] for e in log_of(owner, cam)] == ["Lakeport Police"]


def test_search_results_elsewhere_are_not_logged_on_my_camera(world):
    owner = world.owner()
    cam = world.camera(owner)
    far = destination(HOME, 0, 2000)
    world.camera(world.owner("Far"), lat=far.lat, lon=far.lon)
    r = world.staff("analyst").post("/api/agency/search/radius", json={
        "lat": far.lat, "lon": far.lon, "radius_m": 100, "purpose": "criminal_investigation", "offence": "220",
        "case_number": "24-3004"})
    assert len(r.json()) == 1
    assert log_of(owner, cam) == []


def test_access_log_is_the_owners_alone(world):
    owner = world.owner()
    cam = world.camera(owner)
    assert world.owner("Mallory").get(f"/api/owner/cameras/{cam['id']}/access-log").status_code == 404
    assert world.staff("analyst").get(f"/api/owner/cameras/{cam['id']}/access-log").status_code == 403
