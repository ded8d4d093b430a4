"""The box's clock watchdog: a jump raises clock_jump at once; it clears when the clock is back or accepted."""

from __future__ import annotations

from openrtcc.edge.alarms import Alarms
from openrtcc.edge.clock_watchdog import ClockWatchdog


class Monotonic:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _watchdog(clock):
    mono, alarms = Monotonic(), Alarms(clock.now)
    return ClockWatchdog(clock, alarms, monotonic=mono, tolerance_s=30), mono, alarms


def _tick(clock, mono, seconds: float) -> None:
    clock.advance(seconds=seconds)
    mono.t += seconds


def test_time_passing_normally_is_no_jump(clock):
    dog, mono, alarms = _watchdog(clock)
    for _ in range(10):
        _tick(clock, mono, 5)
        assert dog.check()
    clock.advance(seconds=20)  # NTP stepping a little: within tolerance
    assert dog.check() and alarms.active() == []


def test_a_jump_forward_alarms_until_the_clock_comes_back(clock):
    dog, mono, alarms = _watchdog(clock)
    _tick(clock, mono, 5)
    clock.advance(days=40)  # someone set the date weeks ahead: retention would delete everything
    assert not dog.check()
    [alarm] = alarms.active()
    assert alarm.code == "clock_jump" and "forward by 3456000 s" in alarm.message
    _tick(clock, mono, 5)
    assert not dog.check()  # still wrong relative to the last sane reading
    clock.advance(days=-40)
    assert dog.check() and alarms.active() == []
    assert [a.cleared for a in alarms.take_report()] == [True]


def test_a_jump_backward_alarms_until_the_hub_confirms_the_time(clock):
    dog, mono, alarms = _watchdog(clock)
    clock.advance(hours=-3)
    assert not dog.check() and "backward by 10800 s" in alarms.active()[0].message
    dog.accept()
    assert alarms.active() == []
    _tick(clock, mono, 5)
    assert dog.check()
