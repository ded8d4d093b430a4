"""SQLite writers of one process queue on a lock held for exactly a unit of work's transaction."""

from __future__ import annotations

import threading

import pytest

from openrtcc.adapters.db import sqlite_writer
from openrtcc.domain.audit import AuditEntry


def _entry() -> AuditEntry:
    return AuditEntry("test.write", "success", None, None, None, "test", {})


def _taken_elsewhere(lock) -> bool:
    """Whether another thread holds the lock (this thread's own hold would not count)."""
    result = []
    t = threading.Thread(target=lambda: result.append(lock.acquire(blocking=False) and (lock.release() or True)))
    t.start()
    t.join()
    return not result[0]


def test_the_lock_spans_the_transaction_and_is_freed_by_commit_rollback_or_error(hub, backend):
    lock = sqlite_writer.writer_lock(hub.extras["engine"])
    if backend == "postgres":
        assert lock is None  # PostgreSQL queues its own writers (row locks), no polling to avoid
        return
    with hub.uow() as uow:
        assert _taken_elsewhere(lock)
        uow.record(_entry())
        uow.commit()
        assert not _taken_elsewhere(lock)  # free as soon as the commit is done, before the block ends
    with hub.uow() as uow:
        uow.rollback()
        assert not _taken_elsewhere(lock)
    with pytest.raises(ZeroDivisionError), hub.uow():
        1 / 0
    assert not _taken_elsewhere(lock)


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL writers do not share one lock
def test_a_second_writer_waits_for_the_first_and_then_goes_ahead(hub, backend):
    order, first_open = [], threading.Event()

    def first():
        with hub.uow() as uow:
            first_open.set()
            uow.record(_entry())
            threading.Event().wait(0.2)  # hold the write lock a while
            order.append("first commits")
            uow.commit()

    t = threading.Thread(target=first)
    t.start()
    first_open.wait(5)
    with hub.uow() as uow:
        order.append("second begins")
        uow.record(_entry())
        uow.commit()
    t.join()
    assert order == ["first commits", "second begins"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_writer_gives_up_after_the_wait_limit(hub, backend, monkeypatch):
    monkeypatch.setattr(sqlite_writer, "WAIT_LIMIT_S", 0.1)
    release, holding = threading.Event(), threading.Event()

    def hold():
        with hub.uow():
            holding.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    holding.wait(5)
    try:
        with pytest.raises(sqlite_writer.DatabaseBusy), hub.uow():
            pass
    finally:
        release.set()
        t.join()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_session_check_reads_beside_a_writer_and_a_read_only_unit_cannot_commit(hub, backend, world):
    """The session check on every request reads without the write lock: a long write elsewhere does not hold
    it up, and nothing is written through the read-only unit of work it uses."""
    from openrtcc.services.accounts import authenticate

    analyst = world.staff("analyst")
    authenticate(hub, analyst.token, "test")  # records the session's activity now: the next check writes nothing
    release, holding, written, checked = threading.Event(), threading.Event(), threading.Event(), []

    def hold():
        with hub.uow() as uow:
            holding.set()
            release.wait(5)
            uow.record(_entry())
            uow.commit()
            written.set()

    t = threading.Thread(target=hold)
    t.start()
    holding.wait(5)
    try:
        checked.append(authenticate(hub, analyst.token, "test").actor.user_id)
        assert not written.is_set()  # answered while the writer still held the lock
    finally:
        release.set()
        t.join()
    assert checked and checked[0]
    with hub.uow().reading() as uow, pytest.raises(RuntimeError, match="read-only"):
        uow.record(_entry())
        uow.commit()
