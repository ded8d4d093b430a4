"""Checkpoint SQLite's write-ahead log off the request path, while the hub serves."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger(__name__)


class SqliteCheckpointer:
    """Every `interval_s`, a PASSIVE checkpoint from its own connection: it waits for no reader or writer,
    so requests keep committing while the log is copied into the database."""

    def __init__(self, engine: Engine, interval_s: float = 1.0):
        self.engine = engine
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def checkpoint(self) -> tuple[int, int, int]:
        """(busy, log pages, pages checkpointed), as SQLite reports them."""
        raw = self.engine.raw_connection()
        try:
            # The raw connection is in autocommit mode (isolation_level=None): no transaction is opened.
            return tuple(raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
        finally:
            raw.close()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.checkpoint()
            except Exception:  # the next round tries again; SQLite's own threshold still bounds the log
                log.exception("background WAL checkpoint failed")
