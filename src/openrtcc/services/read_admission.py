"""Admission control for edge boxes' plate-read batches in one serving process: a batch that could not be answered
within the boxes' patience is refused at once (503 with Retry-After), never queued.

A box waits 30 s for its answer (edge/hub_http.py) and then sends the batch again. A process that queued every
batch it was sent went on working for boxes that had already given up, while their second copies queued behind
(rtcc bench city with one serve process: 19 reads/s accepted of 500). So each arriving batch is admitted only
if the batches already in flight will be done within `budget_s` at the rate this process has been finishing
them (Little's law: in flight / completions per second), and a batch that still waited longer than `late_s`
before its work began is dropped unstarted. A refused box keeps its reads and comes back after the Retry-After
the refusal names (edge/read_forwarder.py), which grows with the backlog.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from openrtcc.domain.errors import Unavailable
from openrtcc.services.hub import Hub

BUDGET_S = 10.0  # answer well within the box's 30 s, whatever PostgreSQL or NATS add
LATE_S = 20.0  # a batch that waited this long unstarted would most likely be answered to nobody
FLOOR = 16  # batches in flight always admitted: a process that has finished nothing yet knows no rate
WINDOW_S = 10.0  # the completion rate is measured over this much recent time
MAX_RETRY_AFTER_S = 60  # the box's own longest back-off


class Busy(Unavailable):
    """This serving process has more edge-read work in flight than it can answer in time: come back later."""

    code = "busy"

    def __init__(self, retry_after_s: int, reason: str):
        super().__init__("the hub is busy: send this batch again after the Retry-After seconds",
                         details={"retry_after_s": retry_after_s})
        self.reason = reason  # busy | late (a metric label; the box is told only when to come back)


class ReadAdmission:
    def __init__(self, *, budget_s: float = BUDGET_S, late_s: float = LATE_S, floor: int = FLOOR,
                 window_s: float = WINDOW_S, monotonic: Callable[[], float] = time.monotonic):
        self.budget_s, self.late_s, self.floor, self.window_s = budget_s, late_s, floor, window_s
        self._now = monotonic
        self._lock = threading.Lock()
        self._in_flight = 0
        self._finished: deque[float] = deque()  # completion times within the window

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enter(self) -> float:
        """Admit a batch (returns its arrival time: pass it to `started` and `leave`), or raise Busy."""
        with self._lock:
            now = self._now()
            if self._in_flight >= self.floor:
                wait = self._expected_wait(now)
                if wait > self.budget_s:
                    raise Busy(self._retry_after(wait), "busy")
            self._in_flight += 1
            return now

    def started(self, arrived: float) -> None:
        """The batch's work begins now: Busy (and the batch is over, see `leave`) if it waited too long."""
        waited = self._now() - arrived
        if waited > self.late_s:
            raise Busy(self._retry_after(waited), "late")

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._finished.append(self._now())

    def _expected_wait(self, now: float) -> float:
        while self._finished and self._finished[0] < now - self.window_s:
            self._finished.popleft()
        # Over the time the window's completions actually span (a process that just started has a short history),
        # and at least `floor` batches per budget (else the floor itself would be too many).
        span = max(1.0, now - self._finished[0]) if self._finished else self.window_s
        rate = max(len(self._finished) / span, self.floor / self.budget_s)
        return (self._in_flight + 1) / rate

    def _retry_after(self, wait: float) -> int:
        """About when the backlog will have drained to what can be answered in time."""
        return max(1, min(MAX_RETRY_AFTER_S, math.ceil(wait - self.budget_s)))


_made = threading.Lock()


def read_admission(hub: Hub) -> ReadAdmission:
    """The serving process's admission of edge-read batches (one per hub, made on first use)."""
    admission = hub.extras.get("read_admission")
    if admission is None:
        with _made:
            admission = hub.extras.setdefault("read_admission", ReadAdmission())
    return admission
