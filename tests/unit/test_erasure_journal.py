"""The erasure journal file: whole lines from several processes at once, a torn last line healed and counted,
entries read back as written; the backup manifest's checks name each bad file."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

from openrtcc.adapters.storage.erasure_journal import FileErasureJournal
from openrtcc.domain.backup import AuditHead, BackupFile, BackupManifest, check_files, schema_refusal
from openrtcc.domain.erasures import Erasure, ErasureKind, replay_order

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _append_many(folder, start: int) -> None:
    journal = FileErasureJournal(folder)
    for i in range(start, start + 50):
        journal.append(Erasure(kind=ErasureKind.CAMERA_WITHDRAWN, at=T0, target=f"cam-{i}", owner_id="o"))


def test_processes_appending_at_once_leave_whole_lines(tmp_path):
    procs = [multiprocessing.get_context("fork").Process(target=_append_many, args=(tmp_path, n * 50))
             for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    entries, bad = FileErasureJournal(tmp_path).entries()
    assert bad == 0 and sorted(int(e.target.split("-")[1]) for e in entries) == list(range(200))
    assert (tmp_path / "erasures.jsonl").stat().st_mode & 0o077 == 0


def test_a_torn_last_line_is_counted_and_the_next_entry_starts_clean(tmp_path):
    journal = FileErasureJournal(tmp_path)
    journal.append(Erasure(kind=ErasureKind.GRANT_REVOKED, at=T0, target="g1", agency_id="a"))
    with open(journal.path, "ab") as f:
        f.write(b'{"v": 1, "kind": "camera_with')  # a crash in the middle of a write
    journal.append(Erasure(kind=ErasureKind.RETENTION_CUTOFF, at=T0 + timedelta(days=1), agency_id="a",
                           cutoff=T0 - timedelta(days=29), held_cases=("2026-0042",)))
    entries, bad = journal.entries()
    assert bad == 1 and [e.kind for e in entries] == [ErasureKind.GRANT_REVOKED, ErasureKind.RETENTION_CUTOFF]
    assert entries[1].held_cases == ("2026-0042",)
    assert FileErasureJournal(tmp_path / "never-written").entries() == ([], 0)


def test_replay_runs_in_the_order_things_happened():
    late = Erasure(kind=ErasureKind.RETENTION_CUTOFF, at=T0 + timedelta(days=2), agency_id="a", cutoff=T0)
    early = Erasure(kind=ErasureKind.HOLD_RELEASED, at=T0, agency_id="a", target="h")
    assert replay_order([late, early]) == [early, late]


def _manifest(*files: BackupFile) -> BackupManifest:
    return BackupManifest(backup_id="b1", created_at=T0, rtcc_version="0.1.0", backend="sqlite",
                          schema_revision="0007", audit_head=AuditHead(sequence=3, hash="h"), media_sealed=True,
                          database_files=("database/hub.sqlite3",), files=files).sealed()


def test_the_manifest_check_names_every_changed_missing_or_unlisted_file():
    a = BackupFile(path="database/hub.sqlite3", size=10, sha256="a" * 64)
    b = BackupFile(path="media/reads/x/1.jpg", size=5, sha256="b" * 64)
    c = BackupFile(path="media/reads/x/2.jpg", size=5, sha256="c" * 64)
    m = _manifest(a, b, c)
    assert check_files(m, {a.path: (10, "a" * 64), b.path: (5, "b" * 64), c.path: (5, "c" * 64)}) == []
    problems = check_files(m, {a.path: (11, "a" * 64), b.path: (5, "f" * 64), "media/extra": (1, "0" * 64)})
    assert [(p.path, p.reason.split(" ")[0]) for p in problems] == [
        (a.path, "size"), (b.path, "SHA-256"), (c.path, "missing"), ("media/extra", "not")]
    forged = m.model_copy(update={"schema_revision": "0001"})  # edited without its digest
    assert [p.path for p in check_files(forged, {a.path: (10, "a" * 64), b.path: (5, "b" * 64),
                                                  c.path: (5, "c" * 64)})] == ["manifest.json"]


def test_a_schema_this_code_does_not_know_is_refused_and_an_older_one_is_not():
    known = ["0001", "0002", "0007"]
    assert schema_refusal("0002", known) is None
    assert "0009" in schema_refusal("0009", known) and "0007" in schema_refusal("0009", known)


def test_a_journal_that_cannot_be_written_refuses_so_the_deletion_does_not_commit(tmp_path):
    import pytest

    from openrtcc.domain.errors import Unavailable

    (tmp_path / "blocked").write_text("a file where the folder should be")
    with pytest.raises(Unavailable) as refused:
        FileErasureJournal(tmp_path / "blocked").append(Erasure(kind=ErasureKind.EDGE_REVOKED, at=T0, target="e"))
    assert refused.value.code == "erasure_journal_unavailable"
