"""Rolling retention on the box: delete expired footage that no hold keeps, then crypto-shred the days left
empty, but only while the wall clock agrees with the monotonic clock (a clock set weeks ahead would
otherwise delete everything)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from openrtcc.domain.clock import Clock
from openrtcc.domain.recording import MAX_RETENTION_DAYS, check_clock, plan_retention
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.clock_watchdog import ClockWatchdog
from openrtcc.edge.day_keys import DayKeys
from openrtcc.edge.segment_store import SegmentStore

log = logging.getLogger(__name__)

# How often the agent should call run_once: footage is deleted at most this late past its retention.
RECOMMENDED_INTERVAL_S = 600
# Wall-clock moves that the monotonic clock does not explain, beyond this, are a jump (NTP slews by far less).
CLOCK_TOLERANCE_S = 300.0
BATCH = 2000  # segments looked at a time, so a long backlog (or much held footage) never sits in memory


@dataclass(frozen=True, slots=True)
class RetentionReport:
    refused: str | None = None  # why nothing was deleted (a clock jump), or None
    deleted_segments: int = 0
    deleted_bytes: int = 0
    shredded_days: tuple[date, ...] = ()
    kept_by_holds: int = 0
    details: dict = field(default_factory=dict)


class RetentionRunner:
    def __init__(self, store: SegmentStore, day_keys: DayKeys, retention_days_for: Callable[[str], int],
                 clock: Clock, alarms: Alarms, *, monotonic: Callable[[], float] = time.monotonic,
                 tolerance_s: float = CLOCK_TOLERANCE_S, watchdog: ClockWatchdog | None = None,
                 batch: int = BATCH):
        """With a watchdog (the agent's), its judgement of the clock is used and the clock_jump alarm is its;
        without one the runner compares wall and monotonic clocks between its own runs."""
        self.store = store
        self.day_keys = day_keys
        self.retention_days_for = retention_days_for
        self.clock = clock
        self.alarms = alarms
        self._monotonic = monotonic
        self._tolerance = tolerance_s
        self._watchdog = watchdog
        self._batch = batch
        self._reference: tuple[datetime, float] | None = None  # the last (wall, monotonic) seen sane
        self._alarmed = False

    def accept_clock(self) -> None:
        """Take the wall clock as it is now (the hub confirmed it, or the owner fixed it)."""
        self._reference = (self.clock.now(), self._monotonic())
        if self._watchdog is not None:
            self._watchdog.accept()
        self._clear_alarm()

    def _clear_alarm(self) -> None:
        if self._alarmed:
            self._alarmed = False
            self.alarms.clear("clock_jump")

    def run_once(self) -> RetentionReport:
        now = self.clock.now()
        refused = self._clock_problem(now)
        if refused:
            if self._watchdog is None or not self._watchdog.jumped:
                self._alarmed = True
                self.alarms.raise_("clock_jump", f"{refused}; footage is not deleted by age until the clock is sane")
            log.warning("retention skipped: %s", refused)
            return RetentionReport(refused=refused)
        self._clear_alarm()
        return self._carry_out(now)

    def _clock_problem(self, now: datetime) -> str | None:
        mono = self._monotonic()
        if self._watchdog is not None and not self._watchdog.check():
            return "the wall clock jumped (clock watchdog)"
        if self._reference is None:
            newest = self.store.index.newest_start()
            if newest is not None and now < newest - timedelta(seconds=self._tolerance):
                return (f"the wall clock ({now.isoformat()}) is behind the newest recording "
                        f"({newest.isoformat()})")
            self._reference = (now, mono)
            return None
        if self._watchdog is not None:
            return None
        check = check_clock(*self._reference, now, mono, self._tolerance)
        if not check.ok:
            way = "forward" if check.status == "jumped_forward" else "backward"
            return f"the wall clock jumped {way} by {abs(check.jump_seconds):.0f} s"
        self._reference = (now, mono)
        return None

    def _carry_out(self, now: datetime) -> RetentionReport:
        index = self.store.index
        cameras = index.camera_ids()
        holds = index.holds()
        segments = nbytes = kept = 0
        # Files, then rows, then keys: each step is safe to repeat if the box stops in between.
        for camera_id in cameras:
            cutoff, after = now - timedelta(days=self._days(camera_id)), None
            while batch := index.ended_before(camera_id, cutoff, after=after, limit=self._batch):
                plan = plan_retention(batch, holds, self._days, now)
                deleted = self.store.delete_segments(plan.delete)
                segments, nbytes = segments + deleted.segments, nbytes + deleted.bytes
                kept += len(batch) - len(plan.delete)
                after = (batch[-1].started_at, batch[-1].id)
        key_days = self.day_keys.days()
        in_use = {d for d in key_days if d < now.date() and index.has_segments_on(d)}
        shred = plan_retention([], holds, self._days, now, key_days=key_days, days_in_use=in_use,
                               cameras=cameras).shred_days
        for day in shred:
            self.day_keys.destroy(day)
            self.store.remove_day_dir(day)
        report = RetentionReport(deleted_segments=segments, deleted_bytes=nbytes, shredded_days=shred,
                                 kept_by_holds=kept, details={"cameras": len(cameras)})
        if segments or shred:
            log.info("retention: deleted %s segments (%s bytes), shredded days %s, %s expired segments kept by holds",
                     segments, nbytes, ",".join(d.isoformat() for d in shred) or "none", kept)
        return report

    def _days(self, camera_id: str) -> int:
        return max(0, min(MAX_RETENTION_DAYS, int(self.retention_days_for(camera_id))))
