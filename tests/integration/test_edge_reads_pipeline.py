"""The box's plate pipeline on the sample clip with the real models: one read per vehicle, committed to the
real queue with its images; privacy masks black before anything is read; a full queue alarms and loses
nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from openrtcc.adapters.alpr.reader import OnnxPlateReader, ReaderOptions
from openrtcc.bench.edge_alpr import file_frames
from openrtcc.domain.plates import lookalike_key
from openrtcc.domain.privacy_masks import validate_mask
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.plate_pipeline import PipelineSettings, PlatePipeline
from openrtcc.domain.reads import ReadIn
from openrtcc.edge.read_queue import ReadQueue, ReadQueueError
from tests.alpr_cli import MODELS, VIDEO, require_alpr_files
from tests.plate_reads import JPEG, b64

# The first 8.5 s (stream time 1.28-9.7 s): the silver car waits at the booth, then the red car comes up.
FIRST_CARS = 9.7
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SETTINGS = PipelineSettings(live=False, workers=2)
# Over the silver car's plate, where it stands at the booth (x 0.34-0.46, y 0.90-0.99 of the frame).
PLATE_MASK = validate_mask([[0.30, 0.84], [0.50, 0.84], [0.50, 1.0], [0.30, 1.0]])
# Over the toll booth's window, where no plate passes.
BOOTH_MASK = validate_mask([[0.10, 0.15], [0.35, 0.15], [0.35, 0.55], [0.10, 0.55]])


@pytest.fixture(scope="module")
def reader() -> OnnxPlateReader:
    require_alpr_files()
    return OnnxPlateReader.from_dir(MODELS, ReaderOptions(threads=1))


def pipeline(reader, queue, masks=(), shared=True, alarms=None, live=False) -> PlatePipeline:
    return PlatePipeline("cam-1", reader, lambda: tuple(masks), lambda: ("agency-1",) if shared else (), queue,
                         lambda: NOW, replace(SETTINGS, live=live), alarms=alarms)


def jpeg(data: bytes) -> np.ndarray:
    assert data[:3] == b"\xff\xd8\xff"
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def clock_set_back(frames, at_s: float, by: timedelta):
    """The box's wall clock set back (NTP, an operator) while the camera streams: later frames are stamped
    earlier."""
    first = None
    for image, captured_at in frames:
        first = first or captured_at
        yield image, captured_at - by if (captured_at - first).total_seconds() > at_s else captured_at


@pytest.mark.slow
def test_each_car_is_one_read_in_the_queue_with_its_crop_and_snapshot(reader, tmp_path):
    queue = ReadQueue(tmp_path / "reads.db")
    pipe = pipeline(reader, queue, masks=[BOOTH_MASK], live=True)
    # As a live camera (frames the reader cannot keep up with are skipped); the clock jumps back an hour
    # between the two cars, which must not make every later frame look late.
    frames = file_frames(VIDEO, 1 / SETTINGS.frames_per_second, until_s=FIRST_CARS)
    pipe.run(clock_set_back(frames, 4.0, timedelta(hours=1)))
    reads = queue.peek("edge-1", 100)
    assert [lookalike_key(q.read.plate) for q in reads] == [lookalike_key("34A36837"), lookalike_key("34A23126")]
    assert [q.read.read_id for q in reads] == ["edge-1:cam-1:1", "edge-1:cam-1:2"]
    for q in reads:
        r = q.read
        assert r.camera_id == "cam-1" and r.confidence >= 0.7 and r.candidates[0].text == r.plate
        assert r.captured_at.tzinfo is not None
        crop, snapshot = jpeg(r.crop), jpeg(r.snapshot)
        assert snapshot.shape[:2] == (720, 1280)
        booth = snapshot[int(0.17 * 720):int(0.53 * 720), int(0.12 * 1280):int(0.33 * 1280)]
        assert booth.max() < 30, "the privacy mask is not black in the snapshot"
        assert snapshot[int(0.17 * 720):int(0.53 * 720), int(0.37 * 1280):int(0.6 * 1280)].mean() > 40
        assert 60 <= crop.shape[1] <= 250 and crop.shape[0] < crop.shape[1]
    assert reads[1].read.captured_at < reads[0].read.captured_at  # stamped after the clock went back
    assert reads[1].read.vehicle_colour == "red"


def test_a_masked_plate_is_never_read(reader, tmp_path):
    """The silver car at the booth, read in these 2.5 s when unmasked (see the next test), under a mask."""
    queue = ReadQueue(tmp_path / "reads.db")
    pipe = pipeline(reader, queue, masks=[PLATE_MASK])
    pipe.run(file_frames(VIDEO, 1 / SETTINGS.frames_per_second, until_s=2.5))
    assert pipe.stats.read_frames > 0 and queue.peek("edge-1", 100) == []


def test_a_full_queue_raises_an_alarm_and_the_read_waits_in_memory(reader, tmp_path):
    queue = ReadQueue(tmp_path / "reads.db", max_page_count=200)  # 800 KiB: a few snapshots
    filler = []
    big = b64(JPEG[:-2] + b"\x00" * 30_000 + JPEG[-2:])
    with pytest.raises(ReadQueueError):
        while True:
            read = ReadIn(read_id="x", camera_id="cam-0", plate="FILL1", confidence=0.9, captured_at=NOW, snapshot=big)
            filler.append(queue.enqueue("cam-0", read, shared=True, now=NOW))
    alarms = Alarms(lambda: NOW)
    pipe = pipeline(reader, queue, alarms=alarms)
    pipe.run(file_frames(VIDEO, 1 / SETTINGS.frames_per_second, until_s=2.5))  # the silver car at the booth
    assert alarms.is_active("storage_error", "cam-1")
    assert [q.camera_id for q in queue.peek("edge-1", 1000)] == ["cam-0"] * len(filler)
    # Space comes back (the filler is delivered): the held read is committed at the next chance.
    queue.delivered([q.row_id for q in queue.peek("edge-1", 1000)])
    pipe.run(iter(()))
    assert [lookalike_key(q.read.plate) for q in queue.peek("edge-1", 10)] == [lookalike_key("34A36837")]
    assert not alarms.is_active("storage_error", "cam-1")
