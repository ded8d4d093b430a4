"""Admission of edge read batches: admitted while the backlog can be answered within the budget at the rate this
process finishes batches, refused at once (Busy, with a Retry-After that grows with the backlog) beyond it."""

from __future__ import annotations

import pytest

from openrtcc.services.read_admission import Busy, ReadAdmission


class Ticks:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_floor_is_always_admitted_then_the_rate_decides():
    ticks = Ticks()
    adm = ReadAdmission(budget_s=10.0, floor=4, window_s=10.0, monotonic=ticks)
    for _ in range(4):  # no rate known yet: the floor (4 per 10 s) is assumed
        adm.enter()
    with pytest.raises(Busy) as refused:  # a fifth would wait (5) / 0.4 per s = 12.5 s > 10 s
        adm.enter()
    assert refused.value.reason == "busy" and refused.value.details["retry_after_s"] == 3
    assert adm.in_flight == 4  # a refused batch holds nothing
    # 40 finished over the last 10 s: 4 per s.
    for _ in range(4):
        adm.leave()
    for _ in range(36):
        ticks.t += 0.25
        adm.enter()
        adm.leave()
    ticks.t += 1.0
    for _ in range(40):
        adm.enter()  # up to 40 in flight are done within 10 s at that rate
    with pytest.raises(Busy):
        adm.enter()


def test_the_rate_is_forgotten_after_the_window_and_retry_after_is_bounded():
    ticks = Ticks()
    adm = ReadAdmission(budget_s=1.0, floor=1, window_s=10.0, monotonic=ticks)
    for _ in range(100):
        adm.enter()
        adm.leave()
    for _ in range(10):
        adm.enter()  # 100 per 10 s: 10 in flight are done within the 1 s budget
    ticks.t += 11.0  # nothing finished for longer than the window: the floor's rate (1 per s) is assumed
    with pytest.raises(Busy) as refused:
        adm.enter()
    assert refused.value.details["retry_after_s"] == 10  # 11 s of backlog, less the budget
    for _ in range(10):
        adm.leave()
    big = ReadAdmission(budget_s=1.0, floor=1, monotonic=ticks)
    for _ in range(500):
        big._in_flight += 1  # a backlog of 500 batches at the floor's 1 per s
    with pytest.raises(Busy) as refused:
        big.enter()
    assert refused.value.details["retry_after_s"] == 60  # never longer than the box's own longest back-off


def test_a_batch_that_waited_too_long_before_its_work_began_is_dropped_unstarted():
    ticks = Ticks()
    adm = ReadAdmission(late_s=20.0, monotonic=ticks)
    arrived = adm.enter()
    ticks.t += 19.0
    adm.started(arrived)  # still worth doing
    arrived = adm.enter()
    ticks.t += 21.0
    with pytest.raises(Busy) as refused:
        adm.started(arrived)
    assert refused.value.reason == "late" and refused.value.details["retry_after_s"] >= 1


def test_a_just_started_process_is_rated_on_its_short_history_not_the_whole_window():
    ticks = Ticks()
    adm = ReadAdmission(budget_s=10.0, floor=16, window_s=10.0, monotonic=ticks)
    for _ in range(16):
        adm.enter()
        adm.leave()
    ticks.t += 0.5  # 16 finished in its first second: 16 per s, not 1.6 per s over a window it has not lived
    for _ in range(160):
        adm.enter()
    with pytest.raises(Busy):
        adm.enter()
