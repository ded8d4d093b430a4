"""The hub with RTCC_MEDIA_STORE=s3 on a real S3-protocol server on loopback: an owner's footage, a plate read's
crop and a tip photo land sealed in the bucket and are served back through the API; a tampered object is refused;
`rtcc keys rotate` rewraps the objects; the retention purge deletes expired objects and orphans from the bucket; a
store that went away refuses reads for a retry (503) and stores nothing half."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openrtcc.adapters.db.tables import plate_read
from openrtcc.adapters.storage.media_keys import MediaKeyRing
from openrtcc.cli import main as rtcc
from openrtcc.config import Settings
from openrtcc.services.retention import run_purge
from tests.integration.test_footage_requests import MP4
from tests.integration.test_media_encryption import CROP, media  # noqa: F401 - the footage, crop and tip scene
from tests.integration.test_retention_purge import rows
from tests.plate_reads import b64, new_source, post_reads, read_body
from tests.s3_server import ACCESS_KEY, SECRET_KEY, client, objects, s3_bucket, s3_endpoint  # noqa: F401

PREFIX = "lakeport-rtcc"


@pytest.fixture
def settings(tmp_path, database_url, s3_endpoint, s3_bucket) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, smtp_host=None,
                    max_upload_bytes=2 * 1024 * 1024, tile_url="", media_store="s3", s3_endpoint_url=s3_endpoint,
                    s3_bucket=s3_bucket, s3_prefix=PREFIX, s3_access_key_id=ACCESS_KEY,
                    s3_secret_access_key=SECRET_KEY, media_key_dir=tmp_path / "agency-keys")


@pytest.fixture
def agency_key(world, settings):
    """The agency's first key, made as its administrator would (`rtcc keys create`): held keys are never made up."""
    MediaKeyRing(settings.media_key_dir, create_on_first_use=False).create(world.agency().id)


def kinds(endpoint: str, bucket: str) -> dict[str, bytes]:
    return {key.split("/")[1]: raw for key, raw in objects(endpoint, bucket).items()}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the store is what differs; SQL is covered elsewhere
def test_media_lives_sealed_in_the_bucket_is_served_rotated_and_purged(hub, agency_key, media, world, anon, settings,
                                                                       clock, s3_endpoint, s3_bucket, monkeypatch,
                                                                       capsys):
    assert not settings.media_dir.exists()  # nothing on the local disk
    stored = objects(s3_endpoint, s3_bucket)
    assert sorted(k.split("/")[1] for k in stored) == ["evidence", "reads", "tips"]
    assert all(k.startswith(f"{PREFIX}/") for k in stored)
    assert all(raw.startswith(b"RTCCSEAL") for raw in stored.values())
    assert not any(MP4[40:200] in raw or b"CROP-MARKER" in raw for raw in stored.values())

    evidence_client, evidence_url = media["urls"]["evidence"]
    r = evidence_client.get(evidence_url)
    assert r.status_code == 200 and r.content == MP4
    crop_client, crop_url = media["urls"]["crop"]
    assert crop_client.get(crop_url).content == CROP
    tip_client, tip_url = media["urls"]["tip"]
    assert tip_client.get(tip_url).content.startswith(b"\xff\xd8\xff")

    crop_key = next(k for k in stored if k.split("/")[1] == "reads")
    admin = client(s3_endpoint)
    altered = bytearray(stored[crop_key])
    altered[-1] ^= 1
    admin.put_object(Bucket=s3_bucket, Key=crop_key, Body=bytes(altered))
    r = crop_client.get(crop_url)
    assert r.status_code == 409 and r.json()["error"] == "tampered_media"
    admin.put_object(Bucket=s3_bucket, Key=crop_key, Body=stored[crop_key])  # restored from the backup

    # `rtcc keys` in its own process reaches the same bucket through the same settings
    for name, value in {"RTCC_DATABASE_URL": settings.database_url, "RTCC_DATA_DIR": str(settings.data_dir),
                        "RTCC_MEDIA_KEY_DIR": str(settings.media_key_dir),
                        "RTCC_MEDIA_STORE": "s3", "RTCC_S3_ENDPOINT_URL": s3_endpoint, "RTCC_S3_BUCKET": s3_bucket,
                        "RTCC_S3_PREFIX": PREFIX, "RTCC_S3_ACCESS_KEY_ID": ACCESS_KEY,
                        "RTCC_S3_SECRET_ACCESS_KEY": SECRET_KEY}.items():
        monkeypatch.setenv(name, value)
    assert rtcc(["keys", "rotate", "--agency", "lakeport", "--upload-wait", "0"]) == 0
    out = capsys.readouterr()
    assert "3 files rewrapped" in out.out and "retired (deleted): [1]" in out.out
    assert SECRET_KEY not in out.out + out.err
    rotated = objects(s3_endpoint, s3_bucket)
    assert all(rotated[k][512:] == stored[k][512:] and rotated[k][:512] != stored[k][:512] for k in stored)
    assert evidence_client.get(evidence_url).content == MP4

    stray = f"{PREFIX}/reads/{world.agency().id}/zz/{'0' * 64}.jpg"
    admin.put_object(Bucket=s3_bucket, Key=stray, Body=b"a file no row names")
    key, _ = new_source(world, name="Harbor Rd plate camera")  # for the end: made before sessions lapse
    clock.advance(days=31)
    report = run_purge(hub, "cli", accept_clock_jump=True)
    section = report.agencies[0]
    assert report.outcome == "done" and section.deleted["plate_read"] == 1 and section.deleted["tip"] == 1
    assert section.orphan_files_deleted == 1 and section.missing_files == 0
    assert objects(s3_endpoint, s3_bucket) == {}  # the crop, the clip, the photo and the orphan: gone

    # the store goes away: a read whose crop cannot be stored is refused for a retry, not half-stored
    admin.delete_bucket(Bucket=s3_bucket)
    r = post_reads(anon, key, [read_body("late-1", "LTE4411", clock.now(), crop=b64(CROP))])
    assert r.status_code == 503 and r.json()["error"] == "media_unavailable", r.text
    assert SECRET_KEY not in r.text and ACCESS_KEY not in r.text
    assert not rows(hub, plate_read, plate_read.c.read_key == "late-1")
    admin.create_bucket(Bucket=s3_bucket)
    assert post_reads(anon, key, [read_body("late-1", "LTE4411", clock.now(), crop=b64(CROP))]).status_code == 200
    assert [k.split("/")[1] for k in objects(s3_endpoint, s3_bucket)] == ["reads"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_hub_refuses_to_start_without_its_bucket(settings, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_MEDIA_STORE", "s3")
    monkeypatch.setenv("RTCC_MEDIA_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("RTCC_S3_ENDPOINT_URL", settings.s3_endpoint_url)
    monkeypatch.setenv("RTCC_S3_BUCKET", "rtcc-never-made")
    monkeypatch.setenv("RTCC_S3_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("RTCC_S3_ACCESS_KEY_ID", ACCESS_KEY)
    assert rtcc(["keys", "list"]) != 0
    err = capsys.readouterr().err
    assert "bucket 'rtcc-never-made': bucket missing" in err and SECRET_KEY not in err
