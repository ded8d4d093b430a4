"""A daemon thread that runs one piece of work every few seconds until it is stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicTask:
    """`work()` every `interval_s` seconds (and once at start when `at_start`); a failed round is logged and the
    next one runs as usual."""

    def __init__(self, name: str, interval_s: float, work: Callable[[], object], *, at_start: bool = False):
        self.name = name
        self.interval_s = interval_s
        self.work = work
        self.at_start = at_start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def alive(self) -> bool:
        """Started and still running (readiness asks: a stopped background loop makes the process not ready)."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        if self.at_start:
            self._round()
        while not self._stop.wait(self.interval_s):
            self._round()

    def _round(self) -> None:
        try:
            self.work()
        except Exception:  # the work is retried next round; one bad round must not end the loop
            log.exception("%s: round failed", self.name)
