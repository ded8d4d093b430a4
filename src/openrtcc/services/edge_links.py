"""The hub's side of the links edge boxes hold open: who is connected, sending to a box, and the handlers
for what boxes send.

The transport (a WebSocket the box opens outbound) registers each connection here; use cases call `send`
from any thread and register a handler per message type. Handlers run in a worker thread, one message at a
time per connection, so a box's messages are handled in the order it sent them, by the process holding the link.

In city mode several hub processes each hold some of the links; a relay (EdgeLinkRelay, wired by
edge_link_wiring) tells the others which boxes this process holds and carries their `send` to it. A box that
connects again, to this process or another, replaces its older link wherever that was held.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from openrtcc.domain.ports import EdgeLinkRelay

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LinkedEdge:
    """A connected box as the hub verified it at connect time."""

    edge_id: str
    owner_id: str


Handler = Callable[[LinkedEdge, object], None]


class _Connection:
    def __init__(self, edge: LinkedEdge, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue):
        self.edge, self.loop, self.queue = edge, loop, queue
        self.token = uuid.uuid4().hex  # names this connection to the relay: a newer one of the box differs

    def put(self, message: object) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, message)


class EdgeLinks:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, _Connection] = {}
        self._handlers: dict[type, list[Handler]] = {}
        self._connect_listeners: list[Callable[[LinkedEdge], None]] = []
        self._relay: EdgeLinkRelay | None = None

    def use_relay(self, relay: EdgeLinkRelay) -> None:
        """City mode: links held by other processes are reached through `relay`."""
        self._relay = relay

    # ------------------------------------------------------------ for the transport

    def attach(self, edge: LinkedEdge, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        """A box connected; a newer connection of the same box replaces the older (which the transport
        closes when its queue yields None)."""
        conn = _Connection(edge, loop, queue)
        with self._lock:
            old = self._connections.get(edge.edge_id)
            self._connections[edge.edge_id] = conn
        if old is not None:
            old.put(None)
        if self._relay is not None:
            self._relay.announce(edge.edge_id, conn.token)  # a link of this box held elsewhere is closed

    def detach(self, edge_id: str, queue: asyncio.Queue) -> None:
        with self._lock:
            conn = self._connections.get(edge_id)
            if conn is None or conn.queue is not queue:
                return
            del self._connections[edge_id]
        if self._relay is not None:
            self._relay.withdraw(edge_id, conn.token)

    def handle(self, edge: LinkedEdge, message: object) -> None:
        """Run every handler registered for the message's type (call from a worker thread)."""
        handlers = self._handlers.get(type(message), [])
        if not handlers:
            log.warning("no handler for edge message %s", type(message).__name__)
        for handler in handlers:
            handler(edge, message)

    def connected_edge(self, edge: LinkedEdge) -> None:
        """The transport calls this after the box's hello was accepted: listeners send it its policy."""
        for listener in list(self._connect_listeners):
            listener(edge)

    # ------------------------------------------------------------ for use cases

    def on(self, message_type: type, handler: Handler) -> None:
        self._handlers.setdefault(message_type, []).append(handler)

    def on_connect(self, listener: Callable[[LinkedEdge], None]) -> None:
        self._connect_listeners.append(listener)

    def send(self, edge_id: str, message: object) -> bool:
        """Queue a message for the box, from any thread; False when the box is not connected (to any hub
        process). `None` closes the box's link wherever it is held."""
        with self._lock:
            conn = self._connections.get(edge_id)
        if message is None and self._relay is not None:
            self._relay.close_everywhere(edge_id)
        if conn is not None:
            conn.put(message)
            return True
        if message is None or self._relay is None:
            return False
        return self._relay.deliver(edge_id, message.model_dump_json())

    def is_connected(self, edge_id: str) -> bool:
        with self._lock:
            if edge_id in self._connections:
                return True
        return self._relay is not None and self._relay.is_connected(edge_id)

    def connected_ids(self) -> list[str]:
        with self._lock:
            here = list(self._connections)
        if self._relay is None:
            return here
        return sorted(set(here) | set(self._relay.connected_ids()))

    # ------------------------------------------------------------ for the relay (any thread, never blocks)

    def deliver_here(self, edge_id: str, message_json: str) -> bool:
        """A message another process sent to a box whose link this process holds (already JSON)."""
        with self._lock:
            conn = self._connections.get(edge_id)
        if conn is None:
            return False
        conn.put(message_json)
        return True

    def close_here(self, edge_id: str, except_token: str | None = None) -> None:
        """Close this process's link of the box, unless it is the connection `except_token` names (the newer
        link that asked the others to let go)."""
        with self._lock:
            conn = self._connections.get(edge_id)
        if conn is not None and conn.token != except_token:
            conn.put(None)
