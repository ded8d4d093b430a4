"""Command events to WebSocket clients: each agency's alerts, alert actions, incidents, camera status, sharing
changes, tips and emergencies fanned out to its connected command-center screens.

Each client has a bounded queue filled from the bus (any thread) and drained by its own task, so a slow
client only ever delays itself; when its queue overflows it is dropped, and on reconnecting it fetches what
it missed from the REST API.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from openrtcc.domain.ports import EventBus
from openrtcc.web.command_messages import EVENT_TYPES, HEARTBEAT, agencies_of, message_json
from openrtcc.web.socket_queue import QueuedSocket

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
SESSION_RECHECK_S = 30.0
QUEUE_LIMIT = 256


Subscriber = QueuedSocket  # one command screen: its key is the agency whose events it takes


class AlertStream:
    def __init__(self, bus: EventBus, *, queue_limit: int = QUEUE_LIMIT, heartbeat_s: float = HEARTBEAT_S,
                 session_recheck_s: float = SESSION_RECHECK_S):
        self.queue_limit = queue_limit
        self.heartbeat_s = heartbeat_s
        self.session_recheck_s = session_recheck_s
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscriber]] = {}
        stops = [bus.subscribe(t, self._on_event) for t in EVENT_TYPES]
        self.unsubscribe = lambda: [stop() for stop in stops]

    def join(self, agency_id: str) -> Subscriber:
        sub = Subscriber(agency_id, asyncio.get_running_loop(), asyncio.Queue(self.queue_limit))
        with self._lock:
            self._subscribers.setdefault(agency_id, set()).add(sub)
        return sub

    def leave(self, sub: Subscriber) -> None:
        with self._lock:
            self._subscribers.get(sub.key, set()).discard(sub)

    def _on_event(self, event: object) -> None:
        """Runs in the publisher's thread: serialise once, then only hand the text to each client's loop."""
        with self._lock:
            targets = [s for a in set(agencies_of(event)) for s in self._subscribers.get(a, ())]
        if not targets:
            return  # no screen of these agencies is open: nothing to serialise
        message = message_json(event)
        for sub in targets:
            try:
                sub.offer(message)
            except RuntimeError:  # its event loop has closed: the connection is gone
                self.leave(sub)

    async def pump(self, sub: Subscriber, send) -> None:
        """Send the client's messages, and a heartbeat when there has been nothing to send for a while."""
        while True:
            try:
                message = await asyncio.wait_for(sub.queue.get(), self.heartbeat_s)
            except TimeoutError:
                message = HEARTBEAT
            await send(message)
