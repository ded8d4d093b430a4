"""Encryption at rest through the hub on both backends: evidence clips, plate crops and tip photos are sealed on
disk, served as sent, and a tampered one is refused over HTTP (409 tampered_media) and audited; `rtcc keys`."""

from __future__ import annotations

import hashlib
import os

import pytest

from openrtcc.cli import main as rtcc
from tests.integration.test_footage_requests import MP4, open_request, upload
from tests.integration.test_tips import jpeg_with_gps, send
from tests.plate_reads import JPEG, NCIC_LIST, b64, earlier, import_list, new_source, post_reads, read_body

CROP = JPEG[:-2] + b"CROP-MARKER-ABC123" * 4 + b"\xff\xd9"


def stored(hub) -> dict[str, bytes]:
    return {str(p.relative_to(hub.media.root)): p.read_bytes() for p in hub.media.root.rglob("*") if p.is_file()}


def hub_agency(hub) -> str:
    with hub.uow() as uow:
        agency = uow.accounts.agency_by_slug("lakeport")
        uow.rollback()
    return agency.id


def flip(path, at: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))


@pytest.fixture
def media(world, anon, clock):
    """One owner's clip as case evidence, one plate crop behind an alert, one tip photo: (urls, sent bytes)."""
    analyst, owner = world.staff("analyst"), world.owner("Alice")
    camera = world.camera(owner)
    rid = open_request(analyst, clock)
    r = upload(owner, rid, camera, MP4)
    assert r.status_code == 201, r.text
    evidence = r.json()
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    key, _ = new_source(world)
    reads = [read_body("r-1", "ABC 123", earlier(clock, seconds=5), state="CA", crop=b64(CROP))]
    assert post_reads(anon, key, reads).status_code == 200
    [alert] = analyst.get("/api/agency/alerts").json()
    assert send(anon, world.agency().id, files={"media": ("p.jpg", jpeg_with_gps(), "image/jpeg")}).status_code == 201
    officer = world.staff("officer")
    [tip] = officer.get("/api/tips?status=new").json()
    return {"analyst": analyst, "officer": officer, "evidence": evidence,
            "urls": {"evidence": (analyst, f"/api/agency/evidence/{evidence['id']}/content"),
                     "crop": (analyst, alert["crop_url"]), "tip": (officer, f"/api/tips/{tip['id']}/media")}}


