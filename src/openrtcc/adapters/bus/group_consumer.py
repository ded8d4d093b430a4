"""Work done once per event across the deployment: a durable JetStream pull consumer shared by every process
that joins its group.

Each process that subscribes with group G to an event type binds to the same durable consumer `G-<Type>` on
the events stream, so JetStream hands each event to ONE of them. Delivery is at least once: a message is
acknowledged only after its handler returned; a handler that raises gets the message back later (a negative
acknowledgement with a growing delay), and a process killed mid-way leaves its messages unacknowledged, so
another process of the group gets them once the acknowledgement wait has passed. Handlers must therefore be
idempotent. Handlers run on a small thread pool, never on the NATS loop; one fetched batch is handled
concurrently, so handlers that wait on a shared store (dissemination's worker) share its transactions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from openrtcc.adapters.bus.nats_link import NatsLink

log = logging.getLogger(__name__)

BATCH = 64  # messages fetched at once (and handled concurrently)
HANDLER_THREADS = 16
FETCH_WAIT_S = 1.0  # a fetch waits this long for messages; also how soon a stop is noticed
ACK_WAIT_S = 30.0  # an event a process took and never answered goes to another after this
MAX_ACK_PENDING = 1000
RETRY_PAUSE_S = 1.0  # after the connection or the consumer failed
NAK_DELAYS_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)  # the back-off of an event whose handler raised, by delivery


def nak_delay(delivered: int) -> float:
    return NAK_DELAYS_S[min(max(delivered, 1), len(NAK_DELAYS_S)) - 1]


def consumer_config(durable: str, subject: str, ack_wait_s: float = ACK_WAIT_S) -> ConsumerConfig:
    # DeliverPolicy.ALL: a group made after events were published (the first worker starting after the first
    # serve process) still gets them; the stream keeps events a day, and handlers are idempotent.
    return ConsumerConfig(durable_name=durable, name=durable, filter_subject=subject, ack_policy=AckPolicy.EXPLICIT,
                          deliver_policy=DeliverPolicy.ALL, ack_wait=ack_wait_s, max_ack_pending=MAX_ACK_PENDING,
                          max_deliver=-1)


class GroupConsumer:
    """One process's share of a durable consumer; `handle(data)` returns (ack) or raises (redelivered later)."""

    def __init__(self, link: NatsLink, *, stream: str, subject: str, durable: str,
                 handle: Callable[[bytes], None], ack_wait_s: float = ACK_WAIT_S):
        self.link = link
        self.stream = stream
        self.subject = subject
        self.durable = durable
        self.handle = handle
        self.ack_wait_s = ack_wait_s
        self._pool = ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix=f"bus-{durable}")
        self._sub = None
        self._stopped = False

    def start(self, timeout_s: float = 10.0) -> None:
        """Bind to the consumer (created by whichever process comes first), then consume on the link's loop."""
        self.link.call(self._bind, timeout_s)
        self.link.spawn(self._run())

    def stop(self) -> None:
        """This process leaves the group; the durable consumer stays for the others (and for a restart)."""
        self._stopped = True
        try:  # now, not after the fetch in flight: a connection drained with it waits for it
            self.link.call(self._unsubscribe, 2.0)
        except Exception:  # the link is already down: nothing to undo
            pass
        self._pool.shutdown(wait=False)

    async def _bind(self) -> None:
        self._sub = await self.link.js.pull_subscribe(
            self.subject, durable=self.durable, stream=self.stream,
            config=consumer_config(self.durable, self.subject, self.ack_wait_s))

    async def _run(self) -> None:
        while not self._stopped:
            try:
                if self._sub is None:
                    await self._bind()
                msgs = await self._sub.fetch(BATCH, timeout=FETCH_WAIT_S)
            except (nats.errors.TimeoutError, TimeoutError):  # nothing to do within the wait
                continue
            except Exception as exc:  # disconnected, or the consumer was lost with the server's store: bind again
                if not self._stopped:
                    log.warning("bus group %s: %s; trying again", self.durable, type(exc).__name__)
                    await self._rebind_later()
                continue
            await asyncio.gather(*(self._handle(m) for m in msgs))
        await self._unsubscribe()

    async def _rebind_later(self) -> None:
        await self._unsubscribe()
        await asyncio.sleep(RETRY_PAUSE_S)

    async def _unsubscribe(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception:  # the connection is already gone: nothing to undo
                pass

    async def _handle(self, msg) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self.handle, msg.data)
        except Exception as exc:
            delivered = _delivered(msg)
            log.warning("bus group %s: handler failed (%s) on delivery %s; the event comes back later",
                        self.durable, type(exc).__name__, delivered)
            await _answer(msg.nak(delay=nak_delay(delivered)))
            return
        await _answer(msg.ack())


def _delivered(msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:  # no JetStream metadata: treat as a first delivery
        return 1


async def _answer(reply) -> None:
    """An ack or nak lost with the connection only means the event comes again (handlers are idempotent)."""
    try:
        await reply
    except Exception as exc:
        log.info("bus group: acknowledgement not sent (%s)", type(exc).__name__)
