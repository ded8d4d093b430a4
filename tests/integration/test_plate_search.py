"""Plate search on both backends: purpose and case number required, agency-scoped, paged, exported safely."""

from __future__ import annotations

import csv
import io
import json

from openrtcc.domain.geo import Point, destination
from tests.plate_reads import earlier, new_source, post_reads, read_body

WHY = {"purpose": "stolen_vehicle", "offence": "240", "case_number": "24-3003"}
CENTER = Point(43.0, -87.92)


def ingest_city(world, anon, clock, slug: str = "lakeport") -> None:
    key, _ = new_source(world, slug=slug)
    near, far = destination(CENTER, 45, 150), destination(CENTER, 90, 2_000)
    reads = [
        read_body("r-1", "ABC123", earlier(clock, hours=3), lat=near.lat, lon=near.lon),
        read_body("r-2", "ABC123", earlier(clock, hours=2), lat=far.lat, lon=far.lon),
        read_body("r-3", "A8C123", earlier(clock, hours=1), lat=near.lat, lon=near.lon),
        read_body("r-4", "XABC12", earlier(clock, minutes=30), lat=near.lat, lon=near.lon,
                  vehicle_make="=HYPERLINK(\"http://evil.example\")", vehicle_colour="+red"),
        read_body("r-5", "QRS777", earlier(clock, days=3), lat=near.lat, lon=near.lon),
    ]
    assert post_reads(anon, key, reads).status_code == 200


