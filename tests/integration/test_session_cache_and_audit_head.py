"""The shortcuts of a registration's hot path keep their rules: a verified session held in the process's cache
ends as soon as the database says so, and an audit append from a remembered chain head never forks the chain
when another process (another hub on the same database) appended in between."""

from __future__ import annotations

from datetime import datetime, timedelta

from openrtcc.bootstrap import build_hub
from openrtcc.domain.accounts import Role, User
from openrtcc.domain.audit import AuditEntry
from openrtcc.services.audit_trail import verify_chain
from openrtcc.services.session_cache import CachedSession, SessionCache
from tests.conftest import PASSWORD
from tests.integration import db_probe as db


def _append(hub, action: str) -> None:
    with hub.uow() as uow:
        uow.record(AuditEntry(action, "success", None, None, None, "test", {}))
        uow.commit()


def test_a_second_process_appending_between_two_appends_does_not_fork_the_chain(hub, settings, clock):
    _append(hub, "test.first")  # this hub now remembers the head it wrote (SQLite)
    other = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True)  # as an rtcc CLI process
    try:
        _append(other, "test.other_process")
        _append(other, "test.other_process_again")
    finally:
        other.extras["engine"].dispose()
    seq = db.audit_head_seq(hub)
    _append(hub, "test.after")  # the remembered head is stale: the record chains onto the true head
    _append(hub, "test.after_again")
    records = db.audit_after(hub, seq - 3)
    assert [r.action for r in records] == ["test.first", "test.other_process", "test.other_process_again",
                                           "test.after", "test.after_again"]
    assert [r.seq for r in records] == list(range(seq - 2, seq + 3))
    assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:]))
    report = verify_chain(hub)
    assert report.ok and report.head_seq == seq + 2


def test_a_rolled_back_append_leaves_no_gap_or_fork(hub):
    _append(hub, "test.kept")
    with hub.uow() as uow:
        uow.record(AuditEntry("test.rolled_back", "success", None, None, None, "test", {}))
        # no commit: the head it moved and the record it wrote go with the transaction
    seq = db.audit_head_seq(hub)
    _append(hub, "test.next")
    assert [(r.seq, r.action) for r in db.audit_after(hub, seq - 1)] == [(seq, "test.kept"), (seq + 1, "test.next")]
    assert verify_chain(hub).ok


def test_a_cached_session_ends_at_once_on_log_off_lock_and_idle(world):
    owner = world.owner()
    for _ in range(3):  # the first check reads the database, the next ones are served from the cache
        assert owner.get("/api/owner/cameras").status_code == 200
    assert len(world.hub.extras["session_cache"]) >= 1
    assert owner.post("/api/auth/logoff").status_code == 204
    r = owner.get("/api/owner/cameras")
    assert r.status_code == 401 and r.json()["error"] == "not_logged_on"

    owner2 = world.owner("Omar")
    assert owner2.get("/api/owner/cameras").status_code == 200
    assert owner2.get("/api/owner/cameras").status_code == 200
    for i in range(5):  # five failed log-ons lock the account and end its open sessions
        bad = {"email": owner2.email, "password": f"Wrong-Password-{i}", "accept_banner": True}
        assert owner2.client.post("/api/auth/logon", json=bad).status_code == 401
    r = owner2.get("/api/owner/cameras")
    assert r.status_code == 401 and r.json()["error"] == "not_logged_on"

    owner3 = world.owner("Ona")
    assert owner3.get("/api/owner/cameras").status_code == 200
    world.clock.advance(minutes=31)  # the cached entry is still there, but its idle limit has passed
    r = owner3.get("/api/owner/cameras")
    assert r.status_code == 401 and r.json()["error"] == "session_expired"
    assert db.count(world.hub, "session", "user_id = (SELECT id FROM user_account WHERE email = :e)",
                    e=owner3.email) == 0


def test_a_cached_session_still_counts_as_activity(world):
    owner = world.owner()
    for _ in range(6):  # steady use for an hour: the cache must not skip the idle clock's touches
        world.clock.advance(minutes=10)
        assert owner.get("/api/owner/cameras").status_code == 200
        assert owner.get("/api/owner/cameras").status_code == 200
    world.clock.advance(minutes=25)
    assert owner.get("/api/owner/cameras").status_code == 200


def test_a_read_begun_before_a_change_is_not_cached_after_it():
    cache = SessionCache(max_entries=2)
    now = datetime(2026, 1, 1)
    user = User("u1", "a@b.test", "A", Role.OWNER, None, PASSWORD, None, False, None, None, False, now, None)
    entry = CachedSession(user, now, now, True)
    began = cache.generation
    cache.forget({"u1"}, set())  # a log-off or lock committed while the read was under way
    cache.put("t1", entry, began)
    assert cache.get("t1") is None
    cache.put("t1", entry, cache.generation)
    assert cache.get("t1") == entry
    cache.forget(set(), {"t1"})
    assert cache.get("t1") is None
    for n in range(3):  # bounded: the oldest entry goes first
        cache.put(f"t{n}", CachedSession(user, now + timedelta(seconds=n), now, True), cache.generation)
    assert len(cache) == 2 and cache.get("t0") is None and cache.get("t2") is not None
    cache.forget({"u1"}, set())
    assert len(cache) == 0
