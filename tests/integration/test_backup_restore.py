"""Backup and restore of the hub on SQLite and PostgreSQL: what the purge and an owner deleted after the backup
stays deleted after the restore (the erasure journal replayed), what was kept comes back readable, the audit
chain verifies with the restore recorded in it; damaged, newer-schema and over-data restores are refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from openrtcc.adapters.db.tables import (
    alert,
    audit_log,
    camera,
    case_read,
    inbound_integration,
    legal_hold,
    plate_read,
    read_source,
)
from openrtcc.adapters.storage.key_backup import restore_keys, save_keys
from openrtcc.backup_command import database_backup, key_locations, raw_media_store
from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
from openrtcc.domain.backup import MANIFEST_NAME
from openrtcc.domain.errors import Conflict
from openrtcc.read_partition_wiring import keep_partitions_ahead
from openrtcc.services import erasures
from openrtcc.services.audit_trail import verify_chain
from openrtcc.services.backup import create_backup, verify_backup
from openrtcc.services.restore import BackupRefused, RestoreTarget, restore_backup
from openrtcc.services.retention import run_purge
from tests.plate_reads import JPEG, b64, import_list, new_source, post_reads, read_body
from tests.s3_server import s3_bucket, s3_endpoint  # noqa: F401 - fixtures

OLD_PLATE = "ZQX9041"  # on the hot list: its read raises an alert; purged after the backup
NEW_PLATE = "FRS7788"  # read later: inside the window at restore time, kept
HEADER = "plate,state,reason,owner,expires_at\n"


def crop(marker: bytes) -> bytes:
    return JPEG[:-2] + marker + b"\xff\xd9"


def rows(hub, table, *where) -> list:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(table).where(*where)).all()


@pytest.fixture
def target_settings(tmp_path, backend, settings, request) -> Settings:
    """A new machine: a fresh data folder and media store, a new database (PostgreSQL: migrated, empty), the
    live hub's erasure journal (kept apart from the data, on storage that outlives it)."""
    url = None
    if backend == "postgres":
        url = request.getfixturevalue("pg_databases")()
        assert url != settings.database_url
    return Settings(data_dir=tmp_path / "restored", database_url=url, smtp_host=None, tile_url="",
                    erasure_dir=settings.erasure_journal_dir)


@pytest.fixture
def backed_up(world, anon, clock, hub, settings, tmp_path):
    """Reads with crops (one alert), two cameras; the backup taken 20 days after the first read."""
    keep_partitions_ahead(hub)
    world.agency()
    key, source = new_source(world)
    import_list(world, "stolen", "custom", f"{HEADER}{OLD_PLATE},,stolen,Det. Moss,2027-01-01\n")
    assert post_reads(anon, key, [read_body("old-1", OLD_PLATE, clock.now(), crop=b64(crop(b"old")))]).status_code == 200
    integration = world.admin().post("/api/integrations", json={
        "kind": "gunshot", "name": "Acoustic sensors", "config": {"emergency": {"radius_m": 400, "minutes": 20}}})
    assert integration.status_code == 201, integration.text
    owner = world.owner("Alice")
    kept_cam, gone_cam = world.camera(owner, name="Porch"), world.camera(owner, name="Driveway", lat=43.01)
    supervisor = world.staff("supervisor")  # the old read locked into a held case, released after the backup
    hold = supervisor.post("/api/retention/holds", json={"case_number": "2026-0042", "reason": "preservation letter"})
    assert hold.status_code == 201, hold.text
    old = rows(hub, plate_read, plate_read.c.read_key == "old-1")[0]
    assert supervisor.post("/api/retention/cases/2026-0042/reads", json={"read_id": old.id}).status_code == 201
    clock.advance(days=20)
    keep_partitions_ahead(hub)
    assert post_reads(anon, key, [read_body("new-1", NEW_PLATE, clock.now(), crop=b64(crop(b"new")))]).status_code == 200
    folder = tmp_path / "backup"
    manifest = create_backup(hub, database_backup(settings), raw_media_store(settings), folder,
                             media_sealed=settings.media_encryption)
    keys = tmp_path / "keys"
    save_keys(key_locations(settings), keys)
    return {"owner": owner, "kept_cam": kept_cam, "gone_cam": gone_cam, "folder": folder, "manifest": manifest,
            "keys": keys, "supervisor": supervisor, "hold": hold.json(), "source": source,
            "integration": integration.json()}


def restore_target(target_settings: Settings, clock) -> RestoreTarget:
    from openrtcc.adapters.storage.erasure_journal import FileErasureJournal

    return RestoreTarget(db=database_backup(target_settings), raw_media=raw_media_store(target_settings),
                         journal=FileErasureJournal(target_settings.erasure_journal_dir),
                         build_hub=lambda: build_hub(target_settings, clock=clock, run_migrations=False,
                                                     fast_hashing=True))


