"""The city-mode event bus: events published to NATS JetStream and fanned out to every hub process.

`publish` returns once JetStream has acknowledged the event (stored and synced on the server), or raises
NatsUnavailable (at once while the connection is down, so that nothing waits on a bus that is away): a caller
that marks an outbox row after publishing marks it only for an event that is safe. An event with an outbox id
carries it as its JetStream message id, so the relay publishing it again after a crash is dropped by the
stream's duplicate window.

`subscribe(type, handler)` is a broadcast: every process that subscribes gets every event (a command-center
WebSocket on any serve process sees every alert). Handlers run one at a time on the bus's dispatch thread,
never on the NATS connection's loop, so a slow handler delays only later events of this process. Broadcasts
come from an ordered consumer of the stream (not the bare subject): an event stored once is heard once, and a
process that was disconnected resumes after the last event it heard.

`subscribe(type, handler, group="name")` is work once per event across the deployment: every process that
subscribes with the same group shares one durable JetStream consumer (adapters.bus.group_consumer), each event
is handled by one of them, at least once (acknowledged after the handler returns; a handler that raises gets
it again later). Such handlers must be idempotent.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import uuid
from collections.abc import Callable

from nats.js.api import DeliverPolicy, StorageType, StreamConfig

from openrtcc.adapters.bus import event_codec
from openrtcc.adapters.bus.group_consumer import ACK_WAIT_S, GroupConsumer
from openrtcc.adapters.bus.nats_link import NatsLink, NatsUnavailable

log = logging.getLogger(__name__)

EVENT_MAX_AGE_S = 24 * 3600.0  # events are kept a day for consumers that were down (workers' durable groups)
DUPLICATE_WINDOW_S = 120.0
PUBLISH_TIMEOUT_S = 5.0
BROADCAST_HEARTBEAT_S = 2.0  # a broadcast consumer lost with a restarted server is noticed after two of these
GROUP_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


def events_stream(namespace: str) -> str:
    return f"{namespace.upper()}_EVENTS"


def subject_of(namespace: str, event_type: type) -> str:
    return f"{namespace}.events.{event_codec.type_name(event_type)}"


def message_id(event: object) -> str:
    outbox_id = getattr(event, "outbox_id", None)
    if outbox_id is not None:
        return f"{type(event).__name__}:{outbox_id}"
    return uuid.uuid4().hex


class NatsBus:
    def __init__(self, link: NatsLink, *, namespace: str = "rtcc", replicas: int = 1,
                 group_ack_wait_s: float = ACK_WAIT_S):
        self.link = link
        self.namespace = namespace
        self.group_ack_wait_s = group_ack_wait_s
        self._lock = threading.Lock()
        self._handlers: dict[type, tuple[Callable[[object], None], ...]] = {}
        self._listening = False
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        link.ensure_stream(StreamConfig(
            name=events_stream(namespace), subjects=[f"{namespace}.events.>"], storage=StorageType.FILE, num_replicas=replicas,
            max_age=EVENT_MAX_AGE_S, duplicate_window=DUPLICATE_WINDOW_S))
        threading.Thread(target=self._dispatch, name="bus-dispatch", daemon=True).start()

    def publish(self, event: object) -> None:
        if not self.link.connected:  # refused at once, not after a timeout: the caller's request is not held up
            raise NatsUnavailable("the message bus (NATS) is not connected")
        data = event_codec.encode(event)
        subject, msg_id = subject_of(self.namespace, type(event)), message_id(event)
        self.link.call(lambda: self.link.js.publish(subject, data, headers={"Nats-Msg-Id": msg_id},
                                                    timeout=PUBLISH_TIMEOUT_S), PUBLISH_TIMEOUT_S + 1)

    def subscribe(self, event_type: type, handler: Callable[[object], None], group: str | None = None) \
            -> Callable[[], None]:
        if group is not None:
            return self._join_group(event_type, handler, group)
        event_codec.type_name(event_type)  # a type that cannot travel is refused here, not lost later
        with self._lock:
            self._handlers[event_type] = (*self._handlers.get(event_type, ()), handler)
            first, self._listening = not self._listening, True
        if first:
            self.link.call(self._listen)

        def unsubscribe() -> None:
            with self._lock:
                self._handlers[event_type] = tuple(h for h in self._handlers.get(event_type, ()) if h is not handler)

        return unsubscribe

    def _join_group(self, event_type: type, handler: Callable[[object], None], group: str) -> Callable[[], None]:
        if not GROUP_NAME.fullmatch(group):
            raise ValueError("a bus group is named with letters, digits, '-' and '_' (up to 40)")

        def handle(data: bytes) -> None:
            try:
                event = event_codec.decode(data)
            except event_codec.UnknownEvent as exc:  # acknowledged and skipped: it would never read better
                log.warning("bus group %s: skipped an unreadable event (%s)", group, exc)
                return
            handler(event)

        name = event_codec.type_name(event_type)
        consumer = GroupConsumer(self.link, stream=events_stream(self.namespace),
                                 subject=subject_of(self.namespace, event_type), durable=f"{group}-{name}",
                                 handle=handle, ack_wait_s=self.group_ack_wait_s)
        consumer.start()
        return consumer.stop

    async def _listen(self) -> None:
        # One ordered consumer of the stream per process, from now on: it hears what the stream stored, so an
        # event published twice (a publish buffered while disconnected, then relayed) is heard once, and after
        # a disconnection it resumes where it stopped rather than missing what was published meanwhile.
        await self.link.js.subscribe(f"{self.namespace}.events.>", stream=events_stream(self.namespace),
                                     cb=self._received, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW,
                                     idle_heartbeat=BROADCAST_HEARTBEAT_S)

    async def _received(self, msg) -> None:
        name = msg.subject.rsplit(".", 1)[-1]
        if any(t.__name__ == name for t, handlers in list(self._handlers.items()) if handlers):
            self._inbox.put(msg.data)

    def _dispatch(self) -> None:
        while True:
            data = self._inbox.get()
            try:
                event = event_codec.decode(data)
            except Exception as exc:  # not ours, or another version: skipped, never fatal
                log.warning("bus: skipped an unreadable event (%s)", exc)
                continue
            for handler in self._handlers.get(type(event), ()):
                try:
                    handler(event)
                except Exception:  # one failing subscriber must not cost the others their event
                    log.exception("event handler failed for %s", type(event).__name__)
