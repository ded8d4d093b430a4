"""The embedded hub's event bus: handlers called in the publishing thread, each isolated from the others."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class InProcessBus:
    """Handlers must be quick and must not block (hand work to a queue): they run in the publisher's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[type, tuple[Callable[[object], None], ...]] = {}

    def subscribe(self, event_type: type, handler: Callable[[object], None], group: str | None = None) \
            -> Callable[[], None]:
        """`group` (work once per event across processes) is the same as none here: there is one process."""
        with self._lock:
            self._handlers[event_type] = (*self._handlers.get(event_type, ()), handler)

        def unsubscribe() -> None:
            with self._lock:
                left = tuple(h for h in self._handlers.get(event_type, ()) if h is not handler)
                self._handlers[event_type] = left

        return unsubscribe

    def publish(self, event: object) -> None:
        for handler in self._handlers.get(type(event), ()):
            try:
                handler(event)
            except Exception:  # one failing subscriber must not cost the others their event
                log.exception("event handler failed for %s", type(event).__name__)
