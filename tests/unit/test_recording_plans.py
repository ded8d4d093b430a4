"""Retention, eviction and clock checks of edge recording, as pure plans (domain/recording.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from openrtcc.domain.recording import Hold, Segment, check_clock, plan_eviction, plan_retention

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def seg(sid: str, camera: str, days_ago: float, size: int = 100, open_: bool = False) -> Segment:
    start = NOW - timedelta(days=days_ago)
    return Segment(id=sid, camera_id=camera, day=start.date(), started_at=start,
                   ended_at=None if open_ else start + timedelta(seconds=10), size_bytes=size, complete=not open_)


def hold(camera: str, from_days_ago: float, to_days_ago: float, released: bool = False) -> Hold:
    return Hold(hold_id=f"h-{camera}-{from_days_ago}", camera_id=camera, start=NOW - timedelta(days=from_days_ago),
                end=NOW - timedelta(days=to_days_ago), released=released)


RETENTION = {"a": 30, "b": 7}

RETENTION_CASES = [
    # (name, segments, holds, deleted ids, shredded days-ago)
    ("young footage stays", [seg("a1", "a", 1), seg("b1", "b", 6)], [], set(), []),
    ("past its camera's retention goes", [seg("a1", "a", 31), seg("b1", "b", 8), seg("a2", "a", 8)], [],
     {"a1", "b1"}, [31]),
    ("held footage stays past retention", [seg("a1", "a", 40), seg("a2", "a", 41)], [hold("a", 40.5, 39)],
     {"a2"}, [41]),
    ("a released hold keeps nothing", [seg("a1", "a", 40)], [hold("a", 41, 39, released=True)], {"a1"}, [40]),
    ("a hold on another camera keeps nothing", [seg("a1", "a", 40)], [hold("b", 41, 39)], {"a1"}, [40]),
    ("a segment being written is never deleted", [seg("a1", "a", 40, open_=True)], [], set(), []),
    ("a day kept by another camera is not shredded", [seg("b1", "b", 8), seg("a1", "a", 8)], [], {"b1"}, []),
    ("a day younger than the longest retention is not shredded", [seg("b1", "b", 8)],
     [hold("a", 100, 99)], {"b1"}, []),
]


@pytest.mark.parametrize("name,segments,holds,deleted,shredded", RETENTION_CASES, ids=[c[0] for c in RETENTION_CASES])
def test_plan_retention(name, segments, holds, deleted, shredded):
    plan = plan_retention(segments, holds, RETENTION.__getitem__, NOW)
    assert {s.id for s in plan.delete} == deleted
    assert list(plan.shred_days) == [(NOW - timedelta(days=d)).date() for d in shredded]
    assert plan.bytes_deleted == 100 * len(deleted)


def test_retention_shreds_stored_key_days_without_footage_but_not_days_in_use():
    old, kept = (NOW - timedelta(days=45)).date(), (NOW - timedelta(days=44)).date()
    plan = plan_retention([], [], RETENTION.__getitem__, NOW, key_days=[old, kept, NOW.date()],
                          days_in_use=[kept], cameras=["a"])
    assert plan.shred_days == (old,)


def test_retention_never_keeps_more_than_30_days_whatever_the_setting():
    plan = plan_retention([seg("a1", "a", 31)], [], lambda _c: 365, NOW)
    assert [s.id for s in plan.delete] == ["a1"]


EVICTION_CASES = [
    # (name, segments, holds, bytes needed, evicted ids, shortfall)
    ("nothing needed", [seg("a1", "a", 3)], [], 0, [], 0),
    ("oldest first until enough", [seg("a3", "a", 1), seg("a1", "a", 3), seg("b2", "b", 2)], [], 150,
     ["a1", "b2"], 0),
    ("held footage is skipped, never evicted", [seg("a1", "a", 3), seg("a2", "a", 2), seg("a3", "a", 1)],
     [hold("a", 3.5, 2.5)], 150, ["a2", "a3"], 0),
    ("held footage fills the disk: shortfall", [seg("a1", "a", 3), seg("a2", "a", 2)], [hold("a", 4, 0)], 150,
     [], 150),
    ("partly held: what can go goes, the rest is shortfall", [seg("a1", "a", 3), seg("b1", "b", 2)],
     [hold("a", 4, 0)], 250, ["b1"], 150),
    ("the segment being written is not evicted", [seg("a1", "a", 3, open_=True), seg("a2", "a", 2)], [], 100,
     ["a2"], 0),
    ("recording order first: the clock was set back a year before a3 was recorded",
     [replace(seg("a1", "a", 3), seq=1), replace(seg("a3", "a", 365), seq=3), replace(seg("a2", "a", 2), seq=2)],
     [], 150, ["a1", "a2"], 0),
]


@pytest.mark.parametrize("name,segments,holds,needed,evicted,shortfall", EVICTION_CASES,
                         ids=[c[0] for c in EVICTION_CASES])
def test_plan_eviction(name, segments, holds, needed, evicted, shortfall):
    plan = plan_eviction(segments, holds, needed)
    assert [s.id for s in plan.evict] == evicted
    assert plan.shortfall_bytes == shortfall
    assert plan.enough == (shortfall == 0)
    held = {s.id for s in segments if any(h.covers(s) for h in holds)}
    assert not held & {s.id for s in plan.evict}


CLOCK_CASES = [
    # (name, wall moved s, monotonic moved s, status, jump)
    ("both move together", 600, 600, "ok", 0),
    ("a small slew is fine", 605, 600, "ok", 5),
    ("wall clock set 40 days ahead", 40 * 86400 + 60, 60, "jumped_forward", 40 * 86400),
    ("wall clock set back a day", -86400 + 60, 60, "jumped_backward", -86400),
    ("wall clock frozen while time passes", 0, 3600, "jumped_backward", -3600),
]


@pytest.mark.parametrize("name,wall,mono,status,jump", CLOCK_CASES, ids=[c[0] for c in CLOCK_CASES])
def test_check_clock(name, wall, mono, status, jump):
    check = check_clock(NOW, 1000.0, NOW + timedelta(seconds=wall), 1000.0 + mono, tolerance=300)
    assert check.status == status
    assert check.jump_seconds == pytest.approx(jump)
    assert check.ok == (status == "ok")


def test_segment_day_is_its_start_date():
    s = seg("x", "a", 0)
    assert s.day == date(2026, 11, 20)


HOLD_EDGE_CASES = [
    # (name, hold from, hold to (seconds after the segment's start; it lasts 10 s), covered)
    ("inside", 2, 3, True),
    ("an instant at the start", 0, 0, True),
    ("ends where the segment starts", -5, 0, True),
    ("starts where the segment ends (the next one's start)", 10, 12, False),
    ("before", -5, -1, False),
    ("after", 11, 12, False),
]


@pytest.mark.parametrize("name,a,b,covered", HOLD_EDGE_CASES, ids=[c[0] for c in HOLD_EDGE_CASES])
def test_hold_covers_a_segment(name, a, b, covered):
    s = seg("x", "a", 1)
    h = Hold(hold_id="h", camera_id="a", start=s.started_at + timedelta(seconds=a),
             end=s.started_at + timedelta(seconds=b))
    assert h.covers(s) == covered
