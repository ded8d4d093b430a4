"""One open WebSocket's bounded outgoing queue, filled from any thread and drained by the socket's own task:
a slow client only ever delays itself, and is dropped (to reconnect) when its queue overflows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass(eq=False)
class QueuedSocket:
    key: str  # whose messages it takes: an agency's id (command screens) or a subscriber's (notice screens)
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue
    dropped: asyncio.Event = field(default_factory=asyncio.Event)  # set when the queue overflowed

    def offer(self, message: str) -> None:
        """From any thread: hand the message to the socket's own event loop."""
        self.loop.call_soon_threadsafe(self._put, message)

    def _put(self, message: str) -> None:
        if self.dropped.is_set():
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped.set()