def plates(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [x["plate"] for x in r.json()["results"]]


def test_search_by_plate_partial_lookalike_and_area(world, anon, clock):
    ingest_city(world, anon, clock)
    ingest_city(world, anon, clock, slug="harbor")  # the same plates in the agency next door
    analyst = world.staff("analyst")
    search = "/api/agency/plates/search"
    assert plates(analyst.post(search, json={**WHY, "plate": "abc-123"})) == ["ABC123", "ABC123"]
    assert plates(analyst.post(search, json={**WHY, "plate": "ABC123", "lookalikes": True})) == [
        "A8C123", "ABC123", "ABC123"]
    assert plates(analyst.post(search, json={**WHY, "partial": "*BC12*"})) == ["XABC12", "ABC123", "ABC123"]
    assert plates(analyst.post(search, json={**WHY, "partial": "A?C123"})) == ["A8C123", "ABC123", "ABC123"]
    window = {"since": earlier(clock, hours=4).isoformat(), "until": clock.now().isoformat()}
    near = analyst.post(search, json={**WHY, "lat": CENTER.lat, "lon": CENTER.lon, "radius_m": 500, **window})
    assert plates(near) == ["XABC12", "A8C123", "ABC123"]  # not the far read, not the one 3 days ago
    square = {"type": "Polygon", "coordinates": [[[-87.93, 42.99], [-87.91, 42.99], [-87.91, 43.01],
                                                 [-87.93, 43.01], [-87.93, 42.99]]]}
    assert plates(analyst.post(search, json={**WHY, "area": square, **window})) == ["XABC12", "A8C123", "ABC123"]
    assert plates(analyst.post(search, json={**WHY, "plate": "ABC123", "lat": CENTER.lat, "lon": CENTER.lon,
                                             "radius_m": 500})) == ["ABC123"]


def test_a_search_needs_a_purpose_and_a_case_number_and_a_bounded_area_window(world, anon, clock, hub):
    ingest_city(world, anon, clock)
    analyst = world.staff("analyst")
    search = "/api/agency/plates/search"
    bad = [
        ({"plate": "ABC123", "offence": "240", "case_number": "24-1"}, "purpose"),
        ({"plate": "ABC123", "purpose": "stolen_vehicle", "offence": "240"}, "case"),
        ({"plate": "ABC123", "purpose": "stolen vehicle follow-up", "offence": "240", "case_number": "24-1"},
         "free text is not a purpose"),
        ({"plate": "ABC123", "purpose": "stolen_vehicle", "case_number": "24-1"}, "offence"),
        ({"plate": "ABC123", "purpose": "stolen_vehicle", "offence": "NONE", "case_number": "24-1"}, "offence"),
        ({"plate": "ABC123", "purpose": "stolen_vehicle", "offence": "240", "case_number": "   "}, "case"),
        ({**WHY, "plate": "ABC123", "note": "n" * 301}, "note"),
        ({**WHY}, "give a plate"),
        ({**WHY, "partial": "A*"}, "3 known characters"),
        ({**WHY, "plate": "ABC123", "partial": "ABC*"}, "not both"),
        ({**WHY, "lat": 43.0, "lon": -87.92, "radius_m": 500}, "time window"),
        ({**WHY, "lat": 43.0, "lon": -87.92, "radius_m": 500, "since": earlier(clock, days=40).isoformat(),
          "until": clock.now().isoformat()}, "at most 31 days"),
        ({**WHY, "plate": "ABC123", "lat": 43.0, "radius_m": 500}, "lat"),
        ({**WHY, "plate": "ABC123", "lat": 43.0, "lon": -87.92, "radius_m": 50_000}, "radius"),
        ({**WHY, "plate": "ABC123", "cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({**WHY, "plate": "ABC123", "since": "2026-11-20T10:00:00"}, "since"),
        ({**WHY, "plate": "ABC123", "agency_id": "other"}, "agency_id"),
    ]
    for body, says in bad:
        r = analyst.post(search, json=body)
        assert r.status_code == 422, (body, r.text)
        assert says in r.json()["message"], (body, r.text)
    for role in ("officer", "auditor"):
        assert world.staff(role).post(search, json={**WHY, "plate": "ABC123"}).status_code == 403
    assert world.admin().post(search, json={**WHY, "plate": "ABC123"}).status_code == 403
    with hub.uow() as uow:
        searches = [a for a in uow.audit.iter_records() if a.action == "plate.search"]
        uow.rollback()
    # Refused searches ran no query: each left only its refusal in the audit trail.
    assert searches and {a.outcome for a in searches} == {"denied"}


def test_searches_are_audited_with_the_plate_minimised_and_pages_follow(world, anon, clock, hub):
    ingest_city(world, anon, clock)
    analyst = world.staff("analyst")
    first = analyst.post("/api/agency/plates/search", json={**WHY, "partial": "*BC12*", "page_size": 2})
    assert plates(first) == ["XABC12", "ABC123"] and first.json()["next_cursor"]
    second = analyst.post("/api/agency/plates/search", json={**WHY, "partial": "*BC12*", "page_size": 2,
                                                               "cursor": first.json()["next_cursor"]})
    assert plates(second) == ["ABC123"] and second.json()["next_cursor"] is None
    assert plates(analyst.post("/api/agency/plates/search", json={**WHY, "plate": "ABC123"})) == ["ABC123"] * 2
    with hub.uow() as uow:
        searches = [a for a in uow.audit.iter_records() if a.action == "plate.search"]
        uow.rollback()
    assert [(a.details["mode"], a.details["plate"], a.details["count"]) for a in searches] == [
        ("partial", "*BC###", 2), ("partial", "*BC###", 1), ("plate", "ABC###", 2)]
    assert all(a.details["purpose"] == WHY["purpose"] and a.details["case"] == WHY["case_number"] for a in searches)
    assert "ABC123" not in json.dumps([a.details for a in searches])


def test_exports_as_csv_and_json_with_formulas_defused(world, anon, clock, hub):
    ingest_city(world, anon, clock)
    supervisor = world.staff("supervisor")
    r = supervisor.post("/api/agency/plates/search?format=csv", json={**WHY, "partial": "*BC12*"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="plate-search-24-3003.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [x["plate"] for x in rows] == ["XABC12", "ABC123", "ABC123"]
    assert rows[0]["vehicle_make"] == "'=HYPERLINK(\"http://evil.example\")" and rows[0]["vehicle_colour"] == "'+red"
    assert rows[1]["vehicle_make"] == "" and float(rows[1]["lon"]) < 0  # numbers stay numbers
    r = supervisor.post("/api/agency/plates/search?format=json", json={**WHY, "plate": "ABC123"})
    doc = r.json()
    assert r.headers["x-export-truncated"] == "0" and doc["truncated"] is False and doc["count"] == 2
    assert doc["case_number"] == "24-3003" and {x["plate"] for x in doc["reads"]} == {"ABC123"}
    assert supervisor.post("/api/agency/plates/search?format=xlsx", json={**WHY, "plate": "ABC123"}).status_code == 422
    with hub.uow() as uow:
        exports = [a.details["format"] for a in uow.audit.iter_records() if a.action == "plate.export"]
        uow.rollback()
    assert exports == ["csv", "json"]
