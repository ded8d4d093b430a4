"""The dissemination worker: one thread that takes notices in batches, matches subscribers and stores notices and
deliveries in one transaction, then hands each channel its deliveries on that channel's own lane.

A lane (one or two threads per channel) renders, sends and marks in bulk what has queued up for its channel, so
a slow channel (an SMS provider at a tenth of a second a message) never holds up a fast one or the storing of the
next batch. Bus handlers only put notices on the worker's queue; retry rounds put due deliveries there too. No
transaction is open while a channel is talked to."""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.delivery_policy import HOUR, ChannelRateLimiter, RetryPolicy, SubscriberRateLimiter
from openrtcc.domain.dissemination import (
    ChannelKind,
    DeliveryStatus,
    Notice,
    OutboundMessage,
    SendOutcome,
    Subscriber,
)
from openrtcc.domain.notice_documents import notice_of
from openrtcc.domain.notice_templates import LinkKeys, render
from openrtcc.domain.subscriber_index import SubscriberIndex
from openrtcc.services.dissemination import LEASE, delivery_row, notice_row, sendable, source_key
from openrtcc.services.hub import Hub
from openrtcc.services.subscriber_directory import SubscriberDirectory

log = logging.getLogger(__name__)
BATCH_MAX = 500  # notices per transaction
LINGER_S = 0.005  # after the first notice, wait this long for others to share its transaction
RETRY_BATCH = 1000
LANE_BATCH = 2000  # deliveries one lane sends in one go
# Threads per lane: a second one lets a channel whose sender waits on the network (SMTP sessions, HTTP
# answers, an SMS provider) keep the next batch going while one is in flight. MQTT and WebSocket senders
# answer in milliseconds and keep their own order: one thread.
LANE_THREADS = {ChannelKind.EMAIL: 2, ChannelKind.SMS: 2, ChannelKind.PUSH: 2, ChannelKind.WEBHOOK: 2}
STORE_TRIES = 3
STORE_PAUSE_S = 0.5
FORGET_EVERY = timedelta(minutes=10)  # subscribers quiet for an hour leave the rate limiter's memory


@dataclass(slots=True)
class Pending:
    """A stored delivery on its way to its channel."""

    delivery_id: int
    attempts: int
    notice: Notice
    subscriber: Subscriber
    since: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class _Stored:
    items: list[Pending]


