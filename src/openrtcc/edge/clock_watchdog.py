"""The box's clock watchdog: the wall clock checked against the monotonic clock every few seconds.

A wall clock that jumps (a dead RTC battery after a power cut, a bad NTP answer, someone setting the date)
would file footage under the wrong day and make retention delete by the wrong age. The watchdog raises
`clock_jump` at once and keeps it until the clock comes back to where it should be, or until the hub
confirms the box's time (`accept()`, after a Welcome whose skew is small); retention refuses to delete by
age for as long as it sees a jump itself (edge/retention.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from openrtcc.domain.clock import Clock
from openrtcc.domain.recording import check_clock
from openrtcc.edge.alarms import Alarms

log = logging.getLogger(__name__)
TOLERANCE_S = 30.0  # NTP slews by milliseconds; a difference this large is a jump


class ClockWatchdog:
    def __init__(self, clock: Clock, alarms: Alarms, *, monotonic: Callable[[], float] = time.monotonic,
                 tolerance_s: float = TOLERANCE_S):
        self._clock, self._alarms, self._monotonic, self._tolerance = clock, alarms, monotonic, tolerance_s
        self._reference: tuple[datetime, float] = (clock.now(), monotonic())
        self.jumped = False

    def check(self) -> bool:
        """One look; True while the clock is sane. The reference moves only while it is."""
        wall, mono = self._clock.now(), self._monotonic()
        result = check_clock(*self._reference, wall, mono, self._tolerance)
        if result.status == "ok":
            self._reference = (wall, mono)
            if self.jumped:
                self.jumped = False
                self._alarms.clear("clock_jump")
            return True
        way = "forward" if result.status == "jumped_forward" else "backward"
        message = f"the wall clock jumped {way} by {abs(result.jump_seconds):.0f} s"
        if not self.jumped:
            log.warning("%s; recordings keep their monotonic order, deletion by age waits", message)
        self.jumped = True
        self._alarms.raise_("clock_jump", message)
        return False

    def accept(self) -> None:
        """Take the wall clock as it is now (the hub has confirmed it)."""
        self._reference = (self._clock.now(), self._monotonic())
        if self.jumped:
            self.jumped = False
            self._alarms.clear("clock_jump")
