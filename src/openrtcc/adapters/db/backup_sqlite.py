"""Backup and restore of the embedded SQLite database through SQLite's online backup API: a consistent copy
taken page by page while the hub may keep writing, into one self-contained file."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine

from openrtcc.adapters.db.backup_common import database_state, known_revisions, snapshot_facts
from openrtcc.adapters.db.engine import migrate
from openrtcc.domain.backup import DatabaseDump, DatabaseState

DUMP_NAME = "hub.sqlite3"
# The whole copy in one step, inside one read transaction: in WAL mode the hub keeps writing beside it, whereas a
# copy in steps starts over whenever another connection writes between two steps (and may never finish on a busy hub).
ALL_PAGES = -1


class SqliteBackup:
    backend = "sqlite"

    def __init__(self, url: str):
        self.url = url
        self.path = Path(url.removeprefix("sqlite:///"))

    def dump(self, folder: Path) -> DatabaseDump:
        target = folder / DUMP_NAME
        src = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=ALL_PAGES)
            # One file, no WAL beside it: the copy is read back (and restored) on its own.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            src.close()
            dst.close()
        _fsync(target)
        engine = create_engine(f"sqlite:///{target}")
        try:
            with engine.connect() as conn:
                revision, head = snapshot_facts(conn)
        finally:
            engine.dispose()
        return DatabaseDump(files=(DUMP_NAME,), schema_revision=revision, audit_head=head)

    def state(self) -> DatabaseState:
        if not self.path.exists():
            return DatabaseState(tables=0, audit_records=0, agencies=0)
        engine = create_engine(f"sqlite:///{self.path}")
        try:
            with engine.connect() as conn:
                return database_state(conn)
        finally:
            engine.dispose()

    def load(self, folder: Path, files: tuple[str, ...]) -> None:
        """The copy is written beside the target and renamed over it, so the target is the old file or the whole
        restored one; the old file's WAL and shared memory go with it."""
        (name,) = files
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".restoring")
        tmp.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{folder / name}?mode=ro", uri=True)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst, pages=ALL_PAGES)
        finally:
            src.close()
            dst.close()
        _fsync(tmp)
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, self.path)
        _fsync(self.path.parent)  # the rename survives a crash too

    def known_revisions(self) -> list[str]:
        return known_revisions(self.url)

    def migrate(self) -> None:
        migrate(self.url)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
