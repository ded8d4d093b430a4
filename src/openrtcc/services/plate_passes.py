"""Frames in, vehicle passes out: motion gating, a decimated plate reader, tracking and consensus."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from openrtcc.domain.ports import PlateReader
from openrtcc.domain.tracking import PlateTracker, TrackerConfig, VehiclePass

log = logging.getLogger(__name__)


class Frame(Protocol):
    index: int
    time_s: float

    def bgr(self) -> object: ...
    def grey_small(self) -> object: ...


class MotionGate(Protocol):
    def has_motion(self, grey_small: object) -> bool: ...


@dataclass(frozen=True)
class PassOptions:
    fps: float = 15.0  # the source's frame rate: sets the reader's stride and the tracker's gap
    reads_per_second: float = 8.0  # the reader runs on at most this many frames per second of video
    live: bool = False  # a live stream: frames the reader cannot keep up with are skipped, not queued
    max_lag_s: float = 1.0  # live only: how far the reader may fall behind the stream before it skips
    region_hint: str | None = None
    gap_s: float = 1.5  # a plate unseen this long has gone: its pass completes
    repeat_window_s: float = 10.0  # the same plate completing again this soon is the same vehicle

    def tracker_config(self) -> TrackerConfig:
        return TrackerConfig(max_gap_frames=max(2, round(self.gap_s * self.fps)),
                             repeat_window_frames=round(self.repeat_window_s * self.fps))

    @property
    def stride(self) -> int:
        return max(1, round(self.fps / self.reads_per_second))


@dataclass
class PassStats:
    frames: int = 0  # decoded
    motion_frames: int = 0  # the gate saw motion
    read_frames: int = 0  # the plate reader ran
    lag_skipped: int = 0  # live: motion, but the reader was behind
    passes: int = 0
    read_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class PassFound:
    """A completed pass and the full frame of its best sighting (the image the plate box refers to)."""

    vehicle_pass: VehiclePass
    image: object


@dataclass
class _Run:
    options: PassOptions
    tracker: PlateTracker
    stats: PassStats
    kept: dict[int, object] = field(default_factory=dict)  # frame index -> image, for open passes' best
    last_read: int | None = None
    started: float = 0.0
    promptest: float | None = None  # live: the smallest (arrival - stream time) seen


def find_passes(frames: Iterable[Frame], reader: PlateReader, gate: MotionGate, options: PassOptions,
                stats: PassStats | None = None, should_stop: Callable[[], bool] = lambda: False,
                monotonic: Callable[[], float] = time.monotonic) -> Iterator[PassFound]:
    """Yields each pass as soon as it completes (its plate unseen for `gap_s`), the rest when the frames
    end or `should_stop()` turns true. Static frames never reach the reader; moving ones do at most
    `reads_per_second`, so a busy scene costs a bounded amount and an empty one almost nothing."""
    run = _Run(options, PlateTracker(options.tracker_config()), stats or PassStats(), started=monotonic())
    try:
        for frame in frames:
            run.stats.frames += 1
            yield from _found(run, _step(run, frame, reader, gate, monotonic))
            if should_stop():
                log.info("stopping: finishing the passes in progress")
                break
        yield from _found(run, run.tracker.flush())
    finally:
        run.stats.seconds = monotonic() - run.started


def _step(run: _Run, frame: Frame, reader: PlateReader, gate: MotionGate,
          monotonic: Callable[[], float]) -> list[VehiclePass]:
    behind = run.options.live and _behind(run, frame, monotonic)
    if not gate.has_motion(frame.grey_small()):
        return run.tracker.advance(frame.index)
    run.stats.motion_frames += 1
    if run.last_read is not None and frame.index - run.last_read < run.options.stride:
        return run.tracker.advance(frame.index)
    if behind:
        run.stats.lag_skipped += 1
        return run.tracker.advance(frame.index)
    image = frame.bgr()
    began = monotonic()
    readings = reader.read(image, run.options.region_hint)
    run.stats.read_seconds += monotonic() - began
    run.stats.read_frames += 1
    run.last_read = frame.index
    done = run.tracker.update(frame.index, readings)
    if frame.index in run.tracker.best_frames():
        run.kept[frame.index] = image
    return done


def _behind(run: _Run, frame: Frame, monotonic: Callable[[], float]) -> bool:
    """Live streams arrive in real time: when this frame is handled later after its capture than the
    promptest frame so far was, by more than max_lag_s, reading it would only grow the backlog. (Relative
    to the promptest frame, because a stream's clock starts anywhere and may jump.)"""
    offset = monotonic() - frame.time_s
    run.promptest = offset if run.promptest is None else min(run.promptest, offset)
    return offset - run.promptest > run.options.max_lag_s


def _found(run: _Run, done: list[VehiclePass]) -> Iterator[PassFound]:
    for p in done:
        run.stats.passes += 1
        image = run.kept.get(p.best.frame)
        yield PassFound(p, image)
    if done or len(run.kept) > run.tracker.open_tracks:
        wanted = run.tracker.best_frames()
        run.kept = {i: img for i, img in run.kept.items() if i in wanted}
