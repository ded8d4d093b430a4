"""The box's index of recorded segments and evidence holds: SQLite in WAL mode, one row per segment.

One connection behind a lock: the recorders of every camera write through it, a row when a segment opens
and an update when it closes, so the rate is a few rows a second however many packets flow.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from openrtcc.domain.recording import Hold, Segment

_SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- recording order, which a wall clock set back cannot reorder
    id TEXT NOT NULL UNIQUE,
    camera_id TEXT NOT NULL,
    day TEXT NOT NULL,
    started_us INTEGER NOT NULL,
    ended_us INTEGER,
    size_bytes INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    container TEXT NOT NULL,
    path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_camera_time ON segments (camera_id, started_us);
CREATE INDEX IF NOT EXISTS segments_time ON segments (started_us);
CREATE INDEX IF NOT EXISTS segments_day ON segments (day, camera_id);
CREATE TABLE IF NOT EXISTS holds (
    hold_id TEXT PRIMARY KEY,
    camera_id TEXT NOT NULL,
    start_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL,
    case_number TEXT,
    requested_by TEXT,
    created_us INTEGER NOT NULL,
    released_us INTEGER
);
"""

_SEGMENT_COLUMNS = "id, camera_id, day, started_us, ended_us, size_bytes, complete, container, seq"
_HOLD_COLUMNS = "hold_id, camera_id, start_us, end_us, released_us, case_number, requested_by"
# Longest segment the index assumes when it looks for segments overlapping a range (by start time).
MAX_SEGMENT_SECONDS = 3600


def _us(t: datetime) -> int:
    return round(t.timestamp() * 1_000_000)


def _dt(us: int | None) -> datetime | None:
    return None if us is None else datetime.fromtimestamp(us / 1_000_000, UTC)


def _segment(row: tuple) -> Segment:
    sid, camera_id, day, started, ended, size, complete, container, seq = row
    return Segment(id=sid, camera_id=camera_id, day=date.fromisoformat(day), started_at=_dt(started),
                   ended_at=_dt(ended), size_bytes=size, complete=bool(complete), container=container, seq=seq)


def _hold(row: tuple) -> Hold:
    hold_id, camera_id, start, end, released, case_number, requested_by = row
    return Hold(hold_id=hold_id, camera_id=camera_id, start=_dt(start), end=_dt(end),
                released=released is not None, case_number=case_number, requested_by=requested_by)


