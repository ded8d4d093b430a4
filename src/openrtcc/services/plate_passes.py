"""Frames in, vehicle passes out: motion gating, a decimated plate reader, tracking and consensus."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from openrtcc.domain.ports import PlateReader
from openrtcc.domain.tracking import PlateTracker, TrackerConfig, VehiclePass

log = logging.getLogger(__name__)

TIMELINE_JUMP_S = 10.0


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
    # Without motion the reader still looks this often (0: never): a vehicle that stopped in view, or one
    # too far away for the gate to notice it moving, is still read. Keep it above 1 / gap_s, so that a
    # parked vehicle's pass stays open between looks instead of closing after each.
    idle_reads_per_second: float = 0.0
    report_open_after_s: float | None = None  # a vehicle in view this long is reported before it leaves
    workers: int = 1  # frames read at once, each on its own core (the reader must take concurrent calls)

    def tracker_config(self) -> TrackerConfig:
        after = None if self.report_open_after_s is None else max(1, round(self.report_open_after_s * self.fps))
        return TrackerConfig(max_gap_frames=max(2, round(self.gap_s * self.fps)),
                             repeat_window_frames=round(self.repeat_window_s * self.fps),
                             report_open_after_frames=after)

    @property
    def stride(self) -> int:
        return max(1, round(self.fps / self.reads_per_second))

    @property
    def idle_stride(self) -> int | None:
        return max(1, round(self.fps / self.idle_reads_per_second)) if self.idle_reads_per_second > 0 else None


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
class _Step:
    """A frame's place in the tracker's order: its reading (None: the reader skipped it) may still be running."""

    index: int
    image: object = None
    readings: Future | None = None


@dataclass
class _Run:
    options: PassOptions
    tracker: PlateTracker
    stats: PassStats
    pool: ThreadPoolExecutor | None = None
    kept: dict[int, object] = field(default_factory=dict)  # frame index -> image, for open passes' best
    steps: deque = field(default_factory=deque)  # frames not yet given to the tracker, in order
    in_flight: int = 0
    last_read: int | None = None
    started: float = 0.0
    promptest: float | None = None  # live: the smallest (arrival - stream time) seen


def find_passes(frames: Iterable[Frame], reader: PlateReader, gate: MotionGate, options: PassOptions,
                stats: PassStats | None = None, should_stop: Callable[[], bool] = lambda: False,
                monotonic: Callable[[], float] = time.monotonic) -> Iterator[PassFound]:
    """Yields each pass as soon as it completes (its plate unseen for `gap_s`), the rest when the frames
    end or `should_stop()` turns true. Static frames never reach the reader; moving ones do at most
    `reads_per_second`, so a busy scene costs a bounded amount and an empty one almost nothing."""
    pool = ThreadPoolExecutor(options.workers, "plate-reader") if options.workers > 1 else None
    run = _Run(options, PlateTracker(options.tracker_config()), stats or PassStats(), pool, started=monotonic())
    try:
        for frame in frames:
            run.stats.frames += 1
            _step(run, frame, reader, gate, monotonic)
            # Several frames may be in the reader at once; the tracker takes them in frame order.
            yield from _found(run, _track(run, max_in_flight=2 * options.workers - 1))
            if should_stop():
                log.info("stopping: finishing the passes in progress")
                break
        yield from _found(run, _track(run, max_in_flight=0))
        yield from _found(run, run.tracker.flush())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        run.stats.seconds = monotonic() - run.started


def _step(run: _Run, frame: Frame, reader: PlateReader, gate: MotionGate, monotonic: Callable[[], float]) -> None:
    behind = run.options.live and _behind(run, frame, monotonic)
    moving = gate.has_motion(frame.grey_small())
    run.stats.motion_frames += moving
    stride = run.options.stride if moving else run.options.idle_stride
    if stride is None or (run.last_read is not None and frame.index - run.last_read < stride):
        run.steps.append(_Step(frame.index))
        return
    if behind:
        run.stats.lag_skipped += 1
        run.steps.append(_Step(frame.index))
        return
    image = frame.bgr()
    run.stats.read_frames += 1
    run.last_read = frame.index
    run.in_flight += 1
    run.steps.append(_Step(frame.index, image, _submit(run, reader, image, monotonic)))


def _submit(run: _Run, reader: PlateReader, image, monotonic: Callable[[], float]) -> Future:
    def read():
        began = monotonic()
        readings = reader.read(image, run.options.region_hint)
        return readings, monotonic() - began

    if run.pool is not None:
        return run.pool.submit(read)
    done: Future = Future()
    done.set_result(read())
    return done


def _track(run: _Run, max_in_flight: int) -> list[VehiclePass]:
    """Give the tracker every frame whose reading is done, in order, waiting for the oldest readings
    while more than `max_in_flight` are running."""
    done: list[VehiclePass] = []
    while run.steps:
        step = run.steps[0]
        if step.readings is None:
            done += run.tracker.advance(step.index)
        elif step.readings.done() or run.in_flight > max_in_flight:
            readings, seconds = step.readings.result()
            run.in_flight -= 1
            run.stats.read_seconds += seconds
            done += run.tracker.update(step.index, readings)
            if step.index in run.tracker.best_frames():
                run.kept[step.index] = step.image
        else:
            break
        run.steps.popleft()
    return done


def _behind(run: _Run, frame: Frame, monotonic: Callable[[], float]) -> bool:
    """Live streams arrive in real time: when this frame is handled later after its capture than the
    promptest frame so far was, by more than max_lag_s, reading it would only grow the backlog. (Relative
    to the promptest frame, because a stream's clock starts anywhere and may jump.)"""
    offset = monotonic() - frame.time_s
    if run.promptest is not None and offset - run.promptest > run.options.max_lag_s + TIMELINE_JUMP_S:
        # Skipping keeps a real backlog near max_lag_s, so a lag this large is the clock jumping back (the
        # stream's timestamps reset, the wall clock set back): a new timeline, not frames to skip forever.
        run.promptest = offset
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
