"""Making a purge's deletions real in the database files: SQLite zeroes deleted rows (secure_delete) and then
truncates its write-ahead log, where the rows' earlier versions still lie; PostgreSQL leaves it to VACUUM."""

from __future__ import annotations

import time

from sqlalchemy import Engine

CHECKPOINT_TRIES = 20


def finish_deletion(engine: Engine) -> str:
    """What the database did after the purge, for the deletion report."""
    if engine.dialect.name != "sqlite":
        return ("postgresql: expired reads went by partition drop (their files are gone); other rows by DELETE, "
                "their space reclaimed and overwritten by autovacuum")
    raw = engine.raw_connection()
    try:
        for _ in range(CHECKPOINT_TRIES):
            # TRUNCATE waits for no new writer but fails (busy) while a reader holds an old snapshot: retry.
            busy, _log, _done = raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return "sqlite: secure_delete on; write-ahead log checkpointed and truncated"
            time.sleep(0.05)
    finally:
        raw.close()
    return "sqlite: secure_delete on; write-ahead log busy, truncated by the next checkpoint"
