"""Audit anchors on both backends: signed once a UTC day, stored, written out, served publicly; and an outside
party's check (`rtcc audit verify-anchor` with the public key they kept) catching a chain rewritten after it."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from openrtcc.adapters.db.tables import audit_head, audit_log
from openrtcc.adapters.signing import public_key_from_pem
from openrtcc.adapters.storage.anchor_files import AnchorFiles
from openrtcc.bootstrap import build_hub
from openrtcc.cli import main
from openrtcc.domain.anchors import parse_anchor_document
from openrtcc.domain.audit import AuditEntry, AuditRecord, chain
from openrtcc.domain.errors import Unavailable
from openrtcc.services.audit_anchors import check_anchor, check_stored_anchors, make_anchor, signer
from openrtcc.services.audit_trail import verify_chain
from openrtcc.services.public_cache import PublicLimits
from tests.integration import db_probe as db
from tests.services import require_service

DOC = Path(__file__).resolve().parents[2] / "docs" / "governance" / "audit-anchors-and-evidence.md"
ONE_BACKEND = pytest.mark.parametrize("backend", ["sqlite"])  # the CLI over storage that the others cover


def actions(world, n: int = 2) -> None:
    owner = world.owner()
    for i in range(n):
        world.camera(owner, name=f"Camera {i}", lat=43.0 + i * 0.001)


def anchor_records(hub) -> list:
    return [r for r in db.audit_after(hub, 0) if r.action == "audit.anchor"]


def test_the_head_is_signed_stored_and_published_once_a_utc_day(hub, world, settings, clock):
    actions(world)
    head = db.audit_head_seq(hub)
    first = make_anchor(hub)
    s = first.anchor.statement
    assert first.created and (s.seq, s.count, s.day) == (head, head, "2026-11-20")
    assert s.key_id == signer(hub).key_id and s.deployment == settings.deployment_name
    path = settings.data_dir / "anchors" / "2026-11-20.json"
    assert first.published_to == str(path)
    assert parse_anchor_document(path.read_bytes()) == first.anchor
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    (record,) = anchor_records(hub)
    assert (record.seq, record.target, record.details["hash"]) == (head + 1, "anchor:2026-11-20", s.hash)

    clock.advance(hours=8)  # 23:00 UTC: the same day
    again = make_anchor(hub)
    assert not again.created and again.anchor == first.anchor and again.published_to is None
    assert len(anchor_records(hub)) == 1
    path.unlink()  # a lost file is written again from the stored anchor
    assert make_anchor(hub).published_to == str(path) and parse_anchor_document(path.read_bytes()) == first.anchor

    clock.advance(hours=1)
    actions(world, 1)
    second = make_anchor(hub)
    assert second.created and second.anchor.statement.day == "2026-11-21"
    assert second.anchor.statement.seq > s.seq + 1
    for anchor in (first.anchor, second.anchor):
        assert check_anchor(hub, anchor, signer(hub)).ok
    assert [(c.anchor.day, c.ok) for c in check_stored_anchors(hub, signer(hub))] == [
        ("2026-11-20", True), ("2026-11-21", True)]


def test_the_anchors_and_the_public_key_are_public_and_each_fetch_is_audited(hub, world, anon, clock, settings):
    actions(world, 1)
    made = [make_anchor(hub).anchor]
    clock.advance(days=1)
    made.append(make_anchor(hub).anchor)
    r = anon.get("/api/public/audit/anchors")
    assert r.status_code == 200, r.text
    listed = r.json()
    assert [a["day"] for a in listed["anchors"]] == ["2026-11-21", "2026-11-20"]
    assert listed["public_key_id"] == signer(hub).key_id
    assert anon.get("/api/public/audit/anchors", params={"before": "2026-11-21"}).json()["anchors"][0]["seq"] == \
        made[0].statement.seq

    doc = anon.get(listed["anchors"][1]["url"])
    assert doc.status_code == 200 and "immutable" in doc.headers["cache-control"]
    published = settings.data_dir / "anchors" / "2026-11-20.json"
    assert doc.json() == json.loads(published.read_text())
    pem = anon.get(listed["public_key_url"])
    assert pem.headers["content-type"] == "application/x-pem-file"
    key = public_key_from_pem(pem.content)
    assert key.key_id == pem.headers["x-key-id"] == listed["public_key_id"]
    assert check_anchor(hub, parse_anchor_document(doc.content), key).ok  # what an outside party does

    for url, status, code in (("/api/public/audit/anchors/2026-11-19", 404, "no_anchor"),
                              ("/api/public/audit/anchors/2026-02-30", 422, "bad_day"),
                              ("/api/public/audit/anchors/..%2F..%2Fetc", 404, None),
                              ("/api/public/audit/anchors?limit=0", 422, None),
                              ("/api/public/audit/anchors?before=yesterday", 422, None)):
        r = anon.get(url)
        assert r.status_code == status, (url, r.text)
        if code:
            assert r.json()["error"] == code
    reads = [r for r in db.audit_after(hub, 0) if r.action.startswith("audit.") and r.action != "audit.anchor"]
    assert {r.action for r in reads} == {"audit.anchor_list", "audit.anchor_read", "audit.public_key_read"}
    assert {r.outcome for r in reads if r.target == "anchor:2026-11-19"} == {"failed"}
    assert all(r.source and r.source != "testclient" for r in reads)  # a keyed hash, never the address


def test_a_crawler_neither_loads_the_database_nor_fills_the_audit_trail(hub, anon, clock):
    hub.extras["public_limits"] = PublicLimits(per_client_per_minute=6)
    make_anchor(hub)
    urls = ["/api/public/audit/anchors", "/api/public/audit/anchors/2026-11-20", "/api/public/audit/public-key"]
    for url in urls:
        assert anon.get(url).status_code == 200
    head = db.audit_head_seq(hub)
    for url in urls:  # answered from the cache: the first fetch's record covers them
        assert anon.get(url).status_code == 200
    assert db.audit_head_seq(hub) == head
    refused = [anon.get(urls[0]) for _ in range(3)]
    assert [r.status_code for r in refused] == [429, 429, 429] and refused[0].json()["error"] == "rate_limited"
    assert [r.action for r in db.audit_after(hub, head)] == ["public.rate_limited"]  # once per wait
    clock.advance(minutes=2)
    assert anon.get(urls[0]).status_code == 200


def test_the_daily_task_anchors_and_can_be_turned_off(settings, clock, hub):
    (task,) = [t for t in hub.extras["background"] if getattr(t, "name", "") == "audit-anchor"]
    assert task.interval_s == 3600
    task.work()
    assert [r.target for r in anchor_records(hub)] == ["anchor:2026-11-20"]
    # The anchor folder cannot be written: the anchor is stored and signed all the same, and written out later.
    clock.advance(days=1)
    blocked = settings.data_dir / "blocked"
    blocked.write_text("a file where the folder should be")
    hub.extras["anchor_publisher"] = AnchorFiles(blocked / "anchors")
    with pytest.raises(Unavailable, match="stored but could not be written out"):
        task.work()
    hub.extras["anchor_publisher"] = AnchorFiles(settings.data_dir / "anchors")
    later = make_anchor(hub)
    assert not later.created and later.published_to == str(settings.data_dir / "anchors" / "2026-11-21.json")
    off = build_hub(settings.model_copy(update={"anchor_interval_s": 0}), clock=clock, run_migrations=False,
                    fast_hashing=True)
    try:
        assert not [t for t in off.extras["background"] if getattr(t, "name", "") == "audit-anchor"]
        assert off.extras["signer"].key_id == signer(hub).key_id  # the same key file: one hub, one key
    finally:
        off.extras["engine"].dispose()


def rewrite_from(hub, seq: int, details: dict) -> None:
    """An intruder with database access rewrites record `seq` and recomputes every later hash, so that the
    chain links and `rtcc audit verify` finds nothing."""
    db.drop_append_only_guard(hub)
    with db.engine(hub).begin() as conn:
        rows = list(conn.execute(select(audit_log).where(audit_log.c.seq >= seq).order_by(audit_log.c.seq)))
        prev = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == seq - 1)).scalar_one()
        for r in rows:
            entry = AuditEntry(r.action, r.outcome, r.actor_id, r.agency_id, r.target, r.source,
                               details if r.seq == seq else r.details)
            new: AuditRecord = chain(r.seq, r.at, entry, prev)
            conn.execute(update(audit_log).where(audit_log.c.seq == r.seq).values(
                details=new.details, prev_hash=new.prev_hash, hash=new.hash))
            prev = new.hash
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(hash=prev))


def check_signature_by_hand_as_the_docs_say(anchor_file, public, work) -> None:
    """The doc's steps for a party without OpenRTCC (python3 and openssl), run as written."""
    require_service(shutil.which("openssl") is not None, "openssl", "apt-get install -y openssl")
    section = DOC.read_text().split("**The signature by hand**", 1)[1]
    script = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    work.mkdir()
    shutil.copy(anchor_file, work / "anchor.json")
    shutil.copy(public, work / "hub.pem")
    done = subprocess.run(["bash", "-e", "-c", script], cwd=work, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stderr
    doc = json.loads((work / "anchor.json").read_text())
    doc["statement"]["seq"] += 1
    (work / "anchor.json").write_text(json.dumps(doc))
    done = subprocess.run(["bash", "-e", "-c", script], cwd=work, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Signature Verified Successfully" not in done.stdout


@ONE_BACKEND
def test_verify_anchor_with_the_kept_public_key_catches_a_rewritten_chain(hub, world, settings, monkeypatch,
                                                                           tmp_path, capsys):
    actions(world, 3)
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.resolved_database_url)
    assert main(["audit", "anchor"]) == 0
    (anchor_file,) = (settings.data_dir / "anchors").glob("*.json")
    public = tmp_path / "hub.pem"
    assert main(["audit", "public-key", "--out", str(public)]) == 0
    assert main(["audit", "verify-anchor", str(anchor_file), "--public-key", str(public)]) == 0
    assert "verified: records 1.." in capsys.readouterr().out
    check_signature_by_hand_as_the_docs_say(anchor_file, public, tmp_path / "by-hand")
    actions(world, 1)  # records after the anchor are not its business
    assert main(["audit", "verify-anchor", str(anchor_file), "--public-key", str(public)]) == 0
    assert main(["audit", "verify-anchor", "--all"]) == 0
    assert "1 anchor verified" in capsys.readouterr().out
    assert main(["audit", "verify-anchor"]) == 2  # one file, or --all

    rewrite_from(hub, 3, {"reason": "nothing to see"})
    assert verify_chain(hub).ok  # the chain alone cannot tell
    capsys.readouterr()
    assert main(["audit", "verify-anchor", str(anchor_file), "--public-key", str(public)]) == 1
    err = capsys.readouterr().err
    assert "FAILED: record" in err and "rewritten after the anchor was signed" in err
    assert main(["audit", "verify-anchor", "--all", "--public-key", str(public)]) == 1
    assert "rewritten after the anchor was signed" in capsys.readouterr().err

    other = tmp_path / "other.pem"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert main(["audit", "verify-anchor", str(anchor_file), "--public-key", str(other)]) == 1
    assert "names signing key" in capsys.readouterr().err

    doc = json.loads(anchor_file.read_text())
    doc["statement"]["seq"] = doc["statement"]["count"] = doc["statement"]["seq"] - 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    assert main(["audit", "verify-anchor", str(forged), "--public-key", str(public)]) == 1
    assert "does not match its statement" in capsys.readouterr().err

    assert main(["audit", "verify-anchor", str(tmp_path / "missing.json")]) == 2
    assert main(["audit", "verify-anchor", str(public)]) == 2
    assert "not JSON" in capsys.readouterr().err
    public.write_text("not a key")
    assert main(["audit", "verify-anchor", str(anchor_file), "--public-key", str(public)]) == 2
    assert "not a PEM public key" in capsys.readouterr().err
    assert os.path.exists(anchor_file)
