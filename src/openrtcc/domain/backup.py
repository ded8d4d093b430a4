"""A hub backup's manifest and the pure checks on it: every file's size and SHA-256, the schema revision, the
audit head at backup time; what makes a backup unfit to restore."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "openrtcc-backup/1"
DATABASE_DIR = "database"
MEDIA_DIR = "media"


class BackupFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(max_length=400)  # relative to the backup folder, '/' separated
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AuditHead(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sequence: int = Field(ge=0)
    hash: str


class BackupManifest(BaseModel):
    """Written last, so a folder without one is a backup that never finished."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["openrtcc-backup/1"] = MANIFEST_FORMAT
    backup_id: str
    created_at: datetime
    rtcc_version: str
    backend: Literal["sqlite", "postgresql"]
    schema_revision: str
    audit_head: AuditHead
    media_sealed: bool  # media copied as stored: sealed under agency keys the backup does not hold
    database_files: tuple[str, ...]
    files: tuple[BackupFile, ...]
    manifest_sha256: str = ""

    def body_digest(self) -> str:
        """SHA-256 of the manifest without its own digest: a manifest edited by hand no longer matches."""
        body = self.model_dump(mode="json", exclude={"manifest_sha256"})
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def sealed(self) -> BackupManifest:
        return self.model_copy(update={"manifest_sha256": self.body_digest()})

    def media_keys(self) -> list[str]:
        prefix = MEDIA_DIR + "/"
        return [f.path.removeprefix(prefix) for f in self.files if f.path.startswith(prefix)]


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    reason: str


def check_files(manifest: BackupManifest, found: dict[str, tuple[int, str]]) -> list[Problem]:
    """Compare the manifest with what is in the folder ({path: (size, sha256)}): changed, missing and unlisted
    files are all problems, each named."""
    problems: list[Problem] = []
    if manifest.manifest_sha256 != manifest.body_digest():
        problems.append(Problem(path=MANIFEST_NAME, reason="the manifest was altered (its digest does not match)"))
    listed = {f.path: f for f in manifest.files}
    for path, f in sorted(listed.items()):
        got = found.get(path)
        if got is None:
            problems.append(Problem(path=path, reason="missing"))
        elif got[0] != f.size:
            problems.append(Problem(path=path, reason=f"size {got[0]}, the manifest says {f.size}"))
        elif got[1] != f.sha256:
            problems.append(Problem(path=path, reason="SHA-256 does not match the manifest"))
    for path in sorted(set(found) - set(listed)):
        problems.append(Problem(path=path, reason="not in the manifest"))
    for path in manifest.database_files:
        if path not in listed:
            problems.append(Problem(path=path, reason="database file not in the manifest's file list"))
    return problems


def schema_refusal(backup_revision: str, known_revisions: list[str]) -> str | None:
    """Why this code cannot restore the backup's schema (None: it can, migrating forward if older).
    `known_revisions` runs oldest to newest."""
    if backup_revision in known_revisions:
        return None
    newest = known_revisions[-1] if known_revisions else "none"
    return (f"the backup's schema revision {backup_revision!r} is unknown to this rtcc (newest known: {newest}): "
            "it was made by a newer version; restore it with that version or newer")


class DatabaseDump(BaseModel):
    """What a database adapter wrote: its files (relative to the database folder) and, read from the very
    snapshot it dumped, the schema revision and the audit chain's head."""

    model_config = ConfigDict(frozen=True)

    files: tuple[str, ...]
    schema_revision: str
    audit_head: AuditHead


class DatabaseState(BaseModel):
    model_config = ConfigDict(frozen=True)

    tables: int  # 0: a new, empty database
    audit_records: int
    agencies: int

    @property
    def holds_data(self) -> bool:
        """A freshly migrated schema (`rtcc migrate`, nothing in it) may be restored over; data may not."""
        return self.audit_records > 0 or self.agencies > 0


class DatabaseBackup(Protocol):
    """One backend's dump and restore (adapters/db/backup_sqlite.py, backup_postgres.py)."""

    backend: str

    def dump(self, folder: Path) -> DatabaseDump:
        """A consistent snapshot of the whole database into `folder` (which exists and is empty)."""
        ...

    def state(self) -> DatabaseState: ...

    def load(self, folder: Path, files: tuple[str, ...]) -> None:
        """Replace the database with the dump in `folder`; the target holds no data (checked before)."""
        ...

    def known_revisions(self) -> list[str]:
        """The schema revisions this code knows, oldest first."""
        ...

    def migrate(self) -> None: ...
