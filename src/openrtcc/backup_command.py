"""`rtcc backup`: create a consistent backup of the hub (database, media, manifest), verify one, restore one
without bringing deleted data back; keys are saved apart from the data."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from openrtcc.config import Settings
from openrtcc.domain.errors import DomainError


def add_parser(sub) -> None:
    p = sub.add_parser("backup", help="back up the hub (database, media, manifest), verify a backup, restore one.")
    bsub = p.add_subparsers(dest="backup_command", required=True)
    b = bsub.add_parser("create", help="a consistent snapshot of the database and media into a new folder")
    b.add_argument("--to", required=True, type=Path, help="a new (or empty) folder for the backup")
    b.add_argument("--include-keys", type=Path, metavar="KEYDIR",
                   help="also save the agency media keys, the signing key and the hub secret into KEYDIR, a folder "
                        "apart from the backup (keep it elsewhere: a stolen backup must not carry its keys)")
    b = bsub.add_parser("verify", help="check a backup's manifest and every file's SHA-256")
    b.add_argument("folder", type=Path)
    b = bsub.add_parser("restore", help="restore into an empty database and media store, then delete again what "
                                        "the erasure journal says was deleted after the backup")
    b.add_argument("--from", dest="source", required=True, type=Path, help="the backup folder")
    b.add_argument("--keys-from", type=Path, metavar="KEYDIR",
                   help="put the keys saved with --include-keys in place first")
    b.add_argument("--overwrite", action="store_true",
                   help="replace a target database or media store that holds data (it is lost)")
    b.add_argument("--accept-clock-jump", action="store_true",
                   help="let the restore's retention purge run although its clock check failed")
    b.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run(args, settings: Settings | None = None) -> int:
    settings = settings or Settings()
    try:
        handler = {"create": _create, "verify": _verify, "restore": _restore}[args.backup_command]
        return handler(settings, args)
    except DomainError as exc:
        print(f"backup {args.backup_command}: {exc.message}", file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as exc:  # a database that does not answer, a folder we may not write
        print(f"backup {args.backup_command}: {type(exc).__name__}: {getattr(exc, 'orig', None) or exc}",
              file=sys.stderr)
        return 2


def _local(settings: Settings) -> Settings:
    """Backup and restore work on the database and the media store alone: no NATS link, whatever the mode."""
    return settings.model_copy(update={"nats_url": None})


def database_backup(settings: Settings):
    from openrtcc.adapters.db.backup_postgres import PostgresBackup
    from openrtcc.adapters.db.backup_sqlite import SqliteBackup

    url = settings.resolved_database_url
    return PostgresBackup(url) if url.startswith("postgresql") else SqliteBackup(url)


def raw_media_store(settings: Settings):
    """The media store as stored (files or bucket): sealed files are copied sealed, never opened (the backup holds
    no keys)."""
    from openrtcc.media_wiring import plain_media_store

    return plain_media_store(settings)


def key_locations(settings: Settings) -> dict[str, Path]:
    from openrtcc.anchor_wiring import signing_key_path

    keys = {"media-keys": settings.media_key_dir or settings.data_dir / "media-keys",
            "hub-signing.key": signing_key_path(settings)}
    if not settings.secret_key:  # RTCC_SECRET_KEY set: the deployment's configuration holds it, not a file
        keys["hub-secret.key"] = settings.data_dir / "hub-secret.key"
    return keys


def _create(settings: Settings, args) -> int:
    from openrtcc.adapters.storage.key_backup import save_keys
    from openrtcc.bootstrap import build_hub
    from openrtcc.services.backup import create_backup

    dest = args.to.resolve()
    if args.include_keys is not None and _overlaps(args.include_keys.resolve(), dest):
        print("backup create: --include-keys must be a folder apart from the backup, not inside it (nor around it)",
              file=sys.stderr)
        return 1
    local = _local(settings)
    hub = build_hub(local, run_migrations=False)
    try:
        m = create_backup(hub, database_backup(local), raw_media_store(local), dest,
                          media_sealed=local.media_encryption)
    finally:
        hub.extras["engine"].dispose()
    size = sum(f.size for f in m.files)
    print(f"backup {m.backup_id} in {dest}: {m.backend} database at schema {m.schema_revision}, audit head "
          f"{m.audit_head.sequence}, {len(m.media_keys())} media files, {size / 1e6:.1f} MB")
    if args.include_keys is not None:
        saved = save_keys(key_locations(local), args.include_keys.resolve())
        print(f"keys saved apart in {args.include_keys}: {', '.join(saved) or 'none found'}")
    else:
        print("keys are NOT in the backup: save them apart (--include-keys KEYDIR, docs/operations/backup-restore.md)")
    return 0


def _verify(settings: Settings, args) -> int:
    from openrtcc.services.backup import verify_backup

    v = verify_backup(args.folder)
    for p in v.problems:
        print(f"  {p.path}: {p.reason}", file=sys.stderr)
    if not v.ok:
        print(f"backup {args.folder} does NOT verify ({len(v.problems)} problems)", file=sys.stderr)
        return 1
    m = v.manifest
    print(f"backup {m.backup_id} verifies: {len(m.files)} files, {m.backend} schema {m.schema_revision}, audit head "
          f"{m.audit_head.sequence}, made {m.created_at:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def _restore(settings: Settings, args) -> int:
    from openrtcc.adapters.storage.erasure_journal import FileErasureJournal
    from openrtcc.adapters.storage.key_backup import restore_keys
    from openrtcc.bootstrap import build_hub
    from openrtcc.media_wiring import build_media_store
    from openrtcc.services.restore import RestoreTarget, check_backup, restore_backup

    local = _local(settings)
    db = database_backup(local)
    manifest = check_backup(args.source, db)  # refused before any question or change
    if not args.yes and not _confirmed(manifest, local):
        print("backup restore: not confirmed; nothing changed", file=sys.stderr)
        return 1
    if args.keys_from is not None:
        placed = restore_keys(args.keys_from, key_locations(local))
        print(f"keys in place: {len(placed)} files")
    build_media_store(local)  # a media store the hub cannot open fails here, before the database is replaced
    target = RestoreTarget(db=db, raw_media=raw_media_store(local),
                           journal=FileErasureJournal(local.erasure_journal_dir),
                           build_hub=lambda: build_hub(local, run_migrations=False))
    r = restore_backup(args.source, target, overwrite=args.overwrite, accept_clock_jump=args.accept_clock_jump)
    replayed = ", ".join(f"{k} {n}" for k, n in r.replayed.items()) or "nothing to redo"
    print(f"restored backup {r.backup_id} (made {r.created_at}, schema {r.schema_revision})")
    print(f"  erasure journal: {r.journal_entries} entries replayed ({replayed}); unreadable lines: "
          f"{r.journal_unreadable}")
    print(f"  media: {r.media_restored} files restored, {r.media_dropped} left out (deleted since the backup)")
    print(f"  retention purge at today's clock: {r.purge}")
    print(f"  audit chain intact: {r.audit_records} records, the restore recorded in it")
    if r.journal_unreadable:
        print("  WARNING: the erasure journal has unreadable lines: see docs/operations/backup-restore.md",
              file=sys.stderr)
    return 0 if r.purge.startswith("done") else 3


def _confirmed(manifest, settings: Settings) -> bool:
    if not sys.stdin.isatty():
        print("backup restore: pass --yes to restore without a terminal to confirm at", file=sys.stderr)
        return False
    from sqlalchemy.engine import make_url

    where = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    answer = input(f"Restore backup {manifest.backup_id} ({manifest.created_at:%Y-%m-%d %H:%M} UTC) into {where} "
                   f"and {settings.media_dir}? Type yes: ")
    return answer.strip().lower() == "yes"


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)