def test_a_restore_keeps_deleted_data_deleted(hub, world, clock, settings, target_settings, backed_up, backend):
    m = backed_up["manifest"]
    old = rows(hub, plate_read, plate_read.c.read_key == "old-1")[0]
    new = rows(hub, plate_read, plate_read.c.read_key == "new-1")[0]
    assert m.audit_head.sequence > 0 and {f"media/{old.crop_key}", f"media/{new.crop_key}"} <= {
        f.path for f in m.files}
    assert verify_backup(backed_up["folder"]).ok
    assert len(rows(hub, alert)) == 1

    # After the backup: the hold is released and the read source revoked; eleven days on the purge takes the first
    # read, its locked copy, its alert and crop; the owner withdraws a camera.
    sup, admin = (world.log_on(s.email, secret=s.totp_secret) for s in (backed_up["supervisor"], world.admin()))
    assert sup.post(f"/api/retention/holds/{backed_up['hold']['id']}/release").status_code == 200
    assert admin.post(f"/api/agency/read-sources/{backed_up['source']['id']}/revoke").status_code == 200
    assert admin.post(f"/api/integrations/{backed_up['integration']['id']}/revoke").status_code == 200
    clock.advance(days=11)
    report = run_purge(hub, "cli", accept_clock_jump=True)
    assert report.outcome == "done" and report.agencies[0].deleted["plate_read"] == 1
    assert not (Path(settings.media_dir) / old.crop_key).exists()
    owner = world.log_on(backed_up["owner"].email)  # sessions end while the clock is away
    assert owner.delete(f"/api/owner/cameras/{backed_up['gone_cam']['id']}").status_code == 200

    restore_keys(backed_up["keys"], key_locations(target_settings))
    r = restore_backup(backed_up["folder"], restore_target(target_settings, clock))
    assert r.replayed["retention_cutoff"] >= 2 and r.replayed["camera_withdrawn"] == 1
    assert r.replayed["hold_released"] == r.replayed["source_revoked"] == r.replayed["integration_revoked"] == 1
    assert (r.media_restored, r.media_dropped) == (1, 1) and r.purge == "done"

    restored = build_hub(target_settings, clock=clock, run_migrations=False, fast_hashing=True)
    try:
        assert [x.read_key for x in rows(restored, plate_read)] == ["new-1"]
        assert rows(restored, alert) == [] and rows(restored, case_read) == []
        assert [h.released_at is not None for h in rows(restored, legal_hold)] == [True]
        assert [x.revoked_at is not None for x in rows(restored, read_source)] == [True]  # its key stays dead
        assert [x.revoked_at is not None for x in rows(restored, inbound_integration)] == [True]
        cams = {c.id: c.status for c in rows(restored, camera)}
        assert cams == {backed_up["kept_cam"]["id"]: "active", backed_up["gone_cam"]["id"]: "withdrawn"}
        media = Path(target_settings.media_dir)
        assert not (media / old.crop_key).exists()
        with restored.media.open(new.crop_key) as f:  # sealed under the agency key put back from the key folder
            assert f.read() == crop(b"new")
        chain = verify_chain(restored)
        assert chain.ok and chain.head_seq > m.audit_head.sequence
        last = rows(restored, audit_log, audit_log.c.action == "backup.restore")
        assert len(last) == 1 and last[0].target == f"backup:{m.backup_id}"
        assert last[0].details["replayed"] == r.replayed and OLD_PLATE not in json.dumps(last[0].details)
        again = erasures.replay(restored, restore_target(target_settings, clock).journal.entries()[0])
        assert sum(again.values()) == 0  # idempotent: a second replay finds nothing left to do
        if backend == "postgres":  # the daily partitions came through the dump as partitions
            with restored.uow().reading() as uow:
                assert uow.read_partitions.is_partitioned()
                assert f"plate_read_p{new.captured_at:%Y%m%d}" in [p.name for p in uow.read_partitions.partitions()]
    finally:
        restored.extras["engine"].dispose()


