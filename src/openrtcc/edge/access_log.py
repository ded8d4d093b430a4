"""The box's own access log: every request it answered, allowed or refused, in SQLite on the box.

Append-only (triggers refuse deletes and edits of an entry; only the `sent` mark changes), forwarded to the
hub as AccessLog messages (idempotent by entry id there), and printed by `rtcc edge log`."""

from __future__ import annotations

import sqlite3
import sys
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import TextIO

from openrtcc.domain.edge_protocol import MAX_ACCESS_ENTRIES, AccessEntry
from openrtcc.edge.config import EdgeConfig

FILE_NAME = "access_log.db"
_COLUMNS = ("entry_id", "at", "camera_id", "agency_id", "user_id", "kind", "outcome", "reason", "purpose",
            "case_number")
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS entry (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id TEXT NOT NULL UNIQUE, at TEXT NOT NULL, camera_id TEXT, agency_id TEXT, user_id TEXT,
    kind TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, purpose TEXT, case_number TEXT,
    sent INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS entry_unsent ON entry (sent, seq);
CREATE TRIGGER IF NOT EXISTS entry_no_delete BEFORE DELETE ON entry
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entry_no_edit BEFORE UPDATE OF {', '.join(_COLUMNS)} ON entry
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
"""


def access_log_path(config: EdgeConfig) -> Path:
    return Path(config.edge.data_dir) / FILE_NAME


class EdgeAccessLog:
    def __init__(self, path: Path, now=None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._now = now
        self._lock = threading.Lock()
        self.recorded = threading.Event()  # set by each new entry: the link forwards it without waiting
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an entry written is an entry kept, power cut or not
        self._db.executescript(_SCHEMA)

    def record(self, *, kind: str, outcome: str, reason: str, at: datetime | None = None,
               camera_id: str | None = None, agency_id: str | None = None, user_id: str | None = None,
               purpose: str | None = None, case_number: str | None = None) -> AccessEntry:
        """Append one entry (validated as the protocol's AccessEntry first, so it can always be forwarded)."""
        at = at or (self._now() if self._now else datetime.now().astimezone())
        entry = AccessEntry(entry_id=uuid.uuid4().hex, at=at, camera_id=camera_id, agency_id=agency_id,
                            user_id=user_id, kind=kind, outcome=outcome, reason=reason[:300], purpose=purpose,
                            case_number=case_number)
        row = entry.model_dump(mode="json")
        with self._lock:
            self._db.execute(f"INSERT INTO entry ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                             [row[c] for c in _COLUMNS])
        self.recorded.set()
        return entry

    def unsent(self, limit: int = MAX_ACCESS_ENTRIES) -> list[AccessEntry]:
        return self._select("WHERE sent = 0 ORDER BY seq LIMIT ?", limit)

    def mark_sent(self, entry_ids: list[str]) -> None:
        with self._lock:
            self._db.executemany("UPDATE entry SET sent = 1 WHERE entry_id = ?", [(e,) for e in entry_ids])

    def latest(self, limit: int = 100) -> list[AccessEntry]:
        return list(reversed(self._select("ORDER BY seq DESC LIMIT ?", limit)))

    def _select(self, tail: str, limit: int) -> list[AccessEntry]:
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM entry {tail}", (limit,)).fetchall()
        return [AccessEntry.model_validate(dict(zip(_COLUMNS, r))) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def print_log(config: EdgeConfig, limit: int = 100, out: TextIO | None = None) -> int:
    """`rtcc edge log`: the latest entries, oldest first; returns the exit code."""
    out = out or sys.stdout
    path = access_log_path(config)
    if not path.is_file():
        print(f"no access log yet ({path})", file=out)
        return 0
    log = EdgeAccessLog(path)
    try:
        for e in log.latest(limit):
            who = f"{e.agency_id or '-'}/{e.user_id or '-'}"
            case = f" case {e.case_number}" if e.case_number else ""
            print(f"{e.at.isoformat()}  {e.kind:<6} {e.outcome:<8} {e.camera_id or '-':<20} {who}{case}  {e.reason}",
                  file=out)
    finally:
        log.close()
    return 0