def test_media_is_sealed_on_disk_served_as_sent_and_refused_once_tampered(hub, media, world):
    files = stored(hub)
    assert sorted(k.split("/")[0] for k in files) == ["evidence", "reads", "tips"]
    assert all(raw.startswith(b"RTCCSEAL") for raw in files.values())
    assert not any(MP4[40:200] in raw or b"CROP-MARKER" in raw for raw in files.values())

    client, url = media["urls"]["evidence"]
    r = client.get(url)
    assert r.status_code == 200 and r.content == MP4
    assert r.headers["x-content-sha256"] == hashlib.sha256(MP4).hexdigest() == media["evidence"]["sha256"]
    assert media["evidence"]["size_bytes"] == len(MP4)  # the evidence row keeps the plaintext's size and hash
    client, url = media["urls"]["crop"]
    assert client.get(url).content == CROP
    client, url = media["urls"]["tip"]
    photo = client.get(url)
    assert photo.status_code == 200 and photo.content.startswith(b"\xff\xd8\xff")
    assert not any(photo.content[100:300] in raw for raw in files.values())

    # now each is altered on disk: refused, not served, and the refusal is on the record
    paths = {k.split("/")[0]: hub.media.root / k for k in files}
    plain = photo.content
    flip(paths["evidence"], os.path.getsize(paths["evidence"]) - 3)  # a byte of the last tag
    flip(paths["reads"], 30)  # the header
    paths["tips"].write_bytes(plain)  # replaced by an unencrypted copy

    answers = {}
    for what, (client, url) in media["urls"].items():
        r = client.get(url)
        assert r.status_code == 409, (what, r.text)
        answers[what] = r.json()
    assert answers["evidence"]["error"] == answers["crop"]["error"] == "tampered_media"
    assert "fails authentication" in answers["evidence"]["message"]
    assert "header names another agency" in answers["crop"]["message"]  # the flipped byte is in the agency id
    assert answers["tip"]["error"] == "unsealed_media" and "rtcc keys seal-existing" in answers["tip"]["message"]

    with hub.uow() as uow:
        records = [r for r in uow.audit.iter_records() if r.action == "media.tampered"]
        uow.rollback()
    assert [(r.outcome, r.actor_id is not None, r.agency_id) for r in records] == [
        ("failed", True, world.agency().id)] * 3
    assert len({r.actor_id for r in records}) == 2  # the analyst (clip, crop) and the officer (tip)
    assert [r.details["code"] for r in records] == ["tampered_media", "tampered_media", "unsealed_media"]
    assert {r.target.split(" ")[0] for r in records} == {"GET"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_rtcc_keys_commands(hub, media, settings, monkeypatch, capsys):
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    client, url = media["urls"]["evidence"]
    assert rtcc(["keys", "list", "--files"]) == 0
    out = capsys.readouterr().out
    assert "encryption at rest ON" in out and "lakeport" in out and "current  3" in out

    assert rtcc(["keys", "create", "--agency", "lakeport"]) == 1
    assert "already has a media key" in capsys.readouterr().err
    assert rtcc(["keys", "rotate", "--agency", "lakeport", "--upload-wait", "0"]) == 0
    out = capsys.readouterr().out
    assert "rotated to key version 2" in out and "3 files rewrapped" in out and "retired (deleted): [1]" in out
    assert client.get(url).content == MP4  # the serving hub follows the new version at once
    key_file = settings.data_dir / "media-keys" / hub_agency(hub) / "v0002.key"
    key_file.rename(key_file.with_suffix(".away"))
    r = client.get(url)
    assert r.status_code == 503 and r.json()["error"] == "media_key_missing" and "version 2" in r.json()["message"]
    key_file.with_suffix(".away").rename(key_file)
    assert client.get(url).content == MP4

    evidence_path = next(p for p in hub.media.root.rglob("*") if "evidence" in p.parts and p.is_file())
    flip(evidence_path, 600)
    assert rtcc(["keys", "verify"]) == 1
    captured = capsys.readouterr()
    assert "3 files checked, 1 failed" in captured.out and "TAMPERED" in captured.err
    assert rtcc(["keys", "rotate", "--agency", "lakeport", "--upload-wait", "0"]) == 1
    assert "KEPT" in capsys.readouterr().err
    assert rtcc(["keys", "rotate", "--agency", "nowhere"]) == 1
    assert "no agency 'nowhere'" in capsys.readouterr().err

    with hub.uow() as uow:
        actions = [(r.action, r.outcome) for r in uow.audit.iter_records() if r.action.startswith("media.")]
        uow.rollback()
    assert actions == [("media.key_rotate", "success"), ("media.verify", "failed"), ("media.key_rotate", "failed")]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_seal_existing_seals_files_stored_before_encryption(hub, settings, monkeypatch, capsys):
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    old = hub.media.root / "evidence" / "some-agency" / "old.mp4"
    old.parent.mkdir(parents=True)
    old.write_bytes(MP4)
    monkeypatch.setenv("RTCC_MEDIA_ENCRYPTION", "false")
    assert rtcc(["keys", "seal-existing"]) == 2
    assert "Turn it on first" in capsys.readouterr().err and old.read_bytes() == MP4
    monkeypatch.setenv("RTCC_MEDIA_ENCRYPTION", "true")
    assert rtcc(["keys", "seal-existing"]) == 0
    assert "1 files sealed, 0 already sealed, 0 failed" in capsys.readouterr().out
    assert old.read_bytes().startswith(b"RTCCSEAL") and MP4[40:200] not in old.read_bytes()
    assert hub.media.open("evidence/some-agency/old.mp4").read() == MP4
