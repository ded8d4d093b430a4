"""Back-off with jitter, dead letters after the last attempt, and rate limits, on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openrtcc.domain.delivery_policy import ChannelRateLimiter, RetryPolicy, SubscriberRateLimiter
from openrtcc.domain.dissemination import Audience, ChannelKind, DeliveryStatus, SendOutcome

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def test_backoff_grows_with_jitter_and_is_capped():
    p = RetryPolicy(max_attempts=20)
    assert p.delay(1, lambda: 0.0) == timedelta(seconds=2.5)
    assert p.delay(1, lambda: 1.0) == timedelta(seconds=5)
    assert p.delay(4, lambda: 1.0) == timedelta(seconds=40)
    assert p.delay(30, lambda: 1.0) == timedelta(hours=1)
    spread = {p.delay(3, __import__("random").Random(i).random) for i in range(20)}
    assert len(spread) > 10 and all(timedelta(seconds=10) <= d <= timedelta(seconds=20) for d in spread)


def test_outcomes_move_deliveries():
    p = RetryPolicy(max_attempts=3)
    ok, bad, refused = SendOutcome(1, True), SendOutcome(1, False, "503"), SendOutcome(1, False, "no", False)
    assert p.after(ok, 1, T0) == (DeliveryStatus.SENT, None)
    status, at = p.after(bad, 1, T0, lambda: 1.0)
    assert status is DeliveryStatus.FAILED and at == T0 + timedelta(seconds=5)
    assert p.after(bad, 3, T0) == (DeliveryStatus.DEAD, None)
    assert p.after(refused, 1, T0) == (DeliveryStatus.DEAD, None)


def test_public_subscribers_are_limited_per_hour_police_units_never():
    lim = SubscriberRateLimiter()
    allowed = [lim.allow("p", Audience.PUBLIC, ChannelKind.SMS, T0 + timedelta(minutes=i)) for i in range(8)]
    assert allowed == [True] * 6 + [False] * 2
    assert lim.allow("p", Audience.PUBLIC, ChannelKind.SMS, T0 + timedelta(minutes=60, seconds=1))
    assert lim.allow("p", Audience.PUBLIC, ChannelKind.WEBHOOK, T0)  # machines are not limited
    assert all(lim.allow("u", Audience.POLICE_UNIT, ChannelKind.SMS, T0) for _ in range(100))
    lim.seed("q", [T0 - timedelta(minutes=m) for m in range(10)])
    assert not lim.allow("q", Audience.PUBLIC, ChannelKind.EMAIL, T0)
    lim.forget_idle(T0 + timedelta(hours=2))
    assert lim.allow("q", Audience.PUBLIC, ChannelKind.EMAIL, T0 + timedelta(hours=2))


def test_channel_limit_grants_per_second():
    lim = ChannelRateLimiter({ChannelKind.SMS: 10})
    assert lim.take(ChannelKind.SMS, 7, T0) == 7
    assert lim.take(ChannelKind.SMS, 7, T0 + timedelta(milliseconds=500)) == 3
    assert lim.next_window(ChannelKind.SMS, T0) == T0 + timedelta(seconds=1)
    assert lim.take(ChannelKind.SMS, 7, T0 + timedelta(seconds=1)) == 7
    assert lim.take(ChannelKind.EMAIL, 1000, T0) == 1000
