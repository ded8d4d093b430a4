"""Hostile and careless payloads: oversized, malformed, unknown fields, NaN and Infinity; nothing is written."""

from __future__ import annotations

import json

from tests.conftest import camera_body
from tests.integration import db_probe as db

JSON = {"content-type": "application/json"}
WINDOW = {"window_start": "2026-11-20T12:00:00Z", "window_end": "2026-11-20T13:00:00Z"}


def written(hub) -> tuple:
    """Everything a refused request must leave as it was. The audit log may only gain the web layer's record
    of the refusal itself (`http.request`, not a success); no action of any kind is recorded."""
    return (*(db.count(hub, t) for t in ("camera", "footage_request", "camera_access", "notification",
                                          "user_account")),
            db.count(hub, "audit_log", "NOT (action = 'http.request' AND outcome <> 'success')"))


def raw_post(session, url: str, content, headers: dict | None = None):
    return session.client.post(url, content=content, headers={**session.headers, **JSON, **(headers or {})})


def test_oversized_json_is_refused_before_anything_is_read(world, settings):
    owner = world.owner()
    limit = settings.max_json_bytes
    body = camera_body(world.agency().id, address="x" * (limit + 10))
    before = written(world.hub)
    r = owner.post("/api/owner/cameras", json=body)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert str(limit) in r.json()["message"]

    def chunks():  # no Content-Length: the limit holds while the body streams in
        payload = json.dumps(body).encode()
        for i in range(0, len(payload), 16 * 1024):
            yield payload[i:i + 16 * 1024]

    r = raw_post(owner, "/api/owner/cameras", chunks())
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = raw_post(owner, "/api/owner/cameras", b"{}", headers={"content-length": "not-a-number"})
    assert r.status_code == 413  # a length that is not a number is not trusted to be small
    assert written(world.hub) == before  # at most the refusals themselves are audited
    r = owner.post("/api/owner/cameras", json=camera_body(world.agency().id))
    assert r.status_code == 201  # a normal body still passes


MALFORMED = [
    (b'{"lat": 43.0,', "not valid JSON"),
    (b"{'lat': 43.0}", "not valid JSON"),
    (b'{"lat": 43.0} trailing', "not valid JSON"),
    (b"", "request body"),
    (b"[]", "valid dictionary"),
    (b'"a string"', "valid dictionary"),
    (b"null", "request body"),
]


def test_malformed_json_gets_a_clear_422(world):
    owner = world.owner()
    world.agency()  # made before the snapshot, not during the refused calls
    before = written(world.hub)
    for content, words in MALFORMED:
        r = raw_post(owner, "/api/owner/cameras", content)
        assert r.status_code == 422, (content, r.text)
        assert r.json()["error"] == "invalid_input"
        assert words in r.json()["message"], (content, r.json())
    assert written(world.hub) == before


def test_unreadable_bodies_get_an_answer_in_the_usual_shape(world):
    analyst = world.staff("analyst")
    r = raw_post(analyst, "/api/agency/search/area", b'\xff\xfe{"lat": 1}')  # not UTF-8
    assert r.status_code == 422 and "not valid JSON" in r.json()["message"]
    deep = '{"area": ' + '{"type": "Feature", "geometry": ' * 5000 + "{}" + "}" * 5000 + ', "purpose": "abc"}'
    r = raw_post(analyst, "/api/agency/search/area", deep.encode())  # nested deeper than the parser goes
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "unreadable_body" and r.json()["message"]
    r = analyst.client.patch("/api/agency/map/points", headers=analyst.headers)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed" and "GET" in r.headers["allow"]
    r = analyst.get("/api/agency/no-such-thing")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


UNKNOWN_FIELDS = [
    ({"owner_id": "someone-else"}, "owner_id"),
    ({"status": "withdrawn"}, "status"),
    ({"id": "my-own-id"}, "id"),
    ({"possible_duplicate_of": None}, "possible_duplicate_of"),
    ({"sharing": {"mode": "always", "share_live": True, "share_recorded": True, "agencies": ["all"]}},
     "sharing.agencies"),
]


def test_unknown_fields_are_refused(world):
    owner = world.owner()
    world.agency()  # made before the snapshot, not during the refused calls
    before = written(world.hub)
    for extra, field in UNKNOWN_FIELDS:
        r = owner.post("/api/owner/cameras", json={**camera_body(world.agency().id), **extra})
        assert r.status_code == 422, r.text
        assert r.json()["message"] == f"{field}: Extra inputs are not permitted", r.json()
    assert written(world.hub) == before


def test_unknown_fields_on_log_on_and_sign_up(world, anon):
    r = anon.post("/api/auth/signup", json={"email": "eve@owners.test", "password": "Blue-Kettle-Orbit-42",
                                            "display_name": "Eve", "role": "admin"})
    assert r.status_code == 422 and r.json()["message"].startswith("role")
    r = anon.post("/api/auth/logon", json={"email": "eve@owners.test", "password": "x", "accept_banner": True,
                                           "mfa_done": True})
    assert r.status_code == 422
    assert db.count(world.hub, "user_account", "email = 'eve@owners.test'") == 0


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


