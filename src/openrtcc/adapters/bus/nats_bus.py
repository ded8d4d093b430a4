"""The city-mode event bus: events published to NATS JetStream and fanned out to every hub process.

`publish` returns once JetStream has acknowledged the event (stored and synced on the server), or raises
NatsUnavailable: a caller that marks an outbox row after publishing marks it only for an event that is safe.
An event with an outbox id carries it as its JetStream message id, so the relay publishing it again after a
crash is dropped by the stream's duplicate window.

`subscribe(type, handler)` is a broadcast: every process that subscribes gets every event (a command-center
WebSocket on any serve process sees every alert). Handlers run one at a time on the bus's dispatch thread,
never on the NATS connection's loop, so a slow handler delays only later events of this process.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable

from nats.js.api import StorageType, StreamConfig

from openrtcc.adapters.bus import event_codec
from openrtcc.adapters.bus.nats_link import NatsLink

log = logging.getLogger(__name__)

EVENT_MAX_AGE_S = 24 * 3600.0  # events are kept a day for consumers that were down (workers' durable groups)
DUPLICATE_WINDOW_S = 120.0
PUBLISH_TIMEOUT_S = 5.0


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
    def __init__(self, link: NatsLink, *, namespace: str = "rtcc", replicas: int = 1):
        self.link = link
        self.namespace = namespace
        self._lock = threading.Lock()
        self._handlers: dict[type, tuple[Callable[[object], None], ...]] = {}
        self._subscribed: set[type] = set()
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        link.ensure_stream(StreamConfig(
            name=events_stream(namespace), subjects=[f"{namespace}.events.>"], storage=StorageType.FILE, num_replicas=replicas,
            max_age=EVENT_MAX_AGE_S, duplicate_window=DUPLICATE_WINDOW_S))
        threading.Thread(target=self._dispatch, name="bus-dispatch", daemon=True).start()

    def publish(self, event: object) -> None:
        data = event_codec.encode(event)
        subject, msg_id = subject_of(self.namespace, type(event)), message_id(event)
        self.link.call(lambda: self.link.js.publish(subject, data, headers={"Nats-Msg-Id": msg_id},
                                                    timeout=PUBLISH_TIMEOUT_S), PUBLISH_TIMEOUT_S + 1)

    def subscribe(self, event_type: type, handler: Callable[[object], None]) -> Callable[[], None]:
        subject = subject_of(self.namespace, event_type)
        with self._lock:
            self._handlers[event_type] = (*self._handlers.get(event_type, ()), handler)
            first = event_type not in self._subscribed
            self._subscribed.add(event_type)
        if first:
            self.link.call(lambda: self.link.nc.subscribe(subject, cb=self._received))

        def unsubscribe() -> None:
            with self._lock:
                self._handlers[event_type] = tuple(h for h in self._handlers.get(event_type, ()) if h is not handler)

        return unsubscribe

    async def _received(self, msg) -> None:
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
