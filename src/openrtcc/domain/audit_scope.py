"""Whether the current request has committed an audit record: opened per request by the web layer, marked by
the unit of work, so a request that audited nothing itself gets the web layer's fallback record."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(slots=True)
class AuditScope:
    """Mutable on purpose: worker threads run handlers in a copy of the request's context, and a copy still
    holds this same object, so a commit in a thread is seen by the request."""

    committed: int = 0


_current: ContextVar[AuditScope | None] = ContextVar("rtcc_audit_scope", default=None)


def open_scope() -> tuple[AuditScope, Token]:
    scope = AuditScope()
    return scope, _current.set(scope)


def close_scope(token: Token) -> None:
    _current.reset(token)


def mark_committed() -> None:
    """Called by the unit of work after a commit that carried an audit record; nothing outside a request."""
    scope = _current.get()
    if scope is not None:
        scope.committed += 1


def mark_covered() -> None:
    """This request is accounted for by a record already written (the build of a cached public answer, the
    first refusal of a rate-limited client's wait): the fallback record would only let a crawler fill the
    audit trail."""
    mark_committed()
