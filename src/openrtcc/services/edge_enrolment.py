"""Enrolling an edge box: the owner asks for a one-time code, the box trades it for an id and a key.

Only hashes are kept: the code's and the key's sha256. A refused code gets one answer whatever the reason
(unknown, expired, used), so codes cannot be probed; attempts are limited per client address."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import DomainError, InvalidInput, Unauthenticated
from openrtcc.services.hub import Actor, Hub

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed on a box
CODE_LENGTH = 10
CODE_TTL = timedelta(minutes=15)
KEY_PREFIX = "rtcc_edge_"  # recognisable in a leaked file or a secret scanner's rules
MAX_ATTEMPTS = 10  # per client address and window: 31^10 codes make guessing hopeless at this rate
ATTEMPT_WINDOW = timedelta(minutes=15)
REFUSED = "this enrolment code is not valid: ask the owner portal for a new one"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"


@dataclass(frozen=True, slots=True)
class EnrolmentCode:
    code: str  # shown once; the hub keeps its hash
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Enrolled:
    edge_id: str
    key: str  # shown once; the hub keeps its hash
    owner_id: str
    name: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """What the owner typed, as stored: case and the dashes or spaces of its display ignored."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def create_code(hub: Hub, owner: Actor, name: str | None = None) -> EnrolmentCode:
    owner.require(Permission.OWN_CAMERAS)
    name = (name or "").strip()  # empty: the box's own name (edge.toml) is used when it enrols
    if len(name) > 120:
        raise InvalidInput("a box name has at most 120 characters", code="bad_name")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    with hub.uow() as uow:
        now = hub.clock.now()
        uow.edges.add_code(secret_hash(code), owner.user_id, name, now, now + CODE_TTL)
        uow.record(owner.entry("edge.code_create", f"user:{owner.user_id}", expires_in_s=CODE_TTL.seconds))
        uow.commit()
    return EnrolmentCode(code, now + CODE_TTL)


class AttemptLimiter:
    """Sliding window of enrolment attempts per client address (in memory: one hub process serves the API)."""

    def __init__(self, limit: int = MAX_ATTEMPTS, window: timedelta = ATTEMPT_WINDOW):
        self.limit, self.window = limit, window
        self._lock = threading.Lock()
        self._seen: dict[str, deque] = {}

    def check(self, client: str, now: datetime) -> None:
        with self._lock:
            seen = self._seen.setdefault(client, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                raise TooManyAttempts("too many enrolment attempts from this address: wait 15 minutes",
                                      details={"retry_after_s": int((seen[0] + self.window - now).total_seconds())})
            seen.append(now)


def _limiter(hub: Hub) -> AttemptLimiter:
    return hub.extras.setdefault("edge_enrol_attempts", AttemptLimiter())


def enrol(hub: Hub, code: str, name: str, software_version: str | None, client: str | None) -> Enrolled:
    """Trade a one-time code for an edge id and key; the code is used up whatever happens next."""
    _limiter(hub).check(client or "unknown", hub.clock.now())
    code_hash = secret_hash(normalise_code(code or ""))
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with hub.uow() as uow:
        now = hub.clock.now()
        row = uow.edges.code(code_hash)
        reason = ("unknown" if row is None else "used" if row.used_at is not None
                  else "expired" if row.expires_at <= now else None)
        edge_id = hub.ids.new_id()
        if reason is None and not uow.edges.use_code(code_hash, now, edge_id):
            reason = "used"
        if reason is not None:
            uow.record(AuditEntry("edge.enrol", "denied", None, None, "edge:enrolment", client, {"reason": reason}))
            uow.commit()
            raise Unauthenticated(REFUSED, code="enrolment_refused")
        box_name = row.edge_name or (name or "").strip()[:120] or "Edge box"  # the owner's label comes first
        uow.edges.add_edge(edge_id, row.owner_id, box_name, secret_hash(key), now, software_version)
        uow.record(AuditEntry("edge.enrol", "success", row.owner_id, None, f"edge:{edge_id}", client,
                              {"name": box_name, "software_version": software_version}))
        uow.commit()
    return Enrolled(edge_id, key, row.owner_id, box_name)
