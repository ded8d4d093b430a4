"""Plate read ingest on both backends: authentication, idempotency, all-or-nothing batches, clear refusals."""

from __future__ import annotations

import json

import pytest

from openrtcc.domain.reads import MAX_BATCH, ReadScan
from tests.plate_reads import JPEG, PNG, b64, earlier, new_source, post_reads, read_body


def stored(hub, agency_id: str) -> list:
    with hub.uow() as uow:
        rows = uow.reads.scan(agency_id, ReadScan(), before=None, limit=10_000)
        uow.rollback()
    return [r for r, _ in rows]


def audit_actions(hub) -> list:
    with hub.uow() as uow:
        records = list(uow.audit.iter_records())
        uow.rollback()
    return records


def test_a_batch_is_stored_and_a_retry_is_acknowledged_as_duplicate(world, anon, hub, clock):
    key, source = new_source(world, default_state="WI")
    agency = world.agency().id
    reads = [read_body("cam1-0001", "abc 123", earlier(clock, seconds=5), state="IL"),
             read_body("cam1-0002", "7-XYZ-99", earlier(clock, seconds=4), region="US-MN"),
             read_body("cam1-0003", "B0S 55", earlier(clock, seconds=3), crop=b64(JPEG), snapshot=b64(PNG))]
    r = post_reads(anon, key, reads)
    assert r.status_code == 200, r.text
    assert [(a["read_id"], a["status"]) for a in r.json()["results"]] == [
        ("cam1-0001", "stored"), ("cam1-0002", "stored"), ("cam1-0003", "stored")]
    first_ids = [a["id"] for a in r.json()["results"]]
    rows = {p.read_key: p for p in stored(hub, agency)}
    assert rows["cam1-0001"].plate == "ABC123" and rows["cam1-0001"].state == "IL"
    assert rows["cam1-0002"].state == "MN"  # from the region
    assert rows["cam1-0003"].state == "WI"  # the source's default
    assert rows["cam1-0003"].plate_key == "80555"  # look-alikes folded for fuzzy search and matching
    assert rows["cam1-0003"].crop_key.endswith(".jpg") and rows["cam1-0003"].snapshot_key.endswith(".png")
    assert rows["cam1-0001"].source_id == source["id"]

    clock.advance(seconds=30)
    reads.append(read_body("cam1-0004", "QRS 777", earlier(clock, seconds=1)))
    r = post_reads(anon, key, reads)  # the edge box lost the first answer and sends everything again
    assert r.status_code == 200, r.text
    assert [a["status"] for a in r.json()["results"]] == ["duplicate", "duplicate", "duplicate", "stored"]
    assert [a["id"] for a in r.json()["results"]][:3] == first_ids
    assert r.json()["stored"] == 1 and r.json()["duplicate"] == 3
    assert len(stored(hub, agency)) == 4
    ingests = [a for a in audit_actions(hub) if a.action == "reads.ingest"]
    assert [(a.details["stored"], a.details["duplicate"]) for a in ingests] == [(3, 0), (1, 3)]
    assert all(a.target == f"source:{source['id']}" and a.agency_id == agency for a in ingests)


def test_a_changed_read_under_a_stored_id_is_a_conflict_and_nothing_of_its_batch_is_stored(world, anon, hub, clock):
    key, _ = new_source(world)
    at = earlier(clock, seconds=10)
    assert post_reads(anon, key, [read_body("r-1", "ABC123", at)]).status_code == 200
    r = post_reads(anon, key, [read_body("r-2", "NEW111", at), read_body("r-1", "ABC128", at)])
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "read_id_conflict"
    assert "'r-1'" in r.json()["message"] and r.json()["details"] == {"index": 1, "read_id": "r-1"}
    assert [p.plate for p in stored(hub, world.agency().id)] == ["ABC123"]


def test_the_same_read_id_from_two_sources_is_two_reads(world, anon, hub, clock):
    key1, _ = new_source(world, name="North")
    key2, _ = new_source(world, name="South")
    at = earlier(clock, seconds=10)
    assert post_reads(anon, key1, [read_body("0001", "ABC123", at)]).json()["stored"] == 1
    assert post_reads(anon, key2, [read_body("0001", "XYZ789", at)]).json()["stored"] == 1
    assert sorted(p.plate for p in stored(hub, world.agency().id)) == ["ABC123", "XYZ789"]


