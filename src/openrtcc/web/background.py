"""Work the hub does beside requests while it serves: delivering the outbox."""

from __future__ import annotations

import logging
import threading

from openrtcc.services.outbox import dispatch_due
from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)


class OutboxDispatcher:
    """A daemon thread that delivers due outbox events every `interval_s` seconds until stopped."""

    def __init__(self, hub: Hub, interval_s: float):
        self.hub = hub
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                sent = dispatch_due(self.hub)
                if sent:
                    log.info("outbox: delivered %s notification(s)", sent)
            except Exception:  # a bad round must not end the loop; the events stay due
                log.exception("outbox dispatch round failed")
