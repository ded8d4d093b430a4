"""Keeps crawlers off the database behind the public portal: answers are built at most once per key and
time-to-live (concurrent misses wait for the one build), and each client has a per-minute budget held in memory,
so that neither a flood of requests nor its refusals writes or reads a row."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.audit_scope import mark_committed
from openrtcc.domain.clock import Clock
from openrtcc.domain.errors import RateLimited
from openrtcc.domain.public_forms import audit_source, client_hash
from openrtcc.services.hub import Hub


@dataclass(frozen=True, slots=True)
class PublicLimits:
    ttl: timedelta = timedelta(seconds=60)  # how stale a public figure may be
    per_client_per_minute: int = 120  # a person clicking around stays far below it
    max_entries: int = 512  # cached answers (agencies x views x pages)
    max_clients: int = 10_000  # clients remembered; the oldest is forgotten first


class PublicCache:
    """Thread-safe: FastAPI runs the portal's handlers in its thread pool."""

    def __init__(self, clock: Clock, limits: PublicLimits | None = None):
        self.clock = clock
        self.limits = limits or PublicLimits()
        self._entries: OrderedDict[tuple, tuple[datetime, Any]] = OrderedDict()
        self._building: dict[tuple, threading.Lock] = {}
        self._hits: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._refused: dict[str, datetime] = {}  # client -> the first refusal of its current wait
        self._lock = threading.Lock()

    def admit(self, client: str) -> None:
        """Counts one request of `client` (a keyed hash, never an address); over budget: RateLimited."""
        now = self.clock.now()
        with self._lock:
            hits = self._hits.pop(client, None) or deque()
            while hits and hits[0] <= now - timedelta(minutes=1):
                hits.popleft()
            self._hits[client] = hits
            while len(self._hits) > self.limits.max_clients:
                self._hits.popitem(last=False)
            if len(hits) >= self.limits.per_client_per_minute:
                wait = max(1, int((hits[0] + timedelta(minutes=1) - now).total_seconds()) + 1)
                noted = self._refused.get(client)
                first = noted is None or noted <= now - timedelta(minutes=1)
                if first:
                    self._refused[client] = now
                    while len(self._refused) > self.limits.max_clients:
                        self._refused.pop(next(iter(self._refused)))
                refusal = RateLimited(f"too many requests: wait {wait} s", code="rate_limited",
                                      details={"retry_after_s": wait})
                refusal.first = first  # the caller records the first refusal of a wait, not each one
                raise refusal
            hits.append(now)

    def get(self, key: tuple, build: Callable[[], Any]) -> tuple[Any, bool]:
        """(the answer, whether it was built now); one build per key at a time, the others wait for it."""
        fresh = self._fresh(key)
        if fresh is not None:
            return fresh, False
        with self._lock:
            gate = self._building.setdefault(key, threading.Lock())
        with gate:
            fresh = self._fresh(key)
            if fresh is not None:
                return fresh, False
            value = build()
            with self._lock:
                self._entries[key] = (self.clock.now(), value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.limits.max_entries:
                    self._entries.popitem(last=False)
                self._building.pop(key, None)
            return value, True

    def forget(self, prefix: tuple = ()) -> None:
        """Drops cached answers whose key starts with `prefix` (all by default): settings changed."""
        with self._lock:
            for key in [k for k in self._entries if k[:len(prefix)] == prefix]:
                del self._entries[key]

    def _fresh(self, key: tuple):
        with self._lock:
            found = self._entries.get(key)
            if found is None or self.clock.now() - found[0] >= self.limits.ttl or found[0] > self.clock.now():
                return None
            return found[1]


def cache_of(hub: Hub) -> PublicCache:
    """The hub's one cache of public answers (the transparency portal, the audit anchors)."""
    cache = hub.extras.get("public_cache")
    if cache is None:
        cache = hub.extras.setdefault("public_cache", PublicCache(hub.clock, hub.extras.get("public_limits")))
    return cache


def admit_public(hub: Hub, client: str | None, target: str) -> PublicCache:
    """Let a public client in, or refuse it (RateLimited) when it is over its budget: only the first refusal of a
    wait is audited, the rest are covered by that record."""
    cache = cache_of(hub)
    try:
        cache.admit(client_hash(hub.secret_key, client))
    except RateLimited as refusal:
        if refusal.first:
            with hub.uow() as uow:
                uow.record(AuditEntry("public.rate_limited", "denied", None, None, target,
                                      audit_source(hub.secret_key, client), dict(refusal.details)))
                uow.commit()
        else:
            mark_committed()
        raise
    return cache


def cached_answer(cache: PublicCache, key: tuple, build):
    """The answer for `key`, built (and so audited by `build`) at most once per time-to-live. A cached copy is
    accounted for by the record its build wrote; without saying so the web layer's fallback audit would write a
    row per request, and a crawler could load the database through the audit trail."""
    value, built = cache.get(key, build)
    if not built:
        mark_committed()
    return value