BAD_READS = [
    ({"plate": "!!!"}, "reads.2.plate", "letter or digit"),
    ({"plate": "ABCDEFGHIJK"}, "reads.2.plate", "at most 10"),
    ({"state": "ZZ"}, "reads.2.state", "unknown state"),
    ({"confidence": 1.5}, "reads.2.confidence", "less than or equal to 1"),
    ({"confidence": -0.1}, "reads.2.confidence", "greater than or equal to 0"),
    ({"lat": 91.0}, "reads.2.lat", "less than or equal to 90"),
    ({"lon": -181.0}, "reads.2.lon", "greater than or equal to -180"),
    ({"lat": None}, "reads.2", "lat and lon come together"),
    ({"heading_deg": 360}, "reads.2.heading_deg", "less than 360"),
    ({"captured_at": "2026-11-20T14:59:00"}, "reads.2.captured_at", "timezone"),
    ({"captured_at": "yesterday"}, "reads.2.captured_at", "datetime"),
    ({"region": "usa"}, "reads.2.region", "pattern"),
    ({"read_id": "has space"}, "reads.2.read_id", "pattern"),
    ({"read_id": ""}, "reads.2.read_id", "at least 1"),
    ({"vehicle_type": "spaceship"}, "reads.2.vehicle_type", "'car'"),
    ({"candidates": [{"text": "", "confidence": 0.5}]}, "reads.2.candidates.0.text", "letter or digit"),
    ({"crop": "not base64!"}, "reads.2.crop", "base64"),
    ({"crop": b64(b"GIF89a" + b"\x00" * 20)}, "reads.2.crop", "neither JPEG nor PNG"),
    ({"crop": b64(b"<svg xmlns='http://www.w3.org/2000/svg'/>")}, "reads.2.crop", "neither JPEG nor PNG"),
    ({"crop": b64(JPEG + b"\x00" * 300 * 1024)}, "reads.2.crop", "larger than 256 KiB"),
    ({"owner_name": "x"}, "reads.2.owner_name", "Extra inputs"),
]


@pytest.mark.parametrize("change,field,says", BAD_READS, ids=[b[1].split(".")[-1] + ":" + b[2] for b in BAD_READS])
def test_a_malformed_read_names_its_index_and_field_and_nothing_is_stored(world, anon, hub, clock, change, field,
                                                                          says):
    key, _ = new_source(world)
    at = earlier(clock, seconds=5)
    reads = [read_body(f"r-{n}", "ABC123", at) for n in range(4)]
    reads[2].update(change)
    r = post_reads(anon, key, reads)
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith(field + ":"), r.text
    assert says in r.json()["message"], r.text
    assert stored(hub, world.agency().id) == []


def test_nan_infinity_a_future_time_and_a_repeated_id_are_refused(world, anon, hub, clock):
    key, _ = new_source(world)
    at = earlier(clock, seconds=5)
    for value in ("NaN", "Infinity", "-Infinity"):
        doc = json.dumps({"version": 1, "reads": [read_body("r-1", "ABC123", at)]}).replace("0.93", value)
        r = anon.post("/api/ingest/reads", content=doc, headers={"Authorization": f"Bearer {key}",
                                                                 "Content-Type": "application/json"})
        assert r.status_code == 422, (value, r.text)
        assert "reads.0.confidence" in r.text
    ahead = clock.now().replace(microsecond=0) + (clock.now() - earlier(clock, minutes=6))
    r = post_reads(anon, key, [read_body("r-1", "ABC123", at), read_body("r-2", "ABC123", ahead)])
    assert r.status_code == 422 and r.json()["error"] == "clock_skew", r.text
    assert r.json()["details"] == {"index": 1, "field": "captured_at"}
    r = post_reads(anon, key, [read_body("r-1", "ABC123", at), read_body("r-2", "XYZ1", at),
                               read_body("r-1", "ABC123", at)])
    assert r.status_code == 422 and r.json()["error"] == "duplicate_read_id", r.text
    assert r.json()["message"].startswith("reads.2.read_id") and "reads.0" in r.json()["message"]
    assert stored(hub, world.agency().id) == []


