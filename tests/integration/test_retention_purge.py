"""The hub's retention purge with a frozen and a jumped clock, verified at every layer: rows, media files,
the raw SQLite files, held cases kept, orphans both ways, the deletion report and its audit record."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from openrtcc.adapters.db.tables import (
    alert,
    alert_tally,
    audit_log,
    camera_access,
    case_read,
    evidence_item,
    hot_list_entry,
    plate_read,
    retention_run,
    tip,
)
from openrtcc.read_partition_wiring import keep_partitions_ahead
from openrtcc.services.retention import run_purge
from tests.plate_reads import JPEG, PNG, b64, import_list, new_source, post_reads, read_body

GONE_PLATE = "ZQX9041"  # on a hot list: its read raises an alert, then everything about it expires
HELD_PLATE = "KHL5523"  # locked into a held case: its copy and images survive
FRESH_PLATE = "FRS7788"  # read after the jump: stays


HEADER = "plate,state,reason,owner,expires_at\n"


def jpeg(marker: bytes) -> bytes:
    return JPEG[:-2] + marker + b"\xff\xd9"


def real_jpeg() -> bytes:
    """A tip photo is decoded and re-encoded (its metadata scrubbed): it must be a real picture."""
    return cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))[1].tobytes()


def rows(hub, table, *where) -> list:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(table).where(*where)).all()


def count(hub, table) -> int:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def relog(world, session):
    """Sessions end while the clock is away for a month: log on again as the same person."""
    return world.log_on(session.email, secret=session.totp_secret)


def evidence_upload(world, analyst, owner, cam, case_number: str, data: bytes) -> dict:
    now = world.clock.now()
    r = analyst.post("/api/agency/footage-requests", json={
        "case_number": case_number, "purpose": "burglary on Main St", "lat": 43.0, "lon": -87.92, "radius_m": 150,
        "window_start": (now - timedelta(hours=3)).isoformat(), "window_end": (now - timedelta(hours=2)).isoformat()})
    assert r.status_code == 201, r.text
    r = owner.post(f"/api/owner/requests/{r.json()['id']}/cameras/{cam['id']}/clip",
                   files={"file": ("still.jpg", data, "image/jpeg")})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def scene(world, anon, clock, hub):
    keep_partitions_ahead(hub)  # as a serving hub does at start (PostgreSQL; nothing on SQLite)
    agency = world.agency()
    key, _ = new_source(world)
    import_list(world, "stolen", "custom", f"{HEADER}{GONE_PLATE},,stolen in a burglary,Det. Moss,2027-01-01\n")
    now = clock.now()
    r = post_reads(anon, key, [
        read_body("gone-1", GONE_PLATE, now - timedelta(minutes=2), crop=b64(jpeg(b"gone-crop")), snapshot=b64(PNG)),
        read_body("held-1", HELD_PLATE, now - timedelta(minutes=1), crop=b64(jpeg(b"held-crop")))])
    assert r.status_code == 200, r.text
    supervisor = world.staff("supervisor")
    assert supervisor.post("/api/retention/holds", json={"case_number": "2026-0042",
                                                         "reason": "preservation letter"}).status_code == 201
    held_read = rows(world.hub, plate_read, plate_read.c.read_key == "held-1")[0]
    r = supervisor.post("/api/retention/cases/2026-0042/reads", json={"read_id": held_read.id})
    assert r.status_code == 201, r.text
    owner = world.owner("Alice")
    cam = world.camera(owner)
    analyst = world.staff("analyst")
    held_clip = evidence_upload(world, analyst, owner, cam, "2026-0042", jpeg(b"held-evidence"))
    gone_clip = evidence_upload(world, analyst, owner, cam, "24-5001", jpeg(b"gone-evidence"))
    assert anon.post("/api/public/tips", data={"agency_id": agency.id, "text": "Someone trying car doors"},
                     files={"media": ("t.jpg", real_jpeg(), "image/jpeg")}).status_code == 201
    # The hot list moves on; its plate then lives only in what the read left behind.
    import_list(world, "stolen", "custom", f"{HEADER}AAA111,,stolen in a burglary,Det. Moss,2027-01-01\n")
    return {"agency": agency, "key": key, "supervisor": supervisor, "analyst": analyst, "held_read": held_read,
            "held_clip": held_clip, "gone_clip": gone_clip}


def test_a_jumped_clock_is_refused_then_the_accepted_purge_deletes_at_every_layer(hub, world, anon, clock,
                                                                                   scene, settings, backend):
    admin = world.admin()
    media = Path(settings.media_dir)
    gone = rows(hub, plate_read, plate_read.c.read_key == "gone-1")[0]
    assert len(rows(hub, alert, alert.c.read_id == gone.id)) == 1
    first = admin.post("/api/retention/run", json={})  # frozen clock: a purge that finds nothing due
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "done" and first.json()["report"]["agencies"][0]["deleted"]["plate_read"] == 0
    audit_before = count(hub, audit_log)

    clock.advance(days=31)  # a month with no purge looks like a clock that jumped
    admin = relog(world, admin)
    refused = admin.post("/api/retention/run", json={}).json()
    assert (refused["outcome"], refused["report"]["clock"]) == ("refused", "jumped_forward")
    assert len(rows(hub, plate_read)) == 2 and (media / gone.crop_key).exists()

    fresh_key = None
    r = post_reads(anon, scene["key"], [read_body("fresh-1", FRESH_PLATE, clock.now(), crop=b64(jpeg(b"fresh")))])
    assert r.status_code == 200, r.text
    fresh = rows(hub, plate_read, plate_read.c.read_key == "fresh-1")[0]
    (media / fresh.crop_key).unlink()  # a row whose file went missing: reported, not fixed
    fresh_key = fresh.crop_key
    stray = f"reads/{scene['agency'].id}/zz/{'0' * 64}.jpg"
    (media / stray).parent.mkdir(parents=True, exist_ok=True)
    (media / stray).write_bytes(jpeg(b"orphan"))  # a file no row names
    os.utime(media / stray, (0, 0))

    ran = admin.post("/api/retention/run", json={"accept_clock_jump": True})
    assert ran.status_code == 200, ran.text
    doc = ran.json()
    assert doc["outcome"] == "done" and doc["report"]["accepted_clock_jump"] is True
    section = doc["report"]["agencies"][0]
    assert section["deleted"]["plate_read"] == 2 and section["deleted"]["alert"] == 1
    assert section["deleted"]["evidence_item"] == 1 and section["deleted"]["tip"] == 1
    assert section["kept_by_holds"] == {"evidence_item": 1, "edge_clip": 0, "case_read": 1}
    assert section["held_cases"] == ["2026-0042"]
    assert section["orphan_examples"] == [stray] and section["orphan_files_deleted"] == 1
    assert section["missing_files"] == 1 and section["missing_examples"][0]["key"] == fresh_key

    # rows
    assert [r.read_key for r in rows(hub, plate_read)] == ["fresh-1"]
    assert rows(hub, alert) == [] and count(hub, tip) == 0
    assert [e.id for e in rows(hub, evidence_item)] == [scene["held_clip"]["id"]]
    assert [c.read_id for c in rows(hub, case_read)] == [scene["held_read"].id]
    assert sum(t.count for t in rows(hub, alert_tally)) == 1
    # files: the expired read's images and evidence gone; the locked read's crop and the held clip kept
    assert not (media / gone.crop_key).exists() and not (media / gone.snapshot_key).exists()
    assert (media / scene["held_read"].crop_key).exists()
    assert not (media / stray).exists()
    stored = {p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()}
    assert not any(k.startswith("tips/") for k in stored)
    assert scene["held_clip"]["id"] in " ".join(stored) and scene["gone_clip"]["id"] not in " ".join(stored)
    # the audit trail is never purged, and the purge is in it
    assert count(hub, audit_log) > audit_before
    purges = rows(hub, audit_log, audit_log.c.action == "retention.purge")
    assert [p.outcome for p in purges] == ["success", "refused", "success"]
    assert [r.outcome for r in rows(hub, retention_run)] and count(hub, retention_run) == 3
    if backend == "postgres":  # the reads' day went as a whole partition, not row by row
        full = rows(hub, retention_run, retention_run.c.id == doc["id"])[0].report
        assert "plate_read_p20261120" in full["partitions_dropped"] and full["partition_reads"] == 2
        assert doc["report"]["partitions_dropped"] == full["partitions_dropped"]
        assert doc["report"]["partition_reads"] == 0  # another agency's volume is not an admin's to see
        with hub.uow() as uow:
            assert "plate_read_p20261120" not in [p.name for p in uow.read_partitions.partitions()]
            uow.rollback()
    if backend == "sqlite":
        raw = b"".join(p.read_bytes() for p in (media.parent).glob("rtcc.db*"))
        assert HELD_PLATE.encode() in raw  # the locked copy: proof the search below can find a plate
        assert GONE_PLATE.encode() not in raw  # not in the database, its free pages or its write-ahead log


@pytest.mark.parametrize("backend", ["sqlite"])  # the rules of the run; both stores are covered above
def test_a_clock_set_back_or_a_dry_run_deletes_nothing_and_a_released_case_expires(hub, world, clock, scene,
                                                                                   settings):
    run_purge(hub, "cli")
    clock.advance(days=-40)
    report = run_purge(hub, "cli")
    assert (report.outcome, report.clock) == ("refused", "behind_last_run")
    clock.advance(days=71)
    report = run_purge(hub, "cli", accept_clock_jump=True, dry_run=True)
    assert report.dry_run and report.agencies[0].deleted["plate_read"] == 2
    assert report.agencies[0].kept_by_holds["case_read"] == 1
    assert len(rows(hub, plate_read)) == 2 and count(hub, evidence_item) == 2 and count(hub, retention_run) == 2
    actions = [a.action for a in rows(hub, audit_log, audit_log.c.action.like("retention.%"))]
    assert actions[-1] == "retention.dry_run"

    supervisor = relog(world, scene["supervisor"])
    holds = supervisor.get("/api/retention/holds?active=true").json()
    assert supervisor.post(f"/api/retention/holds/{holds[0]['id']}/release").status_code == 200
    report = run_purge(hub, "cli", accept_clock_jump=True)
    assert report.agencies[0].deleted["case_read"] == 1 and report.agencies[0].deleted["evidence_item"] == 2
    assert count(hub, case_read) == 0 and count(hub, evidence_item) == 0
    assert not (Path(settings.media_dir) / scene["held_read"].crop_key).exists()
    assert count(hub, hot_list_entry) == 1
    # Owners' logs of who looked at their cameras are kept a year, like the audit trail; then they go too.
    assert count(hub, camera_access) > 0 and report.hub_deleted["camera_access"] == 0
    audit_rows = count(hub, audit_log)
    clock.advance(days=335)
    report = run_purge(hub, "cli", accept_clock_jump=True)
    assert report.hub_deleted["camera_access"] > 0 and count(hub, camera_access) == 0
    assert count(hub, audit_log) == audit_rows + 1  # never purged: only the purge's own record was added
    exposed = hub.metrics.exposition().decode()
    assert 'rtcc_retention_runs_total{outcome="refused"} 1.0' in exposed
    assert 'rtcc_retention_runs_total{outcome="done"} 3.0' in exposed
    assert 'rtcc_retention_deleted_total{kind="plate_read"} 2.0' in exposed
    assert "rtcc_retention_last_success_timestamp_seconds " in exposed


@pytest.mark.parametrize("backend", ["sqlite"])
def test_search_logs_and_search_approvals_expire_with_the_agencys_window(hub, world, clock):
    from openrtcc.adapters.db.tables import search_approval, search_log

    agency = world.agency()
    me = world.admin().get("/api/auth/me").json()
    user_id = me.get("id") or me["user_id"]
    asked = clock.now()
    with hub.extras["engine"].begin() as conn:
        conn.execute(search_log.insert().values(
            agency_id=agency.id, user_id=user_id, kind="plate", purpose="stolen_vehicle", offence="240",
            case_number="LPD-26-1", plate_hash="0" * 64, outcome="done", at=asked))
        conn.execute(search_approval.insert().values(
            id="a1", agency_id=agency.id, requested_by=user_id, kind="area", purpose="criminal_investigation",
            offence="220", case_number="LPD-26-1", justification="a wide area", scope={"radius_m": 900},
            camera_count=80, status="approved", created_at=asked, expires_at=asked + timedelta(hours=24)))
    run_purge(hub, "cli")
    assert count(hub, search_log) == 1 and count(hub, search_approval) == 1  # inside the window: kept
    clock.advance(days=31)
    report = run_purge(hub, "cli", accept_clock_jump=True)
    mine = next(a for a in report.agencies if a.agency_id == agency.id)
    assert (mine.deleted["search_log"], mine.deleted["search_approval"]) == (1, 1)
    assert count(hub, search_log) == 0 and count(hub, search_approval) == 0