def with_literal(body: dict, field: str, literal: str) -> str:
    """JSON text with a bare literal (NaN, Infinity, 1e999) as the value of `field`."""
    return json.dumps({**body, field: "__LITERAL__"}).replace('"__LITERAL__"', literal)


def test_non_finite_camera_numbers_are_refused(world):
    owner = world.owner()
    world.agency()  # made before the snapshot, not during the refused calls
    before = written(world.hub)
    for field in ("lat", "lon", "bearing_deg", "fov_deg", "range_m"):
        for literal in NON_FINITE:
            r = raw_post(owner, "/api/owner/cameras", with_literal(camera_body(world.agency().id), field, literal))
            assert r.status_code == 422, (field, literal, r.text)
            assert r.json()["message"].startswith(field), r.json()
    assert written(world.hub) == before


def test_non_finite_numbers_cannot_move_an_existing_camera(world):
    owner = world.owner()
    cam = world.camera(owner)
    for literal in NON_FINITE:
        content = with_literal(camera_body(world.agency().id), "lat", literal)
        r = owner.client.put(f"/api/owner/cameras/{cam['id']}", content=content, headers={**owner.headers, **JSON})
        assert r.status_code == 422, (literal, r.text)
    assert owner.get(f"/api/owner/cameras/{cam['id']}").json() == cam


SEARCHES = [
    ("/api/agency/search/radius", '{"lat": LAT, "lon": LON, "radius_m": RADIUS, "purpose": "criminal_investigation", "offence": "220", "case_number": "24-1"}'),
    ("/api/agency/search/view", '{"lat": LAT, "lon": LON, "purpose": "criminal_investigation", "offence": "220", "case_number": "24-1"}'),
    ("/api/agency/incident-pin", '{"lat": LAT, "lon": LON, "radius_m": RADIUS, "purpose": "criminal_investigation", "offence": "220", "case_number": "24-1"}'),
    ("/api/agency/footage-requests", '{"case_number": "24-1", "purpose": "canvass", "lat": LAT, "lon": LON, '
                                     '"radius_m": RADIUS, "window_start": "2026-11-20T12:00:00Z", '
                                     '"window_end": "2026-11-20T13:00:00Z"}'),
]


def test_non_finite_search_and_request_numbers_are_refused(world):
    owner = world.owner()
    world.camera(owner)
    analyst = world.staff("analyst")
    before = written(world.hub)
    fine = {"LAT": "43.0", "LON": "-87.92", "RADIUS": "100"}
    for url, template in SEARCHES:
        for key in fine:
            if key not in template:
                continue
            for literal in NON_FINITE:
                content = template
                for k, v in {**fine, key: literal}.items():
                    content = content.replace(k, v)
                r = raw_post(analyst, url, content)
                assert r.status_code == 422, (url, key, literal, r.text)
                assert r.json()["error"] in ("invalid_input", "bad_coordinates", "bad_radius"), r.json()
    assert written(world.hub) == before
    for url, template in SEARCHES:  # the control: the same requests with finite numbers pass
        content = template
        for k, v in fine.items():
            content = content.replace(k, v)
        assert raw_post(analyst, url, content).status_code in (200, 201), url


def test_non_finite_area_coordinates_are_refused(world):
    analyst = world.staff("analyst")
    before = written(world.hub)
    for literal in NON_FINITE:
        content = ('{"purpose": "criminal_investigation", "offence": "220", "case_number": "24-1", "area": {"type": "Polygon", "coordinates": '
                   f'[[[-87.93, 42.99], [-87.91, {literal}], [-87.91, 43.01], [-87.93, 42.99]]]}}}}')
        r = raw_post(analyst, "/api/agency/search/area", content)
        assert r.status_code == 422, (literal, r.text)
        assert r.json()["error"] == "bad_geometry"
    assert written(world.hub) == before


OUT_OF_RANGE = [
    ({"lat": "north"}, "lat"),
    ({"lat": 91}, "latitude"),
    ({"lon": -181}, "longitude"),
    ({"bearing_deg": 360}, "bearing"),
    ({"fov_deg": 0}, "field of view"),
    ({"range_m": 10_000}, "range"),
    ({"owner_retention_days": -1}, "owner_retention_days"),
    ({"name": ""}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"tier": "premium"}, "tier"),
    ({"public_facing_attested": False}, "public space"),
    ({"agency_id": "no-such-agency"}, "unknown agency"),
    ({"lat": 44.0}, "outside the jurisdiction"),
    ({"sharing": {"mode": "schedule", "schedule": [{"weekday": 7, "start": "08:00", "end": "10:00"}]}}, "weekday"),
    ({"sharing": {"mode": "schedule", "schedule": [{"weekday": 1, "start": "22:00", "end": "02:00"}]}}, "midnight"),
    ({"sharing": {"mode": "sometimes"}}, "sharing.mode"),
]


def test_out_of_range_camera_fields_are_refused(world):
    owner = world.owner()
    world.agency()  # made before the snapshot, not during the refused calls
    before = written(world.hub)
    for change, words in OUT_OF_RANGE:
        r = owner.post("/api/owner/cameras", json={**camera_body(world.agency().id), **change})
        assert r.status_code == 422, (change, r.text)
        assert words in r.json()["message"], (change, r.json())
    assert written(world.hub) == before
