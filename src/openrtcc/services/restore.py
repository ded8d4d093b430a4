"""Restoring a hub backup so that nothing deleted after it comes back: the backup verified whole, the database
loaded into an empty target, the erasure journal replayed over it, only the media the remaining rows name put
back, a purge at today's clock, the audit chain checked, and the restore itself audited (counts only)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from openrtcc.domain.backup import DATABASE_DIR, MEDIA_DIR, BackupManifest, DatabaseBackup, schema_refusal
from openrtcc.domain.erasures import Erasure, ErasureKind
from openrtcc.domain.errors import Conflict, DomainError, InvalidInput
from openrtcc.domain.ports import ErasureJournal, MediaStore
from openrtcc.domain.retention import MEDIA_PREFIXES
from openrtcc.services import erasures
from openrtcc.services.audit_trail import verify_chain
from openrtcc.services.backup import system_actor, verify_backup
from openrtcc.services.hub import Hub
from openrtcc.services.retention import DEFAULT_MAX_CLOCK_JUMP, run_purge

log = logging.getLogger(__name__)

KEY_BATCH = 500


class BackupRefused(InvalidInput):
    code = "backup_refused"


@dataclass
class RestoreReport:
    backup_id: str
    created_at: str
    schema_revision: str
    replayed: dict[str, int] = field(default_factory=dict)
    journal_entries: int = 0
    journal_unreadable: int = 0
    media_restored: int = 0
    media_dropped: int = 0  # in the backup, but no remaining row names them (deleted since, or orphans)
    purge: str = ""
    audit_records: int = 0


@dataclass(frozen=True, slots=True)
class RestoreTarget:
    db: DatabaseBackup
    raw_media: MediaStore
    journal: ErasureJournal
    build_hub: Callable[[], Hub]  # called once the database is loaded and migrated


def check_backup(folder: Path, db: DatabaseBackup) -> BackupManifest:
    """The backup as a whole, before anything is touched: every file as the manifest says, of a schema this code
    knows, of this backend."""
    v = verify_backup(folder)
    if not v.ok:
        named = "; ".join(f"{p.path}: {p.reason}" for p in v.problems[:10])
        more = f" (and {len(v.problems) - 10} more)" if len(v.problems) > 10 else ""
        raise BackupRefused(f"the backup does not verify: {named}{more}", code="backup_damaged")
    manifest = v.manifest
    why = schema_refusal(manifest.schema_revision, db.known_revisions())
    if why:
        raise BackupRefused(why, code="backup_schema_newer")
    if manifest.backend != db.backend:
        raise BackupRefused(f"the backup is of a {manifest.backend} database; the target is {db.backend}",
                            code="backup_backend_differs")
    return manifest


def check_target(target: RestoreTarget, overwrite: bool) -> None:
    state = target.db.state()
    media = next(iter(target.raw_media.iter_keys("")), None)
    if overwrite:
        return
    if state.holds_data:
        raise Conflict(f"the target database is not empty ({state.agencies} agencies, {state.audit_records} audit "
                       "records): restore into a new database, or pass --overwrite to replace it",
                       code="restore_target_not_empty")
    if media is not None:
        raise Conflict("the target media store is not empty: restore into a new one, or pass --overwrite",
                       code="restore_target_not_empty")


def restore_backup(folder: Path, target: RestoreTarget, *, overwrite: bool = False,
                   accept_clock_jump: bool = False) -> RestoreReport:
    manifest = check_backup(folder, target.db)
    check_target(target, overwrite)
    if overwrite:
        _empty_media(target.raw_media)
    target.db.load(folder / DATABASE_DIR, tuple(p.removeprefix(f"{DATABASE_DIR}/") for p in manifest.database_files))
    target.db.migrate()  # a backup of an older schema is brought forward
    hub = target.build_hub()
    try:
        _check_chain(hub, manifest)
        return _bring_up_to_date(hub, folder, manifest, target, accept_clock_jump)
    finally:
        engine = hub.extras.get("engine")
        if engine is not None:
            engine.dispose()


def _bring_up_to_date(hub: Hub, folder: Path, manifest: BackupManifest, target: RestoreTarget,
                      accept_clock_jump: bool) -> RestoreReport:
    report = RestoreReport(manifest.backup_id, manifest.created_at.isoformat(), manifest.schema_revision)
    entries, report.journal_unreadable = target.journal.entries()
    report.journal_entries = len(entries)
    counts = erasures.replay(hub, entries)
    report.replayed = {k: n for k, n in sorted(counts.items()) if n}
    report.media_restored, report.media_dropped = _restore_media(hub, folder, manifest, target.raw_media)
    accept = accept_clock_jump or _journal_vouches_for_clock(hub, entries)
    purge = run_purge(hub, "restore", accept, actor=system_actor())
    report.purge = purge.outcome if not purge.reason else f"{purge.outcome}: {purge.reason}"
    with hub.uow() as uow:
        uow.record(system_actor().entry(
            "backup.restore", f"backup:{manifest.backup_id}", backup_created_at=manifest.created_at.isoformat(),
            schema_revision=manifest.schema_revision, backup_audit_seq=manifest.audit_head.sequence,
            journal_entries=report.journal_entries, journal_unreadable=report.journal_unreadable,
            replayed=report.replayed, media_restored=report.media_restored, media_dropped=report.media_dropped,
            purge=purge.outcome))
        uow.commit()
    after = verify_chain(hub)
    if not after.ok:
        raise DomainError(f"the audit chain is broken after the restore at record {after.problem.seq}: "
                          f"{after.problem.reason}", code="restore_audit_broken")
    report.audit_records = after.checked
    log.info("restored backup %s: journal %s entries (%s unreadable), replayed %s, media %s restored and %s left "
             "out, purge %s", manifest.backup_id, report.journal_entries, report.journal_unreadable, report.replayed,
             report.media_restored, report.media_dropped, purge.outcome)
    return report


def _check_chain(hub: Hub, manifest: BackupManifest) -> None:
    """The restored chain verifies, and holds the head the manifest recorded (a dump of another hub, or of a
    chain cut short, would not)."""
    report = verify_chain(hub)
    if not report.ok:
        raise BackupRefused(f"the restored audit chain is broken at record {report.problem.seq}: "
                            f"{report.problem.reason}", code="backup_audit_broken")
    seq, digest = manifest.audit_head.sequence, manifest.audit_head.hash
    if seq == 0:
        return
    with hub.uow().reading() as uow:
        record = next(iter(uow.audit.iter_records(batch=1, after_seq=seq - 1)), None)
    if record is None or record.seq != seq or record.hash != digest:
        raise BackupRefused(f"the restored audit chain does not hold the manifest's head (record {seq})",
                            code="backup_audit_mismatch")


def _restore_media(hub: Hub, folder: Path, manifest: BackupManifest, raw: MediaStore) -> tuple[int, int]:
    """Files of the purge's kinds come back only if a row still names them after the replay; others whole."""
    sizes = {f.path: f.size for f in manifest.files}
    restored = dropped = 0
    keys = manifest.media_keys()
    for i in range(0, len(keys), KEY_BATCH):
        batch = keys[i:i + KEY_BATCH]
        managed = [k for k in batch if k.startswith(MEDIA_PREFIXES)]
        with hub.uow().reading() as uow:
            wanted = uow.retention.expiry.referenced(managed)
        for key in batch:
            if key in managed and key not in wanted:
                dropped += 1
                continue
            with open(folder / MEDIA_DIR / key, "rb") as src:
                raw.put(key, src, sizes[f"{MEDIA_DIR}/{key}"] + 1)
            restored += 1
    return restored, dropped


def _empty_media(raw: MediaStore) -> None:
    for key, _mtime in list(raw.iter_keys("")):
        raw.delete(key)


def _journal_vouches_for_clock(hub: Hub, entries: list[Erasure]) -> bool:
    """The restored database's last purge may be long past (an old backup), which the purge's clock check reads as
    a jump; the live hub's last purge in the journal is the truer reference: the clock is believed when it is
    after that purge and within the allowed jump of it."""
    purges = [e.at for e in entries if e.kind is ErasureKind.RETENTION_CUTOFF]
    if not purges:
        return False
    now, last = hub.clock.now(), max(purges)
    max_jump: timedelta = hub.extras.get("retention_max_clock_jump", DEFAULT_MAX_CLOCK_JUMP)
    return last <= now <= last + max_jump
