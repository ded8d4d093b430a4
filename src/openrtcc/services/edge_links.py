"""The hub's side of the links edge boxes hold open: who is connected, sending to a box, and the handlers
for what boxes send.

The transport (a WebSocket the box opens outbound) registers each connection here; use cases call `send`
from any thread and register a handler per message type. Handlers run in a worker thread, one message at a
time per connection, so a box's messages are handled in the order it sent them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

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


class EdgeLinks:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, _Connection] = {}
        self._handlers: dict[type, list[Handler]] = {}
        self._connect_listeners: list[Callable[[LinkedEdge], None]] = []

    # ------------------------------------------------------------ for the transport

    def attach(self, edge: LinkedEdge, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        """A box connected; a newer connection of the same box replaces the older (which the transport
        closes when its queue yields None)."""
        with self._lock:
            old = self._connections.get(edge.edge_id)
            self._connections[edge.edge_id] = _Connection(edge, loop, queue)
        if old is not None:
            old.loop.call_soon_threadsafe(old.queue.put_nowait, None)

    def detach(self, edge_id: str, queue: asyncio.Queue) -> None:
        with self._lock:
            conn = self._connections.get(edge_id)
            if conn is not None and conn.queue is queue:
                del self._connections[edge_id]

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
        """Queue a message for the box, from any thread; False when the box is not connected."""
        with self._lock:
            conn = self._connections.get(edge_id)
        if conn is None:
            return False
        conn.loop.call_soon_threadsafe(conn.queue.put_nowait, message)
        return True

    def is_connected(self, edge_id: str) -> bool:
        with self._lock:
            return edge_id in self._connections

    def connected_ids(self) -> list[str]:
        with self._lock:
            return list(self._connections)
