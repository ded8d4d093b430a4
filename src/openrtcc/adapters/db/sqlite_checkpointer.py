"""Checkpoint SQLite's write-ahead log off the request path, while the hub serves."""

from __future__ import annotations

from sqlalchemy import Engine

from openrtcc.periodic import PeriodicTask


class SqliteCheckpointer(PeriodicTask):
    """Every `interval_s`, a PASSIVE checkpoint from its own connection: it waits for no reader or writer,
    so requests keep committing while the log is copied into the database. If a round fails, SQLite's own
    threshold (engine.AUTOCHECKPOINT_PAGES) still bounds the log."""

    def __init__(self, engine: Engine, interval_s: float = 1.0):
        super().__init__("sqlite-checkpointer", interval_s, self.checkpoint)
        self.engine = engine

    def checkpoint(self) -> tuple[int, int, int]:
        """(busy, log pages, pages checkpointed), as SQLite reports them."""
        raw = self.engine.raw_connection()
        try:
            # The raw connection is in autocommit mode (isolation_level=None): no transaction is opened.
            return tuple(raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
        finally:
            raw.close()
