"""Plate reads in daily time partitions on PostgreSQL, so that expiry is a partition drop; nothing on SQLite."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

PARENT = "plate_read"
DEFAULT_PARTITION = "plate_read_default"
DAY = timedelta(days=1)
# How long partition upkeep and the purge wait for the table lock before leaving the work for the next round:
# a waiting ACCESS EXCLUSIVE request holds up every read and ingest that queues behind it.
LOCK_TIMEOUT_MS = 2000
_BUSY = {"55P03", "40P01"}  # lock_not_available (lock_timeout), deadlock_detected

# The bounds of each range partition, as timestamps (pg_get_expr renders them in the session's time zone).
_PARTITIONS = r"""
SELECT c.relname AS name,
       substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \(''([^'']+)''\)')::timestamptz AS lower,
       substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']+)''\)')::timestamptz AS upper
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass('plate_read') AND NOT pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'
"""


@dataclass(frozen=True, slots=True)
class DroppedPartitions:
    names: list[str] = field(default_factory=list)
    reads: int = 0
    busy: list[str] = field(default_factory=list)  # due, but the table lock was not had in time: next run


@dataclass(frozen=True, slots=True)
class ReadPartition:
    name: str
    lower: datetime  # inclusive
    upper: datetime  # exclusive


def day_partition_name(day_start: datetime) -> str:
    return f"plate_read_p{day_start:%Y%m%d}"


def _covered(partitions: list[ReadPartition], day_start: datetime) -> bool:
    """Some partition overlaps the day (an operator's own ranges are respected, never overlapped)."""
    return any(p.lower < day_start + DAY and day_start < p.upper for p in partitions)


class ReadPartitions:
    """The day partitions of plate_read: made ahead of the clock, dropped whole once every agency's reads in
    them have expired. Rows no day partition covers live in the DEFAULT partition (never a failed insert)."""

    def __init__(self, conn: Connection, lock_timeout_ms: int = LOCK_TIMEOUT_MS):
        self.conn = conn
        self.lock_timeout_ms = lock_timeout_ms

    def is_partitioned(self) -> bool:
        if self.conn.dialect.name != "postgresql":
            return False
        return bool(self.conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('plate_read'))"
        )).scalar())

    def partitions(self) -> list[ReadPartition]:
        """The range partitions, oldest first (not the DEFAULT one)."""
        if not self.is_partitioned():
            return []
        rows = self.conn.execute(text(_PARTITIONS))
        found = [ReadPartition(r.name, r.lower, r.upper) for r in rows if r.lower is not None and r.upper is not None]
        return sorted(found, key=lambda p: p.lower)

    def in_default(self) -> int:
        """Reads no day partition covers (late, backfilled or future-stamped)."""
        if not self.is_partitioned():
            return 0
        return int(self.conn.execute(text(f"SELECT count(*) FROM {DEFAULT_PARTITION}")).scalar())

    def ensure_ahead(self, now: datetime, days: int = 3) -> list[str]:
        """Create the partitions for today and the next `days` days; returns those it made."""
        if not self.is_partitioned():
            return []
        existing = self.partitions()
        # Yesterday too: a box that was offline sends its reads of last night after midnight.
        today = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
        made = []
        for start in (today + DAY * i for i in range(-1, days + 1)):
            if _covered(existing, start):
                continue
            name = day_partition_name(start)
            outcome = self._create_day(name, start)
            if outcome == "busy":
                break  # the next round makes the rest
            if outcome == "made":
                made.append(name)
        return made

    def drop_older_than(self, cutoff: datetime) -> DroppedPartitions:
        """Drop every partition whose whole day range ends at or before `cutoff`."""
        if not self.is_partitioned():
            return DroppedPartitions()
        dropped, busy, reads = [], [], 0
        for p in (p for p in self.partitions() if p.upper <= cutoff):
            count = None if busy else self._drop(p.name)  # once the lock was not had, not waited for again
            if count is None:
                busy.append(p.name)
            else:
                dropped.append(p.name)
                reads += count
        if dropped:
            log.info("read partitions dropped: %s (%s reads)", ", ".join(dropped), reads)
        return DroppedPartitions(dropped, reads, busy)

    def _create_day(self, name: str, start: datetime) -> str:
        """made | busy | exists (another hub process made it while this one waited for the lock)."""
        bounds = f"FROM ('{start.isoformat()}') TO ('{(start + DAY).isoformat()}')"
        with self._table_locked() as locked:
            if not locked:
                return "busy"
            if _covered(self.partitions(), start):
                return "exists"
            stranded = self.conn.execute(text(
                f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE captured_at >= :lower AND captured_at < :upper"),
                {"lower": start, "upper": start + DAY}).scalar()
            if not stranded:
                self.conn.execute(text(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES {bounds}"))
                return "made"
            # The day's reads already sit in the DEFAULT partition (the upkeep did not run in time): a new
            # partition may not overlap rows there, so they move into it before it is attached.
            self.conn.execute(text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)"))
            self.conn.execute(text(
                f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE captured_at >= :lower AND captured_at < :upper"
                f" RETURNING *) INSERT INTO {name} SELECT * FROM moved"), {"lower": start, "upper": start + DAY})
            self.conn.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES {bounds}"))
            log.info("read partition %s made; %s reads moved into it from the default partition", name, stranded)
            return "made"

    def _drop(self, name: str) -> int | None:
        with self._table_locked() as locked:
            if not locked:
                return None
            count = int(self.conn.execute(text(f"SELECT count(*) FROM {name}")).scalar())
            self.conn.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name}"))
            self.conn.execute(text(f"DROP TABLE {name}"))
            return count

    @contextmanager
    def _table_locked(self) -> Iterator[bool]:
        """A savepoint holding plate_read's ACCESS EXCLUSIVE lock, waited for at most lock_timeout_ms: yields
        False (and leaves the surrounding transaction as it was) when the table stays busy. The lock is held to
        the end of the surrounding transaction, as every DDL lock is."""
        savepoint = self.conn.begin_nested()
        if not self._lock_parent(savepoint):
            yield False
            return
        try:
            yield True
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()

    def _lock_parent(self, savepoint) -> bool:
        try:
            old = self.conn.execute(text("SELECT current_setting('lock_timeout')")).scalar()
            self._set_lock_timeout(f"{self.lock_timeout_ms}ms")
            self.conn.execute(text(f"LOCK TABLE {PARENT} IN ACCESS EXCLUSIVE MODE"))
            self._set_lock_timeout(old)
            return True
        except DBAPIError as exc:
            savepoint.rollback()
            if getattr(exc.orig, "sqlstate", None) not in _BUSY:
                raise
        log.warning("read partitions: plate_read stayed busy for %s ms; left for the next round", self.lock_timeout_ms)
        return False

    def _set_lock_timeout(self, value: str) -> None:
        self.conn.execute(text("SELECT set_config('lock_timeout', :value, true)"), {"value": value})
