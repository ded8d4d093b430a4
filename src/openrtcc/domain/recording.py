"""Recording at the edge as pure plans: which segments retention deletes, which days are crypto-shredded,
which segments make room when the disk is full, and whether the clock can be trusted to judge age.

Held footage (evidence a case asked to keep) is never deleted, expired or evicted by these plans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

# What the promise says: footage is deleted after 30 days at the latest; the owner may choose fewer.
MAX_RETENTION_DAYS = 30


@dataclass(frozen=True, slots=True)
class Segment:
    """One recorded file of one camera. `day` is the UTC date of its start: the day whose key seals it.
    `ended_at` is None while it is being written. `seq` is the order in which the box recorded it (0: not
    known); unlike the timestamps, a wall clock set back cannot reorder it."""

    id: str
    camera_id: str
    day: date
    started_at: datetime
    ended_at: datetime | None
    size_bytes: int
    complete: bool
    container: str = "mpegts"
    seq: int = 0

    @property
    def last_at(self) -> datetime:
        return self.ended_at or self.started_at

    @property
    def open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class Hold:
    """Keep a camera's footage between start and end past retention and eviction, until released."""

    hold_id: str
    camera_id: str
    start: datetime
    end: datetime
    released: bool = False
    case_number: str | None = None
    requested_by: str | None = None

    def covers(self, segment: Segment) -> bool:
        """A segment spans [started_at, ended_at) (the next one starts where it ends); the hold [start, end]."""
        if self.released or self.camera_id != segment.camera_id or segment.started_at > self.end:
            return False
        return self.start < segment.last_at or self.start <= segment.started_at


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    delete: tuple[Segment, ...]
    shred_days: tuple[date, ...]

    @property
    def bytes_deleted(self) -> int:
        return sum(s.size_bytes for s in self.delete)


@dataclass(frozen=True, slots=True)
class EvictionPlan:
    evict: tuple[Segment, ...]
    freed_bytes: int
    shortfall_bytes: int  # > 0: held (or still open) footage fills the disk; nothing more may go

    @property
    def enough(self) -> bool:
        return self.shortfall_bytes == 0


@dataclass(frozen=True, slots=True)
class ClockCheck:
    status: Literal["ok", "jumped_forward", "jumped_backward"]
    jump_seconds: float  # wall-clock change minus monotonic change; positive: the wall clock ran ahead

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def is_held(segment: Segment, holds: Iterable[Hold]) -> bool:
    return any(h.covers(segment) for h in holds)


def plan_retention(segments: Sequence[Segment], holds: Sequence[Hold],
                   retention_days_for: Callable[[str], int], now: datetime,
                   key_days: Iterable[date] = (), days_in_use: Iterable[date] = (),
                   cameras: Iterable[str] = ()) -> RetentionPlan:
    """Segments whose end is older than their camera's retention and that no hold covers go; then every day
    (of a segment or of a stored key) left with no segment of any camera, and older than the longest
    retention in force, has its key shredded. Open segments are never deleted.

    `days_in_use`: days that still have segments the caller did not pass (it passes only candidates);
    `cameras`: every camera with footage, so that the longest retention counts them all."""
    days_cache: dict[str, int] = {}

    def days_for(camera_id: str) -> int:
        if camera_id not in days_cache:
            days_cache[camera_id] = max(0, min(MAX_RETENTION_DAYS, int(retention_days_for(camera_id))))
        return days_cache[camera_id]

    delete = tuple(s for s in segments
                   if not s.open and s.last_at < now - timedelta(days=days_for(s.camera_id))
                   and not is_held(s, holds))
    deleted = {s.id for s in delete}
    remaining_days = {s.day for s in segments if s.id not in deleted} | set(days_in_use)
    all_cameras = {s.camera_id for s in segments} | {h.camera_id for h in holds} | set(cameras)
    longest = max((days_for(c) for c in all_cameras), default=0)
    # A day is shredded only once all of it is past every camera's retention (and never today: a recorder
    # may be about to open a segment under today's key).
    last_shreddable = min((now - timedelta(days=longest)).date(), now.date() - timedelta(days=1))
    candidates = {s.day for s in segments} | set(key_days)
    shred = tuple(sorted(d for d in candidates if d not in remaining_days and d <= last_shreddable))
    return RetentionPlan(delete=delete, shred_days=shred)


def plan_eviction(segments: Sequence[Segment], holds: Sequence[Hold], bytes_needed: int) -> EvictionPlan:
    """The oldest finished segments that no hold covers, oldest first, until bytes_needed are freed. Oldest
    means first recorded (seq), then earliest start: after the wall clock was set back, new footage carries
    old timestamps and must not be the first to go."""
    if bytes_needed <= 0:
        return EvictionPlan(evict=(), freed_bytes=0, shortfall_bytes=0)
    evict: list[Segment] = []
    freed = 0
    for s in sorted(segments, key=lambda s: (s.seq, s.started_at, s.id)):
        if freed >= bytes_needed:
            break
        if s.open or is_held(s, holds):
            continue
        evict.append(s)
        freed += s.size_bytes
    return EvictionPlan(evict=tuple(evict), freed_bytes=freed, shortfall_bytes=max(0, bytes_needed - freed))


def check_clock(prev_wall: datetime, prev_mono: float, wall: datetime, mono: float,
                tolerance: float) -> ClockCheck:
    """Compare how far the wall clock moved with how far the monotonic clock moved since the last look.
    A difference beyond `tolerance` seconds is a jump: age-based purging must wait until it is sane."""
    jump = (wall - prev_wall).total_seconds() - (mono - prev_mono)
    if jump > tolerance:
        return ClockCheck("jumped_forward", jump)
    if jump < -tolerance:
        return ClockCheck("jumped_backward", jump)
    return ClockCheck("ok", jump)
