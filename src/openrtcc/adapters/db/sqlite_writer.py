"""One SQLite writer at a time, queued in the process rather than by SQLite's busy handler.

Every unit of work on SQLite takes the write lock at BEGIN (see engine.py). When a second thread finds
it taken, SQLite's busy handler sleeps and polls (1, 2, 5, 10 ... 100 ms), so a writer often slept on
long after the lock was free: with four owners registering at once, a third of all BEGINs waited over
2 ms and the worst 0.5 s. Threads of this process queue on a lock instead and are woken at once; other
processes on the same file still meet SQLite's busy handler, as before.
"""

from __future__ import annotations

import threading
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

WAIT_LIMIT_S = 10.0  # as the busy timeout: past it the action fails instead of hanging

_locks: WeakKeyDictionary = WeakKeyDictionary()


class DatabaseBusy(RuntimeError):
    """The write lock stayed taken for longer than WAIT_LIMIT_S."""


def writer_lock(engine: Engine) -> threading.RLock | None:
    """The lock that queues this engine's writers; None where the database queues them itself."""
    if engine.dialect.name != "sqlite":
        return None
    # Re-entrant: a nested unit of work in one thread then fails on SQLite's own timeout, as it did.
    return _locks.setdefault(engine, threading.RLock())


def acquire(lock: threading.RLock | None) -> None:
    if lock is not None and not lock.acquire(timeout=WAIT_LIMIT_S):
        raise DatabaseBusy(f"the database stayed busy for {WAIT_LIMIT_S:.0f} s")
