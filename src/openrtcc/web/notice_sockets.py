"""The WebSocket channel: notices fanned out to the sockets each subscriber has open on `/ws/notices`.

The registry keeps, per subscriber, the bounded queues of its connected sockets; the sender (the channel
sender dissemination hands websocket deliveries to) puts each message on the queues of its subscriber's
sockets. "Handed" means queued to at least one connected socket; with none connected the delivery fails and
is tried again later, so a screen that was closed gets it once it reconnects (within the retry budget). A
socket whose queue overflows is dropped (it reconnects), like /ws/alerts does. For websocket deliveries
OutboundMessage.address is the subscriber's id.

In city mode the worker that sends is another process: the registry then tells the hub's notice relay
(adapters.bus.nats_notices) which subscribers have a socket here, and the relay is the channel's sender."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from openrtcc.adapters.bus.nats_notices import notice_text
from openrtcc.domain.dissemination import ChannelKind, OutboundMessage, SendOutcome
from openrtcc.web.socket_queue import QueuedSocket

QUEUE_LIMIT = 256


class NoticeSockets:
    """Which sockets are open for which subscriber."""

    def __init__(self, queue_limit: int = QUEUE_LIMIT, relay=None):
        self.queue_limit = queue_limit
        self.relay = relay  # city mode: watch(subscriber, offer) on a first socket, unwatch(subscriber) after the last
        self._lock = threading.Lock()
        self._sockets: dict[str, set[QueuedSocket]] = {}

    def join(self, subscriber_id: str) -> QueuedSocket:
        sock = QueuedSocket(subscriber_id, asyncio.get_running_loop(), asyncio.Queue(self.queue_limit))
        with self._lock:
            first = subscriber_id not in self._sockets
            self._sockets.setdefault(subscriber_id, set()).add(sock)
        if first and self.relay is not None:
            self.relay.watch(subscriber_id, self.offer)
        return sock

    def leave(self, sock: QueuedSocket) -> None:
        last = False
        with self._lock:
            open_ = self._sockets.get(sock.key)
            if open_ is not None:
                open_.discard(sock)
                if not open_:
                    del self._sockets[sock.key]
                    last = True
        if last and self.relay is not None:
            self.relay.unwatch(sock.key)

    def connected(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._sockets.values())

    def offer(self, subscriber_id: str, message: str) -> int:
        """Queue the message to every socket of the subscriber that is still open; how many took it."""
        with self._lock:
            targets = [s for s in self._sockets.get(subscriber_id, ()) if not s.dropped.is_set()]
        taken = 0
        for sock in targets:
            try:
                sock.offer(message)
                taken += 1
            except RuntimeError:  # its event loop has closed: the connection is gone
                self.leave(sock)
        return taken


class NoticeSocketSender:
    """The ChannelSender for ChannelKind.WEBSOCKET."""

    def __init__(self, sockets: NoticeSockets):
        self.sockets = sockets

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        outcomes = []
        for message in messages:
            if self.sockets.offer(message.address, notice_text(message)):
                outcomes.append(SendOutcome(message.delivery_id, True))
            else:
                outcomes.append(SendOutcome(message.delivery_id, False, "no screen of this subscriber is connected"))
        return outcomes


def install(hub) -> NoticeSockets:
    """Make the hub's registry and register the websocket sender beside the other channels (idempotent)."""
    relay = hub.extras.get("notice_relay")  # city mode: the worker sends through it, from another process
    sockets = hub.extras.get("notice_sockets")
    if sockets is None:
        sockets = hub.extras["notice_sockets"] = NoticeSockets(relay=relay)
    hub.extras.setdefault("channels", {})[ChannelKind.WEBSOCKET] = relay or NoticeSocketSender(sockets)
    return sockets
