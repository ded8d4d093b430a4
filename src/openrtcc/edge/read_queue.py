"""The box's durable plate-read queue (SQLite, WAL, synchronous=FULL): a read is committed here before
anything else happens to it, and leaves only when the hub has acknowledged it as stored or duplicate.

Each camera has its own sequence counter, kept in the same database and advanced in the same commit as the
read it numbers, so a number is never reused: not after a restart, not after a `kill -9` or a power cut.
A read's idempotent id on the hub is `"{edge_id}:{camera_id}:{seq}"`.

Rows are `pending` (to be sent), `local` (the owner shares this camera's reads with nobody: they never
leave the box) or `quarantined` (the hub refused the read itself, e.g. 422: kept with the hub's answer, so
it does not block the queue and is not lost). A commit that fails (disk full, I/O error) raises
ReadQueueError: the caller alarms; nothing is dropped silently.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from openrtcc.domain.reads import ReadIn

PENDING, LOCAL, QUARANTINED = "pending", "local", "quarantined"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS camera_seq (camera_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS read (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    doc TEXT NOT NULL,          -- the ReadIn as JSON, without read_id and images
    crop BLOB,
    snapshot BLOB,
    error TEXT,
    queued_at TEXT NOT NULL,
    UNIQUE (camera_id, seq)
);
CREATE INDEX IF NOT EXISTS ix_read_state ON read (state, id);
"""


class ReadQueueError(Exception):
    """The queue could not commit (disk full, I/O error, a damaged database): the read is not stored."""


@dataclass(frozen=True, slots=True)
class QueuedRead:
    row_id: int
    camera_id: str
    seq: int
    read: ReadIn  # its read_id is the box-wide id "{edge_id}:{camera_id}:{seq}"


def read_id(edge_id: str, camera_id: str, seq: int) -> str:
    return f"{edge_id}:{camera_id}:{seq}"


class ReadQueue:
    """Thread-safe: the plate pipelines enqueue, the forwarder peeks and acknowledges, health counts."""

    def __init__(self, path: Path, *, max_page_count: int | None = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a kill -9
        if max_page_count is not None:  # a hard size cap (tests use it to fill the "disk")
            self._db.execute(f"PRAGMA max_page_count={int(max_page_count)}")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def enqueue(self, camera_id: str, read: ReadIn, *, shared: bool, now: datetime) -> int:
        """Numbers the read with the camera's next sequence number and commits it; returns the number.

        `shared` False: the owner shares this camera's reads with nobody, so the read stays on the box.
        The read's own read_id is ignored: the queue's id replaces it when the read is sent."""
        doc = read.model_dump_json(exclude={"read_id", "crop", "snapshot"})
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute("SELECT last_seq FROM camera_seq WHERE camera_id = ?", (camera_id,)).fetchone()
                seq = (row[0] if row else 0) + 1
                self._db.execute("INSERT INTO camera_seq (camera_id, last_seq) VALUES (?, ?) ON CONFLICT (camera_id)"
                                 " DO UPDATE SET last_seq = excluded.last_seq", (camera_id, seq))
                self._db.execute("INSERT INTO read (camera_id, seq, state, doc, crop, snapshot, queued_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 (camera_id, seq, PENDING if shared else LOCAL, doc, read.crop, read.snapshot,
                                  _utc(now)))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise ReadQueueError(f"the plate-read queue {self.path} cannot store a read: {exc}") from exc
        return seq

    def peek(self, edge_id: str, limit: int) -> list[QueuedRead]:
        """The oldest pending reads, each with its box-wide id; they stay queued until acknowledged."""
        with self._lock:
            rows = self._db.execute("SELECT id, camera_id, seq, doc, crop, snapshot FROM read WHERE state = ? "
                                    "ORDER BY id LIMIT ?", (PENDING, limit)).fetchall()
        return [QueuedRead(r[0], r[1], r[2], _read(edge_id, *r[1:])) for r in rows]

    def delivered(self, row_ids: list[int]) -> None:
        """The hub answered stored or duplicate for these: they leave the box."""
        self._write("DELETE FROM read WHERE id = ? AND state = ?", [(i, PENDING) for i in row_ids])

    def keep_local(self, row_ids: list[int]) -> None:
        """Sharing was turned off before these were sent: they stay on the box, never to be sent."""
        self._write("UPDATE read SET state = ? WHERE id = ? AND state = ?", [(LOCAL, i, PENDING) for i in row_ids])

    def quarantine(self, row_id: int, error: str) -> None:
        """The hub refused this read itself: kept with its error, out of the way of the others."""
        self._write("UPDATE read SET state = ?, error = ? WHERE id = ?", [(QUARANTINED, error[:2000], row_id)])

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) FROM read GROUP BY state").fetchall()
        return {PENDING: 0, LOCAL: 0, QUARANTINED: 0, **dict(rows)}

    def pending(self) -> int:
        """Reads waiting for the hub (Health.queued_reads)."""
        return self.counts()[PENDING]

    def quarantined(self) -> list[tuple[str, int, str]]:
        """(camera, seq, the hub's answer) of every quarantined read."""
        with self._lock:
            return self._db.execute("SELECT camera_id, seq, error FROM read WHERE state = ? ORDER BY id",
                                    (QUARANTINED,)).fetchall()

    def purge_kept(self, before: datetime) -> int:
        """Retention for what stays on the box: local-only and quarantined reads queued before `before` are
        deleted (plate reads are kept no longer than video). Pending reads wait for the hub whatever their age."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                gone = self._db.execute("DELETE FROM read WHERE state IN (?, ?) AND queued_at < ?",
                                        (LOCAL, QUARANTINED, _utc(before))).rowcount
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise ReadQueueError(f"the plate-read queue {self.path} cannot be purged: {exc}") from exc
        return gone

    def _write(self, sql: str, params: list[tuple]) -> None:
        if not params:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, params)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise ReadQueueError(f"the plate-read queue {self.path} cannot be updated: {exc}") from exc

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # no transaction was open (BEGIN itself failed)


def _utc(at: datetime) -> str:
    """Times are kept as UTC ISO text, so that they compare as text."""
    return at.astimezone(UTC).isoformat()


def _read(edge_id: str, camera_id: str, seq: int, doc: str, crop: bytes | None, snapshot: bytes | None) -> ReadIn:
    fields = json.loads(doc)
    fields["read_id"] = read_id(edge_id, camera_id, seq)
    # Images travel as base64 in the message; ReadIn's validators decode and check them again.
    fields["crop"] = base64.b64encode(crop).decode() if crop else None
    fields["snapshot"] = base64.b64encode(snapshot).decode() if snapshot else None
    return ReadIn.model_validate(fields)
