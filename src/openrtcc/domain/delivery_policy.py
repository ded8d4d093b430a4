"""When a failed delivery is tried again, when it is given up, and how many messages a subscriber or a channel
may be sent: exponential back-off with jitter, and sliding-window rate limits (pure, clock passed in)."""

from __future__ import annotations

import random
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from openrtcc.domain.dissemination import Audience, ChannelKind, DeliveryStatus, SendOutcome

HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
# Residents asked for news of their area, not a stream: beyond this many messages an hour the rest are
# suppressed (logged in the delivery log, not sent). Machines (webhooks, MQTT, sockets) are not limited.
PUBLIC_PER_HOUR = {ChannelKind.EMAIL: 10, ChannelKind.SMS: 6, ChannelKind.PUSH: 20}
# Vendors and partners get the same public-safe messages; their people read them too.
NETWORK_PER_HOUR = {ChannelKind.EMAIL: 30, ChannelKind.SMS: 20, ChannelKind.PUSH: 60}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt n (1-based) failed: wait base * factor^(n-1), capped, then jittered into [half, full] of it so
    that deliveries which failed together (a receiver down) do not all come back at the same instant."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=5)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
        raw = min(self.cap.total_seconds(), self.base.total_seconds() * self.factor ** max(0, attempts - 1))
        return timedelta(seconds=raw * (0.5 + 0.5 * rand()))

    def after(self, outcome: SendOutcome, attempts: int, now: datetime,
              rand: Callable[[], float] = random.random) -> tuple[DeliveryStatus, datetime | None]:
        """The status a delivery moves to after its `attempts`-th try, and when to try again."""
        if outcome.ok:
            return DeliveryStatus.SENT, None
        if not outcome.retryable or attempts >= self.max_attempts:
            return DeliveryStatus.DEAD, None
        return DeliveryStatus.FAILED, now + self.delay(attempts, rand)


def per_hour_limit(audience: Audience, channel: ChannelKind) -> int | None:
    if audience is Audience.PUBLIC:
        return PUBLIC_PER_HOUR.get(channel)
    if audience in (Audience.PRIVATE_SECURITY, Audience.PARTNER_BUSINESS):
        return NETWORK_PER_HOUR.get(channel)
    return None  # police units get every alert: never suppressed


@dataclass
class SubscriberRateLimiter:
    """Messages sent to each subscriber in the last hour; `allow` counts one in when it is under the limit."""

    limit_of: Callable[[Audience, ChannelKind], int | None] = per_hour_limit
    window: timedelta = HOUR
    _sent: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))

    def allow(self, subscriber_id: str, audience: Audience, channel: ChannelKind, now: datetime) -> bool:
        limit = self.limit_of(audience, channel)
        if limit is None:
            return True
        times = self._sent[subscriber_id]
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= limit:
            return False
        times.append(now)
        return True

    def seed(self, subscriber_id: str, times: list[datetime]) -> None:
        """What the delivery log says was sent within the window (after a restart)."""
        self._sent[subscriber_id] = deque(sorted(times))

    def forget_idle(self, now: datetime) -> None:
        for sid in [s for s, t in self._sent.items() if not t or t[-1] <= now - self.window]:
            del self._sent[sid]


@dataclass
class ChannelRateLimiter:
    """At most `per_second[channel]` messages a second to one channel (a relay's or a provider's own limit);
    `take` answers how many of `wanted` may go now, the rest wait for the next second."""

    per_second: dict[ChannelKind, int] = field(default_factory=dict)
    _used: dict[ChannelKind, tuple[datetime, int]] = field(default_factory=dict)

    def take(self, channel: ChannelKind, wanted: int, now: datetime) -> int:
        limit = self.per_second.get(channel)
        if not limit:
            return wanted
        start, used = self._used.get(channel, (now, 0))
        if now - start >= SECOND:
            start, used = now, 0
        granted = max(0, min(wanted, limit - used))
        self._used[channel] = (start, used + granted)
        return granted

    def next_window(self, channel: ChannelKind, now: datetime) -> datetime:
        start, _ = self._used.get(channel, (now, 0))
        return max(now, start + SECOND)