def test_batch_envelope_limits(world, anon, hub, clock):
    key, _ = new_source(world)
    at = earlier(clock, seconds=5)
    assert post_reads(anon, key, [], version=1).status_code == 422
    r = post_reads(anon, key, [read_body("r-1", "ABC123", at)], version=2)
    assert r.status_code == 422 and r.json()["message"].startswith("version:"), r.text
    r = post_reads(anon, key, [read_body(f"r-{n}", "ABC123", at) for n in range(MAX_BATCH + 1)])
    assert r.status_code == 422 and r.json()["message"].startswith("reads:") and "500" in r.text, r.text
    r = anon.post("/api/ingest/reads", content=b"{not json", headers={"Authorization": f"Bearer {key}",
                                                                      "Content-Type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["message"], r.text
    r = post_reads(anon, key, [read_body(f"r-{n}", "ABC123", at) for n in range(MAX_BATCH)])
    assert r.status_code == 200 and r.json()["stored"] == MAX_BATCH
    assert len(stored(hub, world.agency().id)) == MAX_BATCH


def test_unknown_missing_and_revoked_keys_get_401_and_are_audited_without_the_key(world, anon, hub, clock):
    key, source = new_source(world)
    at = earlier(clock, seconds=5)
    body = [read_body("r-1", "ABC123", at)]
    assert post_reads(anon, None, body).status_code == 401
    r = post_reads(anon, "rtcc_src_not-a-key", body)
    assert r.status_code == 401 and r.json()["error"] == "unknown_source_key"
    # The key is checked before the body: a malformed body from a stranger still hears only 401.
    r = anon.post("/api/ingest/reads", content=b"{not json", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    assert post_reads(anon, key, body).status_code == 200
    r = world.admin().post(f"/api/agency/read-sources/{source['id']}/revoke")
    assert r.status_code == 200 and r.json()["active"] is False
    r = post_reads(anon, key, [read_body("r-2", "ABC123", at)])
    assert r.status_code == 401 and r.json()["error"] == "source_revoked"
    assert len(stored(hub, world.agency().id)) == 1
    records = audit_actions(hub)
    refused = [a for a in records if a.action == "source.refused"]
    assert [(a.target, a.details) for a in refused] == [(f"source:{source['id']}", {"reason": "revoked"})]
    assert sum(1 for a in records if a.action == "http.refused" and a.target == "POST /api/ingest/reads") == 4
    assert not any(key in json.dumps(a.details) or key in (a.target or "") for a in records)
    assert "rtcc_src_not-a-key" not in json.dumps([a.details for a in records])


def test_camera_ids_must_be_cameras_of_the_sources_agency(world, anon, hub, clock):
    owner = world.owner()
    ours = world.camera(owner)
    theirs = world.camera(world.owner("Hal"), slug="harbor")
    key, _ = new_source(world)
    at = earlier(clock, seconds=5)
    assert post_reads(anon, key, [read_body("r-1", "ABC123", at, camera_id=ours["id"])]).status_code == 200
    r = post_reads(anon, key, [read_body("r-2", "ABC124", at), read_body("r-3", "ABC125", at,
                                                                          camera_id=theirs["id"])])
    assert r.status_code == 422 and r.json()["error"] == "unknown_camera", r.text
    assert r.json()["message"].startswith("reads.1.camera_id")
    assert [p.read_key for p in stored(hub, world.agency().id)] == ["r-1"]


def test_read_sources_are_managed_by_the_agency_administrator_only(world, anon):
    key, source = new_source(world, kind="edge", default_state="us-wi")
    assert source["default_state"] == "WI" and source["kind"] == "edge" and key.startswith("rtcc_src_")
    listed = world.admin().get("/api/agency/read-sources").json()
    assert [s["id"] for s in listed] == [source["id"]] and "key" not in listed[0] and "key_hash" not in listed[0]
    for role in ("supervisor", "officer", "auditor"):
        s = world.staff(role)
        assert s.post("/api/agency/read-sources", json={"name": "x"}).status_code == 403
        assert s.get("/api/agency/read-sources").status_code == 403
    other = world.admin("harbor")
    assert other.get("/api/agency/read-sources").json() == []
    assert other.post(f"/api/agency/read-sources/{source['id']}/revoke").status_code == 404
    r = world.admin().post("/api/agency/read-sources", json={"name": "x", "default_state": "ZZ"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_state"