class DisseminationWorker:
    def __init__(self, hub: Hub, policy: RetryPolicy, *, channel_limits: ChannelRateLimiter | None = None,
                 subscriber_limits: SubscriberRateLimiter | None = None, rand: Callable[[], float] = random.random,
                 build_senders: Callable[[], dict] | None = None):
        self.hub = hub
        self.build_senders = build_senders
        self.policy = policy
        self.channel_limits = channel_limits or ChannelRateLimiter()
        self.subscriber_limits = subscriber_limits or SubscriberRateLimiter()
        self.rand = rand
        self._queue: queue.Queue = queue.Queue()
        self.directory = SubscriberDirectory(self._active_subscribers)
        self._store_tries: dict[str, int] = {}  # notices whose batch failed to be stored, by id
        self._stored_waiters: dict[str, threading.Event] = {}  # notice id -> set once it is stored (submit_stored)
        self._limits_lock = threading.Lock()  # the worker and bulletins (request threads) both count sends
        self._forgot_at = datetime.min.replace(tzinfo=UTC)
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = 0
        self._thread: threading.Thread | None = None
        self._channel_lock = threading.Lock()  # lanes take from the channel limits at once
        self._lanes: dict[ChannelKind, ChannelLane] = {}
        self._life = threading.Lock()
        self._starts = 0
        self.name = "dissemination"

    # --- life cycle (started and stopped with the app, as every background task) ---
    def start(self) -> None:
        """Start once however many apps serve this hub (tests run several on one); the last stop stops it."""
        with self._life:
            self._starts += 1
            if self._starts > 1:
                return
        self._stop.clear()
        channels = self.hub.extras.setdefault("channels", {})
        for kind, sender in (self.build_senders() if self.build_senders else {}).items():
            channels.setdefault(kind, sender)  # one already there (the web app's WebSocket channel) is kept
        self._lanes = {kind: ChannelLane(self, kind, LANE_THREADS.get(kind, 1)) for kind in ChannelKind}
        self._seed_rate_limits()
        self._thread = threading.Thread(target=self._run, name="dissemination", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """Its dispatch thread runs (readiness asks)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        with self._life:
            self._starts -= 1
            if self._starts > 0:
                return
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)
        for lane in self._lanes.values():
            lane.stop()
        for sender in (self.hub.extras.get("channels") or {}).values():
            close = getattr(sender, "close", None)  # connections and threads a sender holds (SMTP, MQTT)
            if close is not None:
                close()

    def submit(self, notice: Notice) -> None:
        with self._idle:
            self._busy += 1
        self._queue.put((notice, time.monotonic()))

    def submit_stored(self, notice: Notice, timeout_s: float) -> bool:
        """Submit, and wait until the notice is stored with its deliveries (or found stored already under its
        source key, or matched no one): what a shared bus consumer acknowledges its event after. False when
        that took longer than `timeout_s` (the database away): the event is then handed back to the bus."""
        stored = threading.Event()
        with self._idle:
            self._stored_waiters[notice.id] = stored
        try:
            self.submit(notice)
            return stored.wait(timeout_s)
        finally:
            with self._idle:
                self._stored_waiters.pop(notice.id, None)

    def invalidate(self) -> None:
        self.directory.invalidate()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far has been handled (tests, an orderly stop)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or not self._idle.wait(left):
                    return False
        return True

    def index(self, fresh: bool = False) -> SubscriberIndex:
        """The worker matches with the index it has; `fresh` waits for every change made so far (bulletins)."""
        return self.directory.fresh() if fresh else self.directory.current()

    def _active_subscribers(self) -> list[Subscriber]:
        with self.hub.uow() as uow:
            subs = uow.dissemination.active_subscribers()
            uow.rollback()
        return subs

    # --- the loop ---
    def _run(self) -> None:
        while not self._stop.is_set():
            first = self._queue.get()
            if first is None:
                continue
            batch = [first]
            deadline = time.monotonic() + LINGER_S
            while len(batch) < BATCH_MAX:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is not None:
                    batch.append(item)
            self.hub.metrics.gauge("rtcc_queue_depth", self._queue.qsize(), queue="dissemination")
            try:
                self._handle(batch)
            except Exception:  # what was stored stays queued and is retried; the loop must go on
                log.exception("dissemination: a batch of %s failed", len(batch))
            finally:
                with self._idle:
                    self._busy -= len(batch)
                    self._idle.notify_all()

    def _handle(self, batch: list) -> None:
        notices = [n for n in batch if isinstance(n, tuple)]
        pending = [p for s in batch if isinstance(s, _Stored) for p in s.items]
        if notices:
            try:
                pending.extend(self._store(notices))
            except Exception:
                self._store_later(notices)
                raise
            with self._idle:
                for n, _ in notices:
                    waiter = self._stored_waiters.get(n.id)
                    if waiter is not None:
                        waiter.set()
        if pending:
            self._send(pending)

    def _store_later(self, notices: list[tuple[Notice, float]]) -> None:
        """The batch could not be stored (the database away a moment): its notices are only in memory, so
        they go round again, a few times, rather than being lost; what was stored is never lost (retry rounds)."""
        again = [(n, at) for n, at in notices if self._store_tries.get(n.id, 0) < STORE_TRIES]
        for n, _ in notices:
            self._store_tries[n.id] = self._store_tries.get(n.id, 0) + 1
            if self._store_tries[n.id] > STORE_TRIES:
                del self._store_tries[n.id]
                log.error("dissemination: a %s notice could not be stored and is dropped", n.kind.value)
        log.warning("dissemination: %s notices not stored, %s will be tried again", len(notices), len(again))
        time.sleep(STORE_PAUSE_S)
        with self._idle:
            self._busy += len(again)
        for item in again:
            self._queue.put(item)

    def _store(self, submitted: list[tuple[Notice, float]]) -> list[Pending]:
        """Match, then one transaction: the notices (one per source key), their deliveries, one audit each."""
        index = self.index()
        since = {n.id: at for n, at in submitted}
        matched = [(n, index.matching(n)) for n, _ in submitted]
        matched = [(n, subs) for n, subs in matched if subs]
        if not matched:
            for n, _ in submitted:
                self._store_tries.pop(n.id, None)
            return []
        with self.hub.uow() as uow:
            now = self.hub.clock.now()
            stored = uow.dissemination.add_notices([notice_row(n, source_key(n), now, None) for n, _ in matched])
            rows, owners = [], []
            for n, subs in matched:
                if n.id in stored:
                    self._rows_for(n, subs, now, rows, owners)
            ids = uow.dissemination.add_deliveries(rows)
            self._audit_notices(uow, matched, stored, rows, owners)
            if stored:
                uow.commit()
            else:  # every notice was stored before (a re-announced or redelivered event): nothing to write
                uow.rollback()
        for n, _ in submitted:
            self._store_tries.pop(n.id, None)
        return [Pending(i, 0, n, s, since[n.id]) for i, row, (n, s) in zip(ids, rows, owners, strict=True)
                if row["status"] == DeliveryStatus.QUEUED.value]

    def _rows_for(self, n: Notice, subs: list[Subscriber], now: datetime, rows: list, owners: list) -> None:
        with self._limits_lock:
            self._admit(n, subs, now, rows, owners)

    def delivery_rows(self, n: Notice, subs: list[Subscriber], now: datetime) -> list[dict]:
        """A notice's delivery rows, queued or suppressed by the subscribers' hourly limits (a bulletin's)."""
        rows: list[dict] = []
        self._rows_for(n, subs, now, rows, [])
        return rows

    def _admit(self, n: Notice, subs: list[Subscriber], now: datetime, rows: list, owners: list) -> None:
        if now - self._forgot_at > FORGET_EVERY:
            self.subscriber_limits.forget_idle(now)
            self._forgot_at = now
        for s in subs:
            if self.subscriber_limits.allow(s.id, s.audience, s.channel, now):
                row = delivery_row(n.id, s, DeliveryStatus.QUEUED, now, now + LEASE if self.sends_here() else now)
            else:
                row = delivery_row(n.id, s, DeliveryStatus.SUPPRESSED, now, None)
                row["last_error"] = "over the subscriber's hourly limit"
                log.info("dissemination: suppressed a %s message over its subscriber's hourly limit", s.channel)
                self.hub.metrics.count("rtcc_deliveries_total", channel=s.channel.value, outcome="suppressed")
            rows.append(row)
            owners.append((n, s))

    def _audit_notices(self, uow, matched, stored: set[str], rows: list[dict], owners: list) -> None:
        counts: dict[str, Counter] = defaultdict(Counter)
        for row, (n, _) in zip(rows, owners, strict=True):
            counts[n.id][row["channel"] if row["status"] == DeliveryStatus.QUEUED.value else "suppressed"] += 1
        for n, _ in matched:
            if n.id in stored:
                uow.record(AuditEntry("notify.notice", "success", None, n.agency_id, f"notice:{n.id}", None,
                                      {"kind": n.kind.value, "change": n.change, "source": n.source_id,
                                       "deliveries": dict(counts[n.id])}))

    # --- sending ---
    def _send(self, pending: list[Pending]) -> None:
        """Hand each channel its deliveries; the lanes send and mark them (drain() waits for them too)."""
        by_channel: dict[ChannelKind, list[Pending]] = defaultdict(list)
        for p in pending:
            by_channel[p.subscriber.channel].append(p)
        for channel, items in by_channel.items():
            with self._idle:
                self._busy += 1
            self._lanes[channel].put(items)

    def send_lane(self, channel: ChannelKind, items: list[Pending]) -> None:
        """One lane's round: what the channel's rate limit lets go now is sent, the rest waits; all marked."""
        now = self.hub.clock.now()
        with self._channel_lock:
            granted = self.channel_limits.take(channel, len(items), now)
            later = self.channel_limits.next_window(channel, now)
        deferred = [(p, later) for p in items[granted:]]
        items = items[:granted]
        links = LinkKeys(self.hub.base_url, self.hub.secret_key)
        results = list(zip(items, self._send_channel(channel, items, links), strict=True)) if items else []
        self._mark(results, deferred)

    def lane_done(self, rounds: int) -> None:
        with self._idle:
            self._busy -= rounds
            self._idle.notify_all()

    def _send_channel(self, channel: ChannelKind, items: list[Pending], links: LinkKeys) -> list[SendOutcome]:
        """Outcomes in the order of `items`, whatever the sender answered (or failed to)."""
        sender = (self.hub.extras.get("channels") or {}).get(channel)
        messages: list[OutboundMessage] = []
        outcome: dict[int, SendOutcome] = {}
        words: dict = {}
        for p in items:
            try:
                messages.append(render(p.notice, p.subscriber, p.delivery_id, links, words))
            except Exception as exc:  # a notice that cannot be rendered never will be: dead, not retried
                log.warning("dissemination: delivery %s could not be rendered: %s", p.delivery_id,
                            type(exc).__name__)
                outcome[p.delivery_id] = SendOutcome(p.delivery_id, False, "could not be rendered", retryable=False)
        if sender is None:
            error = f"no {channel.value} channel is configured"
            return [outcome.get(p.delivery_id) or SendOutcome(p.delivery_id, False, error) for p in items]
        try:
            for o in sender.send(messages) if messages else []:
                outcome[o.delivery_id] = o
        except Exception as exc:  # a sender must not raise; if one does, the whole batch is retried
            log.warning("dissemination: the %s sender failed: %s", channel.value, type(exc).__name__)
            return [outcome.get(p.delivery_id) or SendOutcome(p.delivery_id, False, f"sender error: "
                    f"{type(exc).__name__}") for p in items]
        return [outcome.get(p.delivery_id) or SendOutcome(p.delivery_id, False, "no answer from the sender")
                for p in items]

    def _mark(self, results: list[tuple[Pending, SendOutcome]], deferred: list[tuple[Pending, datetime]]) -> None:
        now = self.hub.clock.now()
        sent, updates, dead = [], [], []
        tally: Counter = Counter()
        for p, o in results:
            attempts = p.attempts + 1
            status, next_at = self.policy.after(o, attempts, now, self.rand)
            tally[(p.subscriber.channel.value, status.value)] += 1
            if status is DeliveryStatus.SENT:
                sent.append(p.delivery_id)
                continue
            updates.append({"b_id": p.delivery_id, "b_status": status.value, "b_attempts": attempts,
                            "b_next_at": next_at, "b_error": (o.error or "failed")[:300], "b_handed_at": None})
            if status is DeliveryStatus.DEAD:
                dead.append((p, o))
        for p, at in deferred:
            updates.append({"b_id": p.delivery_id, "b_status": DeliveryStatus.QUEUED.value, "b_attempts": p.attempts,
                            "b_next_at": at, "b_error": "waiting for the channel's rate limit", "b_handed_at": None})
        with self.hub.uow() as uow:
            uow.dissemination.mark_sent(sent, now)
            uow.dissemination.mark(updates)
            for p, o in dead:
                uow.record(AuditEntry("notify.dead_letter", "failed", None, p.notice.agency_id,
                                      f"delivery:{p.delivery_id}", None,
                                      {"channel": p.subscriber.channel.value, "subscriber": p.subscriber.id,
                                       "attempts": p.attempts + 1, "error": (o.error or "")[:120]}))
            uow.commit() if dead else uow.commit_bookkeeping()
        self._measure(results, tally)

    def _measure(self, results: list[tuple[Pending, SendOutcome]], tally: Counter) -> None:
        """Counts by channel and outcome; latency once per notice and channel (its deliveries were handed
        together), from when the notice was submitted to when its channel took it."""
        for (channel, outcome), n in tally.items():
            self.hub.metrics.count("rtcc_deliveries_total", n, channel=channel, outcome=outcome)
        handed = time.monotonic()
        seen: set[tuple[str, str]] = set()
        for p, o in results:
            key = (p.notice.id, p.subscriber.channel.value)
            if o.ok and p.attempts == 0 and key not in seen:
                seen.add(key)
                self.hub.metrics.observe("rtcc_delivery_seconds", handed - p.since, channel=key[1])

    # --- retries and recovery ---
    def retry_round(self) -> int:
        """Claim due deliveries (failed ones whose back-off is over, queued ones left by a stop) for the
        worker; deliveries to subscribers who left are suppressed instead."""
        with self.hub.uow() as uow:
            now = self.hub.clock.now()
            rows = uow.dissemination.due(now, RETRY_BATCH)
            self.hub.metrics.gauge("rtcc_queue_depth", len(rows), queue="deliveries_due")
            if not rows:
                uow.rollback()
                return 0
            uow.dissemination.claim([r.id for r in rows], now + LEASE)
            subs = uow.dissemination.subscribers_by_ids({r.subscriber_id for r in rows})
            items, gone = [], []
            for r in rows:
                n, s = notice_of(r.notice_id, r.agency_id, r.document), subs.get(r.subscriber_id)
                if s is None or not sendable(s.status, n.kind):
                    gone.append({"b_id": r.id, "b_status": DeliveryStatus.SUPPRESSED.value, "b_attempts": r.attempts,
                                 "b_next_at": None, "b_error": "the subscriber is no longer active",
                                 "b_handed_at": None})
                else:
                    items.append(Pending(r.id, r.attempts, n, s))
            uow.dissemination.mark(gone)
            uow.commit_bookkeeping()
        self.send_stored(items)
        return len(items)

    def sends_here(self) -> bool:
        """False in a process that stores deliveries but leaves sending to others (a serve process in city mode,
        where the workers send): its deliveries are stored due at once, for a worker's next retry round."""
        return self._starts > 0 or not self.hub.extras.get("city_mode")

    def send_stored(self, items: list[Pending]) -> None:
        """Deliveries already stored (a bulletin, a retry), for the worker to send."""
        if items and self.sends_here():
            with self._idle:
                self._busy += 1
            self._queue.put(_Stored(items))

    def _seed_rate_limits(self) -> None:
        now = self.hub.clock.now()
        with self.hub.uow() as uow:
            sent = uow.dissemination.recent_sends(now - HOUR)
            uow.rollback()
        times: dict[str, list[datetime]] = defaultdict(list)
        for sid, at in sent:
            times[sid].append(at)
        for sid, ts in times.items():
            self.subscriber_limits.seed(sid, ts)


class ChannelLane:
    """One channel's queue and threads: each takes whatever has queued up for the channel (up to LANE_BATCH)
    and has the worker send and mark it."""

    def __init__(self, worker: DisseminationWorker, channel: ChannelKind, threads: int):
        self.worker, self.channel = worker, channel
        self._queue: queue.Queue = queue.Queue()
        self._threads = [threading.Thread(target=self._run, name=f"lane-{channel.value}-{i}", daemon=True)
                         for i in range(threads)]
        for t in self._threads:
            t.start()

    def put(self, items: list[Pending]) -> None:
        self._queue.put(items)

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            items, rounds = list(first), 1
            while len(items) < LANE_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # another thread's stop: leave it for that thread
                    break
                items.extend(more)
                rounds += 1
            try:
                self.worker.send_lane(self.channel, items)
            except Exception:  # what was stored stays queued and is retried by the next round
                log.exception("dissemination: the %s lane failed on %s deliveries", self.channel.value, len(items))
            finally:
                self.worker.lane_done(rounds)
