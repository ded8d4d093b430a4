"""Deliver what the outbox holds: each event is sent, then marked, or retried with back-off."""

from __future__ import annotations

import logging
from datetime import timedelta

from openrtcc.domain.audit import AuditEntry
from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
CLAIM_LEASE = timedelta(minutes=5)  # a dispatcher that dies mid-send leaves the event to be retried after this


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def dispatch_due(hub: Hub, limit: int = 100) -> int:
    """Send due emails once; returns how many were delivered.

    Each event is claimed before it is sent, so several dispatchers never send the same one, and no
    transaction is open while the relay is talked to: on SQLite a slow relay would stall every writer.
    """
    if hub.mailer is None:
        return 0
    with hub.uow() as uow:
        due = uow.activity.due(hub.clock.now(), limit, topic="email", max_attempts=MAX_ATTEMPTS)
        uow.rollback()
    return sum(_deliver(hub, ev) for ev in due)


def _deliver(hub: Hub, ev) -> bool:
    with hub.uow() as uow:
        now = hub.clock.now()
        if not uow.activity.claim(ev.id, now, now + CLAIM_LEASE):
            return False
        to = uow.activity.user_email(ev.payload["user_id"])
        uow.commit_bookkeeping()
    failure = None
    try:
        if to:
            hub.mailer.send(to, ev.payload["subject"], ev.payload["body"])
    except Exception as exc:  # any delivery failure is retried later
        failure = exc
    target = f"user:{ev.payload['user_id']}"
    with hub.uow() as uow:
        now = hub.clock.now()
        if failure is None:
            uow.activity.mark_dispatched(ev.id, now)
            uow.record(AuditEntry("notify.email", "success", None, None, target, None, {"outbox": ev.id}))
        else:
            attempts = ev.attempts + 1
            log.warning("email delivery failed (attempt %s): %s", attempts, type(failure).__name__)
            uow.activity.mark_failed(ev.id, attempts, f"{type(failure).__name__}: {failure}",
                                     now + retry_delay(attempts))
            uow.record(AuditEntry("notify.email", "failed", None, None, target, None,
                                  {"outbox": ev.id, "attempt": attempts}))
        uow.commit()
    return failure is None
