"""uvicorn's server with a draining stop: on SIGTERM the process first answers /readyz with 503 `draining` for a
while (so that a load balancer polling it takes it out of rotation) while it keeps serving, then stops taking
connections and finishes the requests in flight as uvicorn does. A second SIGTERM, or Ctrl-C, stops at once."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

import uvicorn

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, on_drain: Callable[[], None], drain_s: float = 0.0):
        super().__init__(config)
        self.on_drain, self.drain_s = on_drain, drain_s
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        first_term = sig == signal.SIGTERM and not self._draining
        self._draining = True
        self.on_drain()
        if first_term and self.drain_s > 0:
            log.info("draining: /readyz answers 503 for %.1f s, then the server stops taking connections",
                     self.drain_s)
            timer = threading.Timer(self.drain_s, super().handle_exit, (sig, frame))
            timer.daemon = True
            timer.start()
            return
        super().handle_exit(sig, frame)
