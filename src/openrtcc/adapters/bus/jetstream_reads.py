"""The read queue on NATS JetStream: serving processes publish plate reads, workers pull and store them.

Stream `<NS>_READS` (subjects `<ns>.reads.<agency id>`, file storage synced on every write, work-queue
retention: a message leaves the stream when a worker acknowledges it; kept 7 days at most, so a worker outage
of days loses nothing). `publish` returns once JetStream acknowledged every message; each carries a
`Nats-Msg-Id` derived from (source, read key, content), so a retry within the duplicate window is dropped by the
stream and answered as a duplicate.

Every worker pulls from the one durable consumer `store` (explicit acks, AckWait 30 s, redelivered without
limit): a batch of up to 200 messages, gathered for at most 50 ms, handed to the store function in a thread,
acknowledged only after it returned (committed). A failure of the database leaves the batch unacknowledged
(negatively, with a growing delay) so it comes back; a message that cannot be decoded, or that the store
refuses on its own, is copied to the dead-letter stream `<NS>_READS_DEAD`, recorded, and terminated, so one bad
message never holds up the queue.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from pydantic import ValidationError

from openrtcc.adapters.bus.nats_link import NatsLink, NatsUnavailable
from openrtcc.domain.read_envelope import QueuedRead

log = logging.getLogger(__name__)

DURABLE = "store"
READS_MAX_AGE_S = 7 * 24 * 3600.0
DEAD_MAX_AGE_S = 7 * 24 * 3600.0
DUPLICATE_WINDOW_S = 600.0
ACK_WAIT_S = 30.0
PUBLISH_TIMEOUT_S = 5.0
BATCH = 200
MAX_WAIT_S = 0.05  # how long a worker waits to fill a batch once the first message is there
IDLE_WAIT_S = 1.0  # one long poll while the queue is empty
RETRY_DELAY_MAX_S = 30.0

StoreFn = Callable[[list[QueuedRead]], object]
DeadLetterFn = Callable[[str, QueuedRead | None, int], None]


def reads_stream(namespace: str) -> str:
    return f"{namespace.upper()}_READS"


def dead_stream(namespace: str) -> str:
    return f"{namespace.upper()}_READS_DEAD"


class JetStreamReadQueue:
    """domain.ports.ReadQueue over JetStream; `consumer(...)` makes the worker's side."""

    def __init__(self, link: NatsLink, *, namespace: str = "rtcc", replicas: int = 1,
                 publish_timeout_s: float = PUBLISH_TIMEOUT_S):
        self.link = link
        self.namespace = namespace
        self.publish_timeout_s = publish_timeout_s
        link.ensure_stream(StreamConfig(
            name=reads_stream(namespace), subjects=[f"{namespace}.reads.>"], storage=StorageType.FILE,
            num_replicas=replicas, retention=RetentionPolicy.WORK_QUEUE, max_age=READS_MAX_AGE_S,
            duplicate_window=DUPLICATE_WINDOW_S))
        link.ensure_stream(StreamConfig(
            name=dead_stream(namespace), subjects=[f"{namespace}.deadreads.>"], storage=StorageType.FILE,
            num_replicas=replicas, retention=RetentionPolicy.LIMITS, max_age=DEAD_MAX_AGE_S,
            duplicate_window=DUPLICATE_WINDOW_S))

    def subject(self, read: QueuedRead) -> str:
        return f"{self.namespace}.reads.{read.agency_id}"

    def publish(self, reads: Sequence[QueuedRead]) -> list[bool]:
        if not self.link.connected:  # known to be down: refuse now rather than make the sender wait
            raise NatsUnavailable()
        messages = [(self.subject(r), r.model_dump_json().encode(), r.message_id) for r in reads]
        timeout = self.publish_timeout_s

        async def send() -> list[bool]:
            try:
                acks = await asyncio.gather(*(
                    self.link.js.publish(subject, data, timeout=timeout, headers={"Nats-Msg-Id": msg_id})
                    for subject, data, msg_id in messages))
            except nats.errors.Error as exc:  # a JetStream refusal (no stream, limits): not durable either
                if isinstance(exc, nats.errors.TimeoutError):
                    raise
                raise NatsUnavailable(f"JetStream did not take the reads ({type(exc).__name__})") from exc
            return [bool(ack.duplicate) for ack in acks]

        return self.link.call(send, timeout + 1)

    def consumer(self, *, store: StoreFn, transient: Callable[[BaseException], bool], dead_letter: DeadLetterFn,
                 pending: Callable[[int], None] = lambda n: None) -> ReadConsumer:
        return ReadConsumer(self, store=store, transient=transient, dead_letter=dead_letter, pending=pending)


