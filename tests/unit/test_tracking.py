"""Plate tracking: readings across frames become one pass per vehicle, by box motion and text similarity."""

from __future__ import annotations

import pytest

from openrtcc.domain.plates import PlateReading
from openrtcc.domain.tracking import PlateTracker, TrackerConfig, iou, text_similarity


def reading(text: str, x: int, y: int = 400, w: int = 100, conf: float = 0.9) -> PlateReading:
    return PlateReading(text=text, confidence=conf, box=(x, y, x + w, y + w // 3),
                        char_confidences=(conf,) * len(text))


def run(frames: list[tuple[int, list[PlateReading]]], config: TrackerConfig | None = None):
    tracker = PlateTracker(config or TrackerConfig(max_gap_frames=10, repeat_window_frames=50))
    passes = []
    for frame, readings in frames:
        passes += tracker.update(frame, readings)
    return passes + tracker.flush()


def moving(text: str, start: int, frames: range, step: int = 20, **kw) -> list[tuple[int, list[PlateReading]]]:
    return [(f, [reading(text, start + step * (f - frames.start), **kw)]) for f in frames]


def merge(*streams):
    by_frame: dict[int, list[PlateReading]] = {}
    for stream in streams:
        for f, rs in stream:
            by_frame.setdefault(f, []).extend(rs)
    return sorted(by_frame.items())


CASES = {
    "one plate moving steadily": (moving("7ABC123", 100, range(0, 12)), ["7ABC123"]),
    "one plate with misreads on some frames": (
        [(f, [reading("7ABC123" if f % 3 else "7A8C12", 100 + 20 * f)]) for f in range(12)], ["7ABC123"]),
    "one plate, frames skipped by the gate or decimation": (moving("7ABC123", 100, range(0, 30, 3), step=20),
                                                             ["7ABC123"]),
    "two vehicles side by side at once": (
        merge(moving("7ABC123", 100, range(0, 10)), moving("4XYZ987", 700, range(0, 10))), ["7ABC123", "4XYZ987"]),
    "two vehicles one after the other in the same lane": (
        merge(moving("7ABC123", 100, range(0, 8)), moving("4XYZ987", 100, range(30, 38))), ["7ABC123", "4XYZ987"]),
    "the same plate reappearing after an occlusion is not a second pass": (
        merge(moving("7ABC123", 100, range(0, 6)), moving("7ABC123", 900, range(25, 30))), ["7ABC123"]),
    "a lone unsure detection is noise": ([(3, [reading("X1", 500, conf=0.3)])], []),
    "a lone confident read is kept": ([(3, [reading("7ABC123", 500, conf=0.95)])], ["7ABC123"]),
    "two garbled reads far away are not a pass": (
        [(0, [reading("92K911", 800, w=35, conf=0.08)]), (5, [reading("BEC2013", 795, w=36, conf=0.32)])], []),
    "many unsure reads that each say something else are not a pass": (
        [(f, [reading(t, 800 - 3 * f, w=30, conf=0.15)])
         for f, t in enumerate(["VK4471M", "FW711", "VWC701N", "RK7347", "FK700MG", "W151", "AV20117"])], []),
    "many unsure reads that agree are a pass": (moving("29C20339", 800, range(0, 12, 2), step=-5, conf=0.2),
                                                ["29C20339"]),
    "a plate that jumps across the frame with another text is another vehicle": (
        [(0, [reading("7ABC123", 100)]), (1, [reading("7ABC123", 120)]),
         (2, [reading("4XYZ987", 900)]), (3, [reading("4XYZ987", 920)])], ["7ABC123", "4XYZ987"]),
}


@pytest.mark.parametrize("frames, expected", CASES.values(), ids=CASES.keys())
def test_passes(frames, expected):
    assert [p.consensus.text for p in run(frames)] == expected


def test_a_pass_completes_once_the_vehicle_has_been_gone_max_gap_frames():
    tracker = PlateTracker(TrackerConfig(max_gap_frames=5))
    for f in range(4):
        assert tracker.update(f, [reading("7ABC123", 100 + 10 * f)]) == []
    assert tracker.advance(8) == []
    done = tracker.advance(9)
    assert [p.consensus.text for p in done] == ["7ABC123"]
    assert (done[0].first_frame, done[0].last_frame, done[0].sightings) == (0, 3, 4)
    assert tracker.open_tracks == 0 and tracker.flush() == []


def test_the_best_sighting_is_the_clearest_and_its_frame_is_kept_while_open():
    tracker = PlateTracker()
    widths_confs = [(40, 0.95), (120, 0.9), (130, 0.6), (60, 0.9)]
    for f, (w, conf) in enumerate(widths_confs):
        tracker.update(f, [reading("7ABC123", 100 + 5 * f, w=w, conf=conf)])
        assert len(tracker.best_frames()) == 1
    assert tracker.best_frames() == {1}  # a 40 px crop reads well but shows a person little
    (p,) = tracker.flush()
    assert p.best.frame == 1 and p.best.reading.box[2] - p.best.reading.box[0] == 120


@pytest.mark.parametrize("a, b, expected", [
    ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
    ((0, 0, 10, 10), (5, 0, 15, 10), 1 / 3),
    ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),
])
def test_iou(a, b, expected):
    assert iou(a, b) == pytest.approx(expected)


@pytest.mark.parametrize("a, b, low, high", [
    ("7ABC123", "7ABC123", 1.0, 1.0),
    ("78C123", "78C123", 1.0, 1.0),
    ("7ABC123", "7ABC12", 0.9, 0.95),
    ("7ABC123", "4XYZ987", 0.0, 0.2),
    ("", "7ABC123", 0.0, 0.0),
])
def test_text_similarity(a, b, low, high):
    assert low <= text_similarity(a, b) <= high


def test_a_vehicle_that_stays_is_reported_while_in_view_and_not_again_when_it_leaves():
    tracker = PlateTracker(TrackerConfig(max_gap_frames=10, repeat_window_frames=50, report_open_after_frames=20))
    parked = [(f, [reading("7ABC123", 300)]) for f in range(0, 100, 2)]
    reported_at = [f for f, rs in parked for _ in tracker.update(f, rs)]
    assert reported_at == [20]  # once, while it is still there
    assert tracker.flush() == []  # leaving (or the stream ending) does not report it twice
    # Without the setting, the same vehicle is reported once when it leaves.
    tracker = PlateTracker(TrackerConfig(max_gap_frames=10, repeat_window_frames=50))
    assert [p for f, rs in parked for p in tracker.update(f, rs)] == []
    assert [p.consensus.text for p in tracker.flush()] == ["7ABC123"]
