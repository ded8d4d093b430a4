"""What every use case receives: the unit-of-work factory and the ports, wired by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from openrtcc.domain.accounts import Permission, Role, has_permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.clock import Clock, IdFactory
from openrtcc.domain.errors import Forbidden
from openrtcc.domain.matching import HotListMatcher
from openrtcc.domain.ports import EventBus, Mailer, MatcherFactory, MediaStore, Metrics, PasswordHasher, TotpVerifier


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: resolved from a verified session, never from the request body."""

    user_id: str
    role: Role
    agency_id: str | None
    source: str | None = None

    def require(self, permission: Permission) -> None:
        if not has_permission(self.role, permission):
            raise Forbidden(f"the {self.role} role may not do this", code="permission_denied")

    def entry(self, action: str, target: str | None = None, outcome: str = "success", **details) -> AuditEntry:
        return AuditEntry(action, outcome, self.user_id, self.agency_id, target, self.source, details)


class NullMetrics:
    """Metrics off (tests, tools): every call does nothing."""

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        pass

    def observe(self, name: str, value: float, **labels: str) -> None:
        pass

    def gauge(self, name: str, value: float, **labels: str) -> None:
        pass


@dataclass(slots=True)
class Hub:
    uow: Callable  # () -> unit of work (context manager)
    clock: Clock
    ids: IdFactory
    passwords: PasswordHasher
    totp: TotpVerifier
    media: MediaStore
    mailer: Mailer | None
    password_blocklist: frozenset[str]
    deployment_name: str = "OpenRTCC"
    base_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 512 * 1024 * 1024
    utc_offset_minutes: int = 0
    bus: EventBus | None = None  # typed events after commit (alerts); None: nobody listens
    matcher_factory: MatcherFactory = HotListMatcher.build  # builds hot-list indexes; bootstrap picks a faster one
    metrics: Metrics = field(default_factory=NullMetrics)  # Prometheus in a serving hub
    secret_key: bytes = b""  # signs public links (unsubscribe, confirm); set by the composition root
    extras: dict = field(default_factory=dict)