class ReadConsumer:
    """A worker's pull loop on the shared durable consumer, run on the NATS link's loop; start()/stop()."""

    def __init__(self, queue: JetStreamReadQueue, *, store: StoreFn, transient: Callable[[BaseException], bool],
                 dead_letter: DeadLetterFn, pending: Callable[[int], None], batch: int = BATCH):
        self.queue, self.link, self.ns = queue, queue.link, queue.namespace
        self.store, self.transient, self.dead_letter, self.pending = store, transient, dead_letter, pending
        self.batch = batch
        # Fault injection for tests: the next N batches are stored (committed) and then not acknowledged
        # (negatively, so they come back at once), as if the process had died between commit and ack.
        self.unacked_batches = 0
        self._sub = None
        self._stopping = False
        self._done = threading.Event()
        self._done.set()
        link = self.link
        link.on_reconnect(self._forget_subscription)

    def start(self) -> None:
        self._stopping = False
        self._done.clear()
        self.link.spawn(self._run())

    name = "read-consumer"

    def alive(self) -> bool:
        """Its pull loop is running (readiness asks: a worker whose loop ended is not ready)."""
        return not self._done.is_set()

    def stop(self) -> None:
        """Finish the batch in hand (stored and acknowledged, or left for redelivery), then stop."""
        self._stopping = True
        if not self._done.wait(timeout=ACK_WAIT_S + 10):
            log.warning("read consumer: did not stop in time")

    async def _forget_subscription(self) -> None:
        await self._unsubscribe()  # subscribe again (and re-create the consumer if the server lost it)

    async def _run(self) -> None:
        try:
            while not self._stopping:
                if not self.link.connected:  # a request now would only wait out its timeout
                    await asyncio.sleep(0.2)
                    continue
                try:
                    if self._sub is None:
                        self._sub = await self._subscribe()
                    messages = await self._fetch(self._sub)
                    if messages:
                        await self._handle(messages)
                except Exception as exc:  # NATS down or restarting: wait, then subscribe again
                    log.warning("read consumer: %s; retrying", type(exc).__name__)
                    await self._unsubscribe()
                    await asyncio.sleep(1.0)
        finally:
            await self._unsubscribe()
            self._done.set()

    async def _unsubscribe(self) -> None:
        """Without this the link's drain at close waits on the pull subscription until its timeout."""
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception:  # the connection is already gone: nothing to release
                pass

    async def _subscribe(self):
        config = ConsumerConfig(durable_name=DURABLE, ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT_S,
                                max_deliver=-1, max_ack_pending=20 * BATCH)
        return await self.link.js.pull_subscribe(f"{self.ns}.reads.>", durable=DURABLE,
                                                 stream=reads_stream(self.ns), config=config)

    async def _fetch(self, sub) -> list:
        try:
            messages = await sub.fetch(self.batch, timeout=IDLE_WAIT_S)
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            messages = []
        if not messages:  # the long poll ended empty (a timeout, or the server's "no messages")
            self.pending(0)
            return []
        deadline = time.monotonic() + MAX_WAIT_S
        while len(messages) < self.batch and (left := deadline - time.monotonic()) > 0.005:
            try:
                more = await sub.fetch(self.batch - len(messages), timeout=left)
            except (nats.errors.TimeoutError, asyncio.TimeoutError):
                break
            if not more:
                break
            messages += more
        self.pending(messages[-1].metadata.num_pending)
        return messages

    async def _handle(self, messages: list) -> None:
        decoded = []
        for msg in messages:
            try:
                decoded.append((msg, QueuedRead.model_validate_json(msg.data)))
            except (ValidationError, ValueError):
                await self._set_aside(msg, None, "undecodable")
        if decoded:
            await self._store(decoded)

    async def _store(self, decoded: list) -> None:
        try:
            await asyncio.to_thread(self.store, [q for _, q in decoded])
        except Exception as exc:
            if self.transient(exc):
                log.warning("read consumer: %s reads not stored (%s); they come back", len(decoded),
                            type(exc).__name__)
                for msg, _ in decoded:
                    await msg.nak(delay=_retry_delay(msg.metadata.num_delivered))
                return
            if len(decoded) == 1:
                await self._set_aside(*decoded[0], "refused")
                return
            # One message the store refuses for good fails the whole batch: find it by storing one at a time.
            for pair in decoded:
                await self._store([pair])
            return
        await self._acknowledge([msg for msg, _ in decoded])

    async def _acknowledge(self, messages: list) -> None:
        if self.unacked_batches > 0:
            self.unacked_batches -= 1
            for msg in messages:
                await msg.nak()
            return
        for msg in messages:
            await msg.ack()

    async def _set_aside(self, msg, queued: QueuedRead | None, reason: str) -> None:
        """Copy to the dead-letter stream, record it, then terminate it; any failure leaves it to come back
        (the copy is de-duplicated by its stream sequence)."""
        sequence = msg.metadata.sequence.stream
        try:
            await self.link.js.publish(
                f"{self.ns}.deadreads.{reason}", msg.data, timeout=PUBLISH_TIMEOUT_S,
                headers={"Nats-Msg-Id": f"dead:{sequence}", "Rtcc-Reason": reason, "Rtcc-Subject": msg.subject})
            await asyncio.to_thread(self.dead_letter, reason, queued, sequence)
        except Exception as exc:
            log.warning("read consumer: message %s not set aside yet (%s)", sequence, type(exc).__name__)
            await msg.nak(delay=_retry_delay(msg.metadata.num_delivered))
            return
        log.error("read consumer: message %s set aside to %s (%s)", sequence, dead_stream(self.ns), reason)
        await msg.term()


def _retry_delay(delivered: int) -> float:
    return min(RETRY_DELAY_MAX_S, 2.0 ** min(max(delivered - 1, 0), 5))