class SegmentIndex:
    def __init__(self, path: Path):
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ------------------------------------------------------------ segments

    def add_segment(self, segment: Segment, path: str) -> None:
        self._run("INSERT INTO segments (id, camera_id, day, started_us, ended_us, size_bytes, complete, "
                  "container, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (segment.id, segment.camera_id, segment.day.isoformat(), _us(segment.started_at),
                   None if segment.ended_at is None else _us(segment.ended_at), segment.size_bytes,
                   int(segment.complete), segment.container, path))

    def finish_segment(self, segment_id: str, ended_at: datetime, size_bytes: int, complete: bool) -> None:
        self._run("UPDATE segments SET ended_us = ?, size_bytes = ?, complete = ? WHERE id = ?",
                  (_us(ended_at), size_bytes, int(complete), segment_id))

    def delete_segments(self, segment_ids: Iterable[str]) -> None:
        ids = [(i,) for i in segment_ids]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("DELETE FROM segments WHERE id = ?", ids)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def segment(self, segment_id: str) -> Segment | None:
        rows = self._run(f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE id = ?", (segment_id,))
        return _segment(rows[0]) if rows else None

    def path_of(self, segment_id: str) -> str | None:
        rows = self._run("SELECT path FROM segments WHERE id = ?", (segment_id,))
        return rows[0][0] if rows else None

    def ids_in(self, day: date, camera_id: str) -> set[str]:
        return {r[0] for r in self._run("SELECT id FROM segments WHERE day = ? AND camera_id = ?",
                                        (day.isoformat(), camera_id))}

    def count_in(self, day: date, camera_id: str) -> int:
        return self._run("SELECT COUNT(*) FROM segments WHERE day = ? AND camera_id = ?",
                         (day.isoformat(), camera_id))[0][0]

    def has_segments_on(self, day: date) -> bool:
        return bool(self._run("SELECT 1 FROM segments WHERE day = ? LIMIT 1", (day.isoformat(),)))

    def camera_ids(self) -> list[str]:
        return [r[0] for r in self._run("SELECT DISTINCT camera_id FROM segments ORDER BY camera_id")]

    def oldest_finished(self, after_seq: int = 0, limit: int = 500) -> list[Segment]:
        """Finished segments of every camera in the order they were recorded, after the given seq."""
        return [_segment(r) for r in self._run(
            f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE seq > ? AND ended_us IS NOT NULL ORDER BY seq LIMIT ?",
            (after_seq, limit))]

    def ended_before(self, camera_id: str, cutoff: datetime, after: tuple[datetime, str] | None = None,
                     limit: int = 5000) -> list[Segment]:
        """The camera's finished segments that ended before cutoff, oldest first, starting after
        (started_at, id)."""
        sql = (f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE camera_id = ? AND started_us < ? "
               "AND ended_us < ?")
        args: tuple = (camera_id, _us(cutoff), _us(cutoff))
        if after is not None:
            sql += " AND (started_us > ? OR (started_us = ? AND id > ?))"
            args += (_us(after[0]), _us(after[0]), after[1])
        return [_segment(r) for r in self._run(sql + " ORDER BY started_us, id LIMIT ?", (*args, limit))]

    def segments(self, camera_id: str | None = None, start: datetime | None = None,
                 end: datetime | None = None) -> list[Segment]:
        """Segments (of one camera, or all) that overlap [start, end], oldest first."""
        where, args = [], []
        if camera_id is not None:
            where.append("camera_id = ?")
            args.append(camera_id)
        if end is not None:
            where.append("started_us <= ?")
            args.append(_us(end))
        if start is not None:
            # The started_us bound lets SQLite use the index; the ended_us test is the real overlap check.
            where.append("started_us >= ? AND (ended_us IS NULL OR ended_us >= ?)")
            args += [_us(start) - MAX_SEGMENT_SECONDS * 1_000_000, _us(start)]
        sql = f"SELECT {_SEGMENT_COLUMNS} FROM segments"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_segment(r) for r in self._run(sql + " ORDER BY started_us, id", tuple(args))]

    def open_segments(self) -> list[Segment]:
        return [_segment(r) for r in
                self._run(f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE ended_us IS NULL ORDER BY started_us")]

    def total_bytes(self) -> int:
        return self._run("SELECT COALESCE(SUM(size_bytes), 0) FROM segments")[0][0]

    def newest_start(self) -> datetime | None:
        return _dt(self._run("SELECT MAX(started_us) FROM segments")[0][0])

    def oldest_start(self) -> datetime | None:
        return _dt(self._run("SELECT MIN(started_us) FROM segments")[0][0])

    # ------------------------------------------------------------ holds

    def add_hold(self, hold: Hold, created_at: datetime) -> None:
        self._run("INSERT INTO holds (hold_id, camera_id, start_us, end_us, case_number, requested_by, "
                  "created_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (hold.hold_id, hold.camera_id, _us(hold.start), _us(hold.end), hold.case_number,
                   hold.requested_by, _us(created_at)))

    def release_hold(self, hold_id: str, released_at: datetime) -> None:
        self._run("UPDATE holds SET released_us = ? WHERE hold_id = ? AND released_us IS NULL",
                  (_us(released_at), hold_id))

    def hold(self, hold_id: str) -> Hold | None:
        rows = self._run(f"SELECT {_HOLD_COLUMNS} FROM holds WHERE hold_id = ?", (hold_id,))
        return _hold(rows[0]) if rows else None

    def holds(self, include_released: bool = False) -> list[Hold]:
        sql = f"SELECT {_HOLD_COLUMNS} FROM holds"
        if not include_released:
            sql += " WHERE released_us IS NULL"
        return [_hold(r) for r in self._run(sql + " ORDER BY start_us, hold_id")]