@pytest.mark.parametrize("backend", ["sqlite"])  # the refusals are the backend's neither
def test_damaged_newer_or_over_data_restores_are_refused_and_change_nothing(hub, world, clock, settings,
                                                                          target_settings, backed_up):
    folder = backed_up["folder"]
    target = restore_target(target_settings, clock)
    with pytest.raises(Conflict) as over:  # restoring over the live hub's own database
        restore_backup(folder, restore_target(settings, clock))
    assert over.value.code == "restore_target_not_empty"

    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    media_file = next(p for p in manifest["files"] if p["path"].startswith("media/reads/"))["path"]
    original = (folder / media_file).read_bytes()
    (folder / media_file).write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(BackupRefused) as damaged:
        restore_backup(folder, target)
    assert damaged.value.code == "backup_damaged" and media_file in damaged.value.message
    (folder / media_file).write_bytes(original)

    edited = dict(manifest, created_at="2020-01-01T00:00:00Z")  # a hand-edited manifest
    (folder / MANIFEST_NAME).write_text(json.dumps(edited))
    assert [p.path for p in verify_backup(folder).problems] == [MANIFEST_NAME]

    from openrtcc.domain.backup import BackupManifest

    newer = BackupManifest.model_validate(dict(manifest, schema_revision="0099_from_the_future")).sealed()
    (folder / MANIFEST_NAME).write_text(newer.model_dump_json())
    with pytest.raises(BackupRefused) as future:
        restore_backup(folder, target)
    assert future.value.code == "backup_schema_newer" and "0099_from_the_future" in future.value.message
    assert not target_settings.resolved_database_url.endswith("x") and not Path(
        target_settings.resolved_database_url.removeprefix("sqlite:///")).exists()
    assert next(iter(target.raw_media.iter_keys("")), None) is None


    # A deletion the journal cannot record does not happen: the camera stays, and the owner is told to retry.
    settings.erasure_journal_dir.write_text("a file where the journal's folder should be")
    owner = world.log_on(backed_up["owner"].email)
    r = owner.delete(f"/api/owner/cameras/{backed_up['gone_cam']['id']}")
    assert r.status_code == 503 and r.json()["error"] == "erasure_journal_unavailable"
    assert {c.status for c in rows(hub, camera)} == {"active"}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_rtcc_backup_command_round_trip(hub, world, settings, tmp_path, monkeypatch, capsys):
    from openrtcc.cli import main

    world.owner("Bob")  # something worth backing up: an account and its audit records
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.database_url)
    folder, keys = tmp_path / "nightly", tmp_path / "vault"
    assert main(["backup", "create", "--to", str(folder), "--include-keys", str(folder / "keys")]) == 1
    assert not folder.exists()  # refused before anything was written
    assert main(["backup", "create", "--to", str(folder), "--include-keys", str(keys)]) == 0
    assert (keys / "hub-secret.key").exists() and not list(folder.rglob("*.key"))
    assert main(["backup", "create", "--to", str(folder)]) == 1  # never into a used folder
    assert main(["backup", "verify", str(folder)]) == 0
    db_file = folder / "database" / "hub.sqlite3"
    db_file.write_bytes(db_file.read_bytes() + b"\0")
    capsys.readouterr()
    assert main(["backup", "verify", str(folder)]) == 1
    assert "database/hub.sqlite3: size" in capsys.readouterr().err
    db_file.write_bytes(db_file.read_bytes()[:-1])

    monkeypatch.setenv("RTCC_DATA_DIR", str(tmp_path / "new-machine"))
    monkeypatch.delenv("RTCC_DATABASE_URL")
    assert main(["backup", "restore", "--from", str(folder)]) == 1  # no terminal to confirm at, no --yes
    assert not (tmp_path / "new-machine" / "rtcc.db").exists()
    assert main(["backup", "restore", "--from", str(folder), "--keys-from", str(keys), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "audit chain intact" in out and (tmp_path / "new-machine" / "hub-secret.key").read_bytes() == (
        keys / "hub-secret.key").read_bytes()
    assert main(["audit", "verify"]) == 0
    assert main(["backup", "restore", "--from", str(folder), "--yes"]) == 1  # now it holds data
    assert "not empty" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["sqlite"])  # the media store is what differs here
def test_media_restored_into_a_bucket_and_backed_up_from_it_byte_for_byte(hub, clock, tmp_path, backed_up, request):
    from tests.s3_server import ACCESS_KEY, SECRET_KEY, objects

    endpoint, bucket = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")
    on_s3 = Settings(data_dir=tmp_path / "s3-machine", smtp_host=None, tile_url="", media_store="s3",
                     s3_endpoint_url=endpoint, s3_bucket=bucket, s3_prefix="city", s3_access_key_id=ACCESS_KEY,
                     s3_secret_access_key=SECRET_KEY, erasure_dir=tmp_path / "s3-journal",
                     media_key_dir=tmp_path / "agency-keys")
    restore_keys(backed_up["keys"], key_locations(on_s3))
    r = restore_backup(backed_up["folder"], restore_target(on_s3, clock))
    first = backed_up["manifest"]
    sealed = {f"city/{f.path.removeprefix('media/')}": f.sha256 for f in first.files if f.path.startswith("media/")}
    assert r.media_restored == len(sealed) == 2 and r.media_dropped == 0
    assert {k: hashlib.sha256(v).hexdigest() for k, v in objects(endpoint, bucket).items()} == sealed

    restored = build_hub(on_s3, clock=clock, run_migrations=False, fast_hashing=True)
    try:
        new = rows(restored, plate_read, plate_read.c.read_key == "new-1")[0]
        with restored.media.open(new.crop_key) as f:
            assert f.read() == crop(b"new")
        again = create_backup(restored, database_backup(on_s3), raw_media_store(on_s3), tmp_path / "from-s3",
                              media_sealed=True)
    finally:
        restored.extras["engine"].dispose()
    assert media_files(again) == media_files(first) and verify_backup(tmp_path / "from-s3").ok


def media_files(manifest) -> dict[str, str]:
    return {f.path: f.sha256 for f in manifest.files if f.path.startswith("media/")}
