"""Evidence export on both backends: a case's clips (owner uploads, stored encrypted), its locked plate reads with
their images, its legal hold and its audit excerpt come out as a signed BagIt package whose plaintext hashes are
the ones recorded at collection; `rtcc evidence verify` names the first altered, missing or added file and a bad
signature; refusals leave a record and no package."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openrtcc.adapters.signing import public_key_from_pem
from openrtcc.adapters.storage.bag_files import DirectoryBagWriter, ZipBagReader
from openrtcc.bootstrap import build_hub
from openrtcc.cli import main
from openrtcc.domain.errors import Conflict
from openrtcc.domain.evidence_package import verify_package
from openrtcc.services import legal_holds
from openrtcc.services.accounts import authenticate
from openrtcc.services.audit_anchors import make_anchor, signer
from openrtcc.services.evidence_export import export_case
from tests.conftest import HARBOR
from tests.integration import db_probe as db
from tests.plate_reads import JPEG, PNG, b64, new_source, post_reads, read_body
from tests.services import require_service

CASE = "LP/2026/0042"
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 64
STILL = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x42" * 3000 + b"\xff\xd9"
DOC = Path(__file__).resolve().parents[2] / "docs" / "governance" / "audit-anchors-and-evidence.md"
ONE_BACKEND = pytest.mark.parametrize("backend", ["sqlite"])  # the CLI and tampering: storage is covered above


def iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


@pytest.fixture
def case(world, anon, hub, clock):
    """A case with two owner uploads, one locked read (crop and snapshot) under a legal hold, and an anchor."""
    analyst = world.staff("analyst")
    owner = world.owner("Alice")
    cam = world.camera(owner)
    now = clock.now()
    r = analyst.post("/api/agency/footage-requests", json={
        "case_number": CASE, "purpose": "armed robbery at the corner shop", "lat": 43.0, "lon": -87.92,
        "radius_m": 150, "window_start": iso(now - timedelta(hours=3)), "window_end": iso(now - timedelta(hours=2))})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    uploads = []
    for data, name, ctype in ((MP4, "porch.mp4", "video/mp4"), (STILL, "still.jpg", "image/jpeg")):
        up = owner.post(f"/api/owner/requests/{rid}/cameras/{cam['id']}/clip", files={"file": (name, data, ctype)})
        assert up.status_code == 201, up.text
        uploads.append(up.json())
    key, _ = new_source(world)
    sent = post_reads(anon, key, [read_body("cam1-1", "ABC 123", now - timedelta(minutes=5), crop=b64(JPEG),
                                            snapshot=b64(PNG))])
    assert sent.status_code == 200, sent.text
    read_id = sent.json()["results"][0]["id"]
    actor = authenticate(hub, analyst.token, None).actor
    legal_holds.place_hold(hub, actor, CASE, "preservation letter 2026-117 from the district attorney")
    legal_holds.lock_read(hub, actor, CASE, read_id)
    make_anchor(hub)
    return {"analyst": analyst, "owner": owner, "uploads": uploads, "read_id": read_id, "request_id": rid}


def export_zip(session, case_number: str = CASE):
    return session.get(f"/api/evidence/cases/{case_number}/export")


def test_a_case_exports_as_a_signed_bag_whose_hashes_are_the_collected_ones(hub, case, settings, world):
    r = export_zip(case["analyst"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == 'attachment; filename="evidence-LP_2026_0042-20261120.zip"'
    path = settings.data_dir / "package.zip"
    path.write_bytes(r.content)
    bag = ZipBagReader(path)
    check = verify_package(bag, public_key_from_pem, public_key_from_pem(signer(hub).public_key_pem))
    assert check.ok, check.problem
    assert check.key_id == signer(hub).key_id == r.headers["x-key-id"]

    manifest = dict(line.split("  ")[::-1] for line in bag.open("manifest-sha256.txt").read().decode().splitlines())
    for up, data in zip(case["uploads"], (MP4, STILL)):
        clip = f"data/clips/{up['id']}{'.mp4' if data is MP4 else '.jpg'}"
        assert bag.open(clip).read() == data  # decrypted: the media store keeps them sealed
        assert manifest[clip] == up["sha256"] == hashlib.sha256(data).hexdigest()
    assert MP4[-512:] not in b"".join(p.read_bytes() for p in settings.media_dir.rglob("*") if p.is_file())
    read = json.loads(bag.open(f"data/reads/{case['read_id']}.json").read())
    assert read["locked"]["read"]["plate"] == "ABC123" and read["case_number"] == CASE
    assert bag.open(f"data/reads/{case['read_id']}-crop.jpg").read() == JPEG
    assert bag.open(f"data/reads/{case['read_id']}-snapshot.png").read() == PNG

    info = bag.open("bag-info.txt").read().decode()
    assert f"External-Identifier: {CASE}\n" in info and "Source-Organization: Lakeport Police\n" in info
    assert "Legal-Hold: " in info and "preservation letter 2026-117" in info and "Payload-Oxum: " in info
    custody = json.loads(bag.open("data/chain-of-custody.json").read())
    assert [(c["evidence_id"], c["sha256"], c["source"]) for c in custody["clips"]] == [
        (u["id"], u["sha256"], "owner_upload") for u in case["uploads"]]
    assert custody["audit"]["latest_anchor"]["seq"] <= custody["audit"]["chain_head"]["seq"]
    excerpt = [json.loads(line) for line in bag.open("data/audit/excerpt.jsonl").read().splitlines()]
    actions = [e["action"] for e in excerpt]
    for expected in ("footage.request_open", "footage.upload", "retention.hold_place", "retention.read_lock"):
        assert expected in actions, actions
    assert actions.count("footage.upload") == 2  # the owner's records about the case's own items
    assert "auth.log_on" not in actions  # only the case's records

    (record,) = [r for r in db.audit_after(hub, 0) if r.action == "evidence.export"]
    assert record.outcome == "success" and record.details["manifest_sha256"] == r.headers["x-manifest-sha256"]
    assert record.details["case"] == CASE and record.details["files"] == check.files


def test_refusals_are_clear_audited_and_leak_nothing(hub, case, world, settings):
    world.agency("harbor", jurisdiction=HARBOR)
    harbor = world.staff("analyst", "harbor")
    r = export_zip(harbor)  # the same case number in another agency: nothing of Lakeport's
    assert (r.status_code, r.json()["error"]) == (404, "no_evidence")
    assert export_zip(world.staff("officer")).status_code == 403
    assert export_zip(case["owner"]).status_code == 403
    r = export_zip(case["analyst"], "24-NONE")
    assert (r.status_code, r.json()["error"]) == (404, "no_evidence")
    r = export_zip(case["analyst"], "X")
    assert (r.status_code, r.json()["error"]) == (422, "bad_case_number")
    refused = [(r.outcome, r.details["reason"]) for r in db.audit_after(hub, 0) if r.action == "evidence.export"]
    assert refused == [("failed", "no_evidence"), ("denied", "permission_denied"), ("failed", "no_evidence"),
                       ("denied", "bad_case_number")]
    assert any(r.action == "http.refused" and "export" in r.target for r in db.audit_after(hub, 0))

    # Bytes that are not the ones recorded at collection: a hub reading the store without decryption gets the
    # sealed file, whose SHA-256 is not the clip's. Refused by the export's own check, nothing written.
    plain = build_hub(settings.model_copy(update={"media_encryption": False}), clock=hub.clock,
                      run_migrations=False, fast_hashing=True)
    try:
        analyst = authenticate(hub, case["analyst"].token, None).actor
        sink = DirectoryBagWriter(settings.data_dir / "refused-package")
        with pytest.raises(Conflict) as refused:
            export_case(plain, analyst, CASE, sink)
        sink.discard()
        assert refused.value.code == "evidence_altered" and not (settings.data_dir / "refused-package").exists()
    finally:
        plain.extras["engine"].dispose()

    # A stored clip altered on disk: the sealed store refuses it; nothing handed out, and said so.
    stored = next(p for p in settings.media_dir.rglob("*") if p.is_file() and case["uploads"][0]["id"] in p.name)
    blob = bytearray(stored.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    stored.write_bytes(bytes(blob))
    r = export_zip(case["analyst"])
    assert (r.status_code, r.json()["error"]) == (409, "tampered_media"), r.text
    stored.unlink()
    r = export_zip(case["analyst"])
    assert (r.status_code, r.json()["error"]) == (409, "evidence_missing")
    reasons = [r.details["reason"] for r in db.audit_after(hub, 0) if r.action == "evidence.export"]
    assert reasons[4:] == ["evidence_altered", "tampered_media", "evidence_missing"]
    assert any(r.action == "media.tampered" for r in db.audit_after(hub, 0))


def check_by_hand_as_the_docs_say(folder, pem: bytes, work) -> None:
    """The doc's 'by hand' steps (sha256sum, python3, openssl), run as written on a copy of the package."""
    require_service(shutil.which("openssl") is not None and shutil.which("sha256sum") is not None,
                    "openssl and sha256sum", "apt-get install -y openssl coreutils")
    section = DOC.read_text().split("**By hand**", 1)[1]
    script = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    shutil.copytree(folder, work)
    (work / "hub.pem").write_bytes(pem)
    done = subprocess.run(["bash", "-e", "-c", script], cwd=work, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Signature Verified Successfully" in done.stdout
    statement = json.loads((work / "signature.json").read_text())["statement"]
    printed = dict(reversed(line.split()) for line in done.stdout.splitlines()[-2:])
    assert printed == {name: statement[name] for name in ("bag-info.txt", "manifest-sha256.txt")}


def tamper_cases(bag):
    """(what was done, expected problem); each is applied to a fresh copy of the package folder."""
    clip = sorted((bag / "data" / "clips").iterdir())[0]
    rel = clip.relative_to(bag).as_posix()

    def flip(p):
        b = bytearray(p.read_bytes())
        b[100] ^= 0xFF
        p.write_bytes(bytes(b))

    def remanifest(b):
        """The careful forger: alters a clip and rewrites both manifests to match."""
        flip(b / rel)
        lines = (b / "manifest-sha256.txt").read_text().splitlines()
        digest = hashlib.sha256((b / rel).read_bytes()).hexdigest()
        (b / "manifest-sha256.txt").write_text("".join(
            f"{digest}  {rel}\n" if line.endswith(rel) else line + "\n" for line in lines))
        tags = [n for n in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "signature.json",
                            "hub-public-key.pem")]
        (b / "tagmanifest-sha256.txt").write_text("".join(
            f"{hashlib.sha256((b / n).read_bytes()).hexdigest()}  {n}\n" for n in sorted(tags)))

    def edit_info(b):
        p = b / "bag-info.txt"
        p.write_text(p.read_text().replace(CASE, "LP/2026/9999"))

    return [
        (lambda b: flip(b / rel), f"{rel} was altered"),
        (lambda b: (b / rel).unlink(), f"{rel} is missing"),
        (lambda b: (b / "data" / "clips" / "planted.mp4").write_bytes(MP4), "data/clips/planted.mp4 was added"),
        (lambda b: (b / "notes.txt").write_text("x"), "notes.txt was added"),
        (lambda b: (b / "data" / "clips" / "link.mp4").symlink_to("/etc/passwd"),
         "data/clips/link.mp4 is a symbolic link"),
        (lambda b: (b / "signature.json").unlink(), "signature.json is missing"),
        (lambda b: (b / "signature.json").write_text("{}"), "bad signature"),
        (remanifest, "bad signature: manifest-sha256.txt was changed after the package was signed"),
        (edit_info, "bad signature: bag-info.txt was changed after the package was signed"),
        (lambda b: (b / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nX: y\n"),
         "bagit.txt was altered"),
    ]


@ONE_BACKEND
def test_rtcc_evidence_export_and_verify_name_the_first_problem(hub, case, settings, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.resolved_database_url)
    email = case["analyst"].email
    folder, packed = tmp_path / "pkg", tmp_path / "pkg.zip"
    for out in (folder, packed):
        assert main(["evidence", "export", "--agency", "lakeport", "--case", CASE, "--out", str(out),
                     "--as", email]) == 0
        assert main(["evidence", "verify", str(out)]) == 0
    assert "intact: case LP/2026/0042 of Lakeport Police" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*part"))
    assert main(["evidence", "export", "--agency", "lakeport", "--case", CASE, "--out", str(packed),
                 "--as", email]) == 1  # never overwritten
    assert main(["evidence", "export", "--agency", "harbor", "--case", CASE, "--out", str(tmp_path / "h.zip"),
                 "--as", email]) == 1
    assert "already exists" in capsys.readouterr().err and not (tmp_path / "h.zip").exists()

    pem = tmp_path / "hub.pem"
    pem.write_bytes(signer(hub).public_key_pem)
    assert main(["evidence", "verify", str(packed), "--public-key", str(pem)]) == 0
    pem.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    capsys.readouterr()
    assert main(["evidence", "verify", str(packed), "--public-key", str(pem)]) == 1
    assert "bad signature: signed by key" in capsys.readouterr().err

    check_by_hand_as_the_docs_say(folder, signer(hub).public_key_pem, tmp_path / "by-hand")

    for n, (damage, problem) in enumerate(tamper_cases(folder)):
        copy = tmp_path / f"copy{n}"
        shutil.copytree(folder, copy)
        damage(copy)
        assert main(["evidence", "verify", str(copy)]) == 1, problem
        err = capsys.readouterr().err
        assert f"NOT intact: {problem}" in err, (problem, err)

    # The zip: a member rewritten, and a file put beside the bag's folder.
    with zipfile.ZipFile(packed) as src:
        members = [(i, src.read(i)) for i in src.infolist()]
    for n, change in enumerate(("alter", "beside")):
        out = tmp_path / f"z{n}.zip"
        with zipfile.ZipFile(out, "w") as dst:
            for info, data in members:
                if change == "alter" and "/data/clips/" in info.filename:
                    data = data[:-1] + bytes([data[-1] ^ 1])
                dst.writestr(info, data)
            if change == "beside":
                dst.writestr("README.txt", "trust me")
        assert main(["evidence", "verify", str(out)]) == 1
        assert ("was altered" if change == "alter" else "README.txt was added") in capsys.readouterr().err
    assert main(["evidence", "verify", str(tmp_path / "nothing-here.zip")]) == 2

    # An audit record of the case altered in the database: no package goes out with it.
    db.drop_append_only_guard(hub)
    db.execute(hub, "UPDATE audit_log SET target = 'footage_request:elsewhere' WHERE action = 'footage.request_open'")
    capsys.readouterr()
    assert main(["evidence", "export", "--agency", "lakeport", "--case", CASE, "--out", str(tmp_path / "a.zip"),
                 "--as", email]) == 1
    assert "an audit record of this case fails its hash" in capsys.readouterr().err
    assert not (tmp_path / "a.zip").exists() and not list(tmp_path.glob(".*part"))
    (tmp_path / "junk.zip").write_bytes(io.BytesIO(b"not a zip").read())
    assert main(["evidence", "verify", str(tmp_path / "junk.zip")]) == 2
