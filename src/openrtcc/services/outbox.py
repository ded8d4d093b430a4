"""Deliver what the outbox holds: each event is sent, then marked, or retried with back-off."""

from __future__ import annotations

import logging
from datetime import timedelta

from openrtcc.domain.audit import AuditEntry
from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def dispatch_due(hub: Hub, limit: int = 100) -> int:
    """Send due events once; returns how many were delivered. Safe to run from several workers."""
    if hub.mailer is None:
        return 0
    delivered = 0
    with hub.uow() as uow:
        due = uow.activity.due(hub.clock.now(), limit)
        uow.rollback()
    for ev in due:
        if ev.topic != "email" or ev.attempts >= MAX_ATTEMPTS:
            continue
        with hub.uow() as uow:
            to = uow.activity.user_email(ev.payload["user_id"])
            now = hub.clock.now()
            try:
                if to:
                    hub.mailer.send(to, ev.payload["subject"], ev.payload["body"])
            except Exception as exc:  # any delivery failure is retried later
                attempts = ev.attempts + 1
                log.warning("email delivery failed (attempt %s): %s", attempts, type(exc).__name__)
                uow.activity.mark_failed(ev.id, attempts, f"{type(exc).__name__}: {exc}", now + retry_delay(attempts))
                uow.record(AuditEntry("notify.email", "failed", None, None, f"user:{ev.payload['user_id']}", None,
                                      {"outbox": ev.id, "attempt": attempts}))
                uow.commit()
                continue
            uow.activity.mark_dispatched(ev.id, now)
            uow.record(AuditEntry("notify.email", "success", None, None, f"user:{ev.payload['user_id']}", None,
                                  {"outbox": ev.id}))
            uow.commit()
            delivered += 1
    return delivered
