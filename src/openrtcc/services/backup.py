"""Taking and checking a hub backup: the database's consistent snapshot, every media object as stored (sealed
files stay sealed), and a manifest with each file's SHA-256, the schema revision and the audit head, written
last. Keys never go in it (docs/operations/backup-restore.md)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from openrtcc import __version__
from openrtcc.domain.accounts import Role
from openrtcc.domain.backup import (
    DATABASE_DIR,
    MANIFEST_NAME,
    MEDIA_DIR,
    BackupFile,
    BackupManifest,
    DatabaseBackup,
    Problem,
    check_files,
)
from openrtcc.domain.errors import Conflict, InvalidInput, NotFound
from openrtcc.domain.ports import MediaStore
from openrtcc.services.hub import Actor, Hub

CHUNK = 1024 * 1024
SOURCE = "rtcc-backup-cli"


def system_actor() -> Actor:
    return Actor(f"system:{SOURCE}", Role.ADMIN, None, SOURCE)


@dataclass(frozen=True, slots=True)
class Verification:
    manifest: BackupManifest | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems


def create_backup(hub: Hub, db: DatabaseBackup, raw_media: MediaStore, dest: Path, *,
                  media_sealed: bool) -> BackupManifest:
    """Into `dest` (new or empty): the database first, then the media. A file the purge deletes while we copy is
    skipped (its row is gone from the snapshot's future too, and the erasure journal says so)."""
    _empty_folder(dest)
    started = hub.clock.now()
    db_dir = dest / DATABASE_DIR
    db_dir.mkdir()
    dump = db.dump(db_dir)
    files = [_hashed(dest, f"{DATABASE_DIR}/{name}") for name in dump.files]
    files += _copy_media(raw_media, dest / MEDIA_DIR)
    manifest = BackupManifest(
        backup_id=hub.ids.new_id(), created_at=started, rtcc_version=__version__, backend=db.backend,
        schema_revision=dump.schema_revision, audit_head=dump.audit_head, media_sealed=media_sealed,
        database_files=tuple(f"{DATABASE_DIR}/{name}" for name in dump.files), files=tuple(files)).sealed()
    _write_manifest(dest, manifest)
    with hub.uow() as uow:  # a backup reads everything: it is an access like any other
        uow.record(system_actor().entry(
            "backup.create", f"backup:{manifest.backup_id}", schema_revision=manifest.schema_revision,
            audit_seq=manifest.audit_head.sequence, files=len(files), bytes=sum(f.size for f in files),
            media_sealed=media_sealed))
        uow.commit()
    return manifest


def verify_backup(folder: Path) -> Verification:
    """The manifest read and checked against every file in the folder; each problem names its file."""
    path = folder / MANIFEST_NAME
    if not folder.is_dir():
        return Verification(None, [Problem(path=str(folder), reason="no such folder")])
    try:
        manifest = BackupManifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return Verification(None, [Problem(path=MANIFEST_NAME, reason="missing: the backup never finished, or "
                                                                     "this is not a backup folder")])
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        return Verification(None, [Problem(path=MANIFEST_NAME, reason=f"not a backup manifest ({first})")])
    found = {rel: _digest(folder / rel) for rel in _listing(folder) if rel != MANIFEST_NAME}
    return Verification(manifest, check_files(manifest, found))


def _empty_folder(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(f"{dest} is not an empty folder: a backup goes into a new one", code="backup_target_used")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(dest, 0o700)  # a backup holds every agency's data


def _copy_media(raw: MediaStore, folder: Path) -> list[BackupFile]:
    out: list[BackupFile] = []
    for key, _mtime in raw.iter_keys(""):
        target = folder / key
        if not target.resolve().is_relative_to(folder.resolve()):
            raise InvalidInput(f"media key {key!r} points outside the backup", code="bad_media_key")
        try:
            src = raw.open(key)
        except (FileNotFoundError, NotFound):  # deleted since it was listed (the purge): not in the backup either
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with src, open(target, "wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        out.append(BackupFile(path=f"{MEDIA_DIR}/{key}", size=size, sha256=digest.hexdigest()))
    return out


def _hashed(root: Path, rel: str) -> BackupFile:
    size, sha = _digest(root / rel)
    return BackupFile(path=rel, size=size, sha256=sha)


def _digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _listing(folder: Path) -> list[str]:
    out = []
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            out.append((Path(dirpath) / name).relative_to(folder).as_posix())
    return sorted(out)


def _write_manifest(dest: Path, manifest: BackupManifest) -> None:
    """Written whole under another name, fsynced and renamed: a folder with a manifest is a finished backup."""
    tmp = dest / f".{MANIFEST_NAME}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest.model_dump(mode="json"), indent=1) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, dest / MANIFEST_NAME)
    fd = os.open(dest, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
