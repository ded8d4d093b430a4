"""Plate reading at the edge: one camera's decoded frames in, one read per vehicle pass into the durable queue.

The frames are the camera's, sampled (`[plate_reading] frames_per_second`); the owner's privacy masks are
blacked out of each frame before anything looks at it, so neither the reader, nor a crop, nor a snapshot
ever holds a masked area. The passes come from the same code as `rtcc alpr read` (services/plate_passes:
motion gating, tracking, consensus), here with the detector on tiles (far plates keep their pixels), a
look at the scene every second even without motion (a vehicle that stopped in view), and frames read on
several cores at once. Each pass is queued, committed, before the next frame is looked at.

Sharing is decided when a read is queued: a camera whose owner shares its reads with nobody (or whose
policy the hub has not delivered yet) queues its reads as local-only, never to be sent, even if sharing is
turned on later; the forwarder checks again when it sends (see read_forwarder.py).
"""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from pydantic import ValidationError

from openrtcc.adapters.alpr.tiles import TiledReader
from openrtcc.adapters.video.motion import MotionGate
from openrtcc.adapters.video.pass_media import plate_crop
from openrtcc.adapters.video.vehicle_colour import vehicle_look
from openrtcc.adapters.video.video_frames import GATE_STEP
from openrtcc.domain.plates import normalize_plate
from openrtcc.domain.reads import MAX_CANDIDATES, MAX_CROP_BYTES, MAX_SNAPSHOT_BYTES, ReadIn
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.masks import apply_masks
from openrtcc.edge.read_queue import ReadQueue, ReadQueueError
from openrtcc.services.plate_passes import PassFound, PassOptions, PassStats, find_passes

log = logging.getLogger(__name__)

JPEG_QUALITIES = (90, 80, 70, 55, 40)
MAX_BACKLOG = 10_000  # reads held in memory while the queue cannot commit (disk full)
STORAGE_ALARM = "storage_error"
_REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


@dataclass(frozen=True)
class PipelineSettings:
    frames_per_second: float = 6.0  # the sampled frames given to the pipeline (the motion gate sees each)
    # The reader runs on at most this many moving frames a second. Each read covers the frame in tiles (two
    # detector runs at 720p), so 3 reads cost what 6 whole-frame reads did, and a vehicle in view for a
    # second is still read about three times, each time with its plate at twice the pixels.
    reads_per_second: float = 3.0
    idle_reads_per_second: float = 1.0  # looks at a still scene (parked, or too slow for the motion gate)
    workers: int = 2  # frames read at once (one reader session thread each)
    region: str | None = None
    tile_side: int = 720  # the detector reads tiles no larger than this (pixels)
    live: bool = True  # a camera: frames the reader cannot keep up with are skipped rather than queued
    report_open_after_s: float = 30.0  # a vehicle that stays (parked, queueing) is reported without leaving

    def pass_options(self) -> PassOptions:
        return PassOptions(fps=self.frames_per_second, reads_per_second=self.reads_per_second,
                           live=self.live, region_hint=self.region, idle_reads_per_second=self.idle_reads_per_second,
                           workers=self.workers, report_open_after_s=self.report_open_after_s)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def load_reader(model_dir: Path | None, workers: int, threads: int = 0):
    """The plate reader for the box: with several workers, one onnxruntime thread per call (two calls on
    two cores beat one call on two threads for this detector); else the configured threads."""
    from openrtcc.adapters.alpr.reader import build_plate_reader
    from openrtcc.config import Settings

    return build_plate_reader(Settings(onnx_threads=1 if workers > 1 else threads), model_dir)


