"""The thread that drives every recorder on the box: a few times a second it takes what each camera's
queue holds and remuxes it; a second thread seals finished segments (final record, fsync, index).
One thread, not one per camera: 100 recorder threads waking to write cost
more in switching and in contention for the interpreter than the remuxing itself, and slowed the
capture threads with them; the queues (drop-oldest, per camera) absorb a slow disk."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

TICK_S = 0.25


class Pumped(Protocol):
    camera_id: str

    def tick(self) -> bool:
        """Write what is queued; False once the recorder has finished (it is then dropped)."""
        ...


class RecordingPump:
    def __init__(self, tick_s: float = TICK_S):
        self.tick_s = tick_s
        self._recorders: list[Pumped] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._seals: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._sealer: threading.Thread | None = None

    def add(self, recorder: Pumped) -> None:
        with self._lock:
            self._recorders.append(recorder)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="recording-pump", daemon=True)
                self._thread.start()

    def seal_later(self, job: Callable[[], None]) -> None:
        """Run `job` (closing a finished segment: its fsync may take a while) on the sealing thread, in
        the order given."""
        with self._lock:
            if self._sealer is None or not self._sealer.is_alive():
                self._sealer = threading.Thread(target=self._seal_jobs, name="recording-sealer", daemon=True)
                self._sealer.start()
        self._seals.put(job)

    def _seal_jobs(self) -> None:
        while True:
            job = self._seals.get()
            try:
                job()
            except Exception:
                log.exception("sealing a segment failed")

    def wake(self) -> None:
        """Run a turn now (a recorder is stopping)."""
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.tick_s)
            self._wake.clear()
            with self._lock:
                recorders = list(self._recorders)
            finished = [r for r in recorders if not self._tick(r)]
            if finished:
                with self._lock:
                    self._recorders = [r for r in self._recorders if r not in finished]

    @staticmethod
    def _tick(recorder: Pumped) -> bool:
        try:
            return recorder.tick()
        except Exception:  # one camera's failure must not stop the others' recording
            log.exception("recorder of camera %s failed a turn", recorder.camera_id)
            return True


_default: RecordingPump | None = None
_default_lock = threading.Lock()


def default_pump() -> RecordingPump:
    """The box's one pump, started with its first recorder."""
    global _default
    with _default_lock:
        if _default is None:
            _default = RecordingPump()
        return _default