@dataclass
class _Frame:
    """A sampled frame as find_passes sees it: masked already; the gate's small grey image made on demand."""

    index: int
    time_s: float
    captured_at: datetime
    image: np.ndarray

    def bgr(self) -> np.ndarray:
        return self.image

    def grey_small(self) -> np.ndarray:
        h, w = self.image.shape[:2]
        grey = cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY)
        return cv2.resize(grey, (max(1, w // GATE_STEP), max(1, h // GATE_STEP)), interpolation=cv2.INTER_AREA)


@dataclass
class PlatePipeline:
    """`run(frames)` for one camera: (BGR image, captured_at) pairs, as edge/frames.decode_frames yields."""

    camera_id: str
    reader: object  # domain PlateReader (OnnxPlateReader): TiledReader wraps it here
    masks: Callable[[], tuple]  # the camera's privacy masks now (PolicyGate.masks bound to the camera)
    recipients: Callable[[], tuple[str, ...]]  # PolicyGate.read_recipients bound to the camera
    queue: ReadQueue
    now: Callable[[], datetime]
    settings: PipelineSettings = PipelineSettings()
    alarms: Alarms | None = None
    on_read: Callable[[], None] | None = None  # e.g. wake the forwarder
    stats: PassStats = field(default_factory=PassStats)
    queued: int = 0
    _backlog: list[ReadIn] = field(default_factory=list)
    _times: dict[int, datetime] = field(default_factory=dict)  # sampled frame -> when it was captured

    def run(self, frames: Iterable[tuple[np.ndarray, datetime]],
            should_stop: Callable[[], bool] = lambda: False) -> PassStats:
        reader = TiledReader(self.reader, self.settings.tile_side)
        masked = self._masked(frames)
        for found in find_passes(masked, reader, MotionGate(), self.settings.pass_options(), self.stats,
                                 should_stop=should_stop):
            read = self._read_of(found)
            if read is not None:
                self._enqueue(read)
        self._retry_backlog()
        return self.stats

    def _masked(self, frames: Iterable[tuple[np.ndarray, datetime]]) -> Iterator[_Frame]:
        for index, (image, captured_at) in enumerate(frames):
            apply_masks(image, self.masks())  # before the gate, the reader and any crop see the frame
            self._times[index] = captured_at
            if len(self._times) > 4096:
                del self._times[next(iter(self._times))]
            yield _Frame(index, captured_at.timestamp(), captured_at, image)

    def _read_of(self, found: PassFound) -> ReadIn | None:
        p = found.vehicle_pass
        c = p.consensus
        captured_at = self._times.get(p.best.frame) or self.now()
        candidates = [{"text": t.text, "confidence": t.confidence} for t in c.candidates if _valid_plate(t.text)]
        region = c.region if c.region and _REGION.match(c.region) else None
        fields = dict(read_id="unnumbered", camera_id=self.camera_id, plate=c.text, region=region,
                      confidence=c.confidence, candidates=candidates[:MAX_CANDIDATES], captured_at=captured_at)
        if found.image is not None:
            box = p.best.reading.box
            fields["crop"] = _jpeg(plate_crop(found.image, box), MAX_CROP_BYTES)
            fields["snapshot"] = _jpeg(found.image, MAX_SNAPSHOT_BYTES)
            fields["vehicle_colour"] = vehicle_look(found.image, box).colour
        try:
            return ReadIn.model_validate(fields)
        except ValidationError as exc:
            log.warning("camera %s: a pass's read is not a valid read, not queued: %s", self.camera_id,
                        exc.errors(include_url=False, include_input=False)[0]["msg"])
            return None

    def _enqueue(self, read: ReadIn) -> None:
        self._backlog.append(read)
        self._retry_backlog()

    def _retry_backlog(self) -> None:
        while self._backlog:
            read = self._backlog[0]
            try:
                self.queue.enqueue(self.camera_id, read, shared=bool(self.recipients()), now=self.now())
            except ReadQueueError as exc:
                self._cannot_store(exc)
                return
            self._backlog.pop(0)
            self.queued += 1
            if self.alarms is not None:
                self.alarms.clear(STORAGE_ALARM, self.camera_id)
            if self.on_read is not None:
                self.on_read()

    def _cannot_store(self, exc: ReadQueueError) -> None:
        """The queue cannot commit (disk full): hold the reads in memory, alarm, try again with the next."""
        if len(self._backlog) > MAX_BACKLOG:
            lost = len(self._backlog) - MAX_BACKLOG
            del self._backlog[:lost]
            log.error("camera %s: %d plate reads lost: the read queue cannot store them (%s)", self.camera_id,
                      lost, exc)
        message = f"plate reads cannot be stored ({len(self._backlog)} held in memory): {exc}"
        if self.alarms is not None:
            self.alarms.raise_(STORAGE_ALARM, message[:300], self.camera_id)
        else:
            log.error("camera %s: %s", self.camera_id, message)


def _valid_plate(text: str) -> bool:
    try:
        normalize_plate(text)
        return True
    except Exception:  # InvalidInput: a candidate the hub would refuse is left out, not the whole read
        return False


def _jpeg(image: np.ndarray, limit: int) -> str | None:
    """Base64 JPEG within `limit` bytes: lower quality first, then a smaller image."""
    for scale in (1.0, 0.5, 0.25):
        img = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        for quality in JPEG_QUALITIES:
            ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok and len(data) <= limit:
                return base64.b64encode(data.tobytes()).decode()
    return None
