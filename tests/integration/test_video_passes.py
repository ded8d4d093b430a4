"""Video: one line per vehicle pass (mp4 and mkv), motion gating that keeps a static scene off the reader."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import pytest

from openrtcc.adapters.alpr.reader import OnnxPlateReader, ReaderOptions
from openrtcc.adapters.video.motion import MotionGate, MotionSettings
from openrtcc.adapters.video.video_frames import VideoSource
from openrtcc.domain.plates import lookalike_key
from openrtcc.services.plate_passes import PassOptions, PassStats, find_passes
from tests.alpr_cli import MODELS, VIDEO, assert_contract, require_alpr_files, run_read, us_photo


@pytest.fixture(scope="module")
def reader() -> OnnxPlateReader:
    require_alpr_files()
    return OnnxPlateReader.from_dir(MODELS, ReaderOptions(threads=1))


def remux(target: Path, until_s: float | None = None) -> Path:
    """cars.mp4's video, packet for packet, into another container (mkv by the name), optionally cut."""
    with av.open(str(VIDEO)) as src, av.open(str(target), "w") as dst:
        stream_in = src.streams.video[0]
        stream_out = dst.add_stream_from_template(stream_in)
        for packet in src.demux(stream_in):
            if packet.dts is None:
                continue
            if until_s is not None and packet.pts is not None and packet.pts * stream_in.time_base > until_s:
                break
            packet.stream = stream_out
            dst.mux(packet)
    return target


def still_clip(target: Path, frames: int = 60, fps: int = 15) -> Path:
    """A static scene: the labelled photo, unchanged, encoded `frames` times to H.264."""
    photo, _ = us_photo()
    image = cv2.resize(cv2.imread(str(photo)), (960, 540))
    with av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 960, 540, "yuv420p"
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        for _ in range(frames):
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return target


def test_an_mkv_gives_one_line_per_vehicle_with_its_media(tmp_path):
    """The first 8 s of cars.mp4 in Matroska: two cars pass the booth, one after the other."""
    clip = remux(tmp_path / "booth.mkv", until_s=8.0)
    media = tmp_path / "media"
    done = run_read(str(clip), "--media-dir", str(media))
    assert done.returncode == 0, done.stderr
    assert len(done.lines) == 2, done.stdout
    frames = [line["frame"] for line in done.lines]
    assert frames == sorted(frames) and len(set(frames)) == 2
    for line in done.lines:
        assert_contract(line)
        assert line["source"] == str(clip) and len(line["plates"]) == 1
        assert line["vehicle"]["type"] is None
        for key in ("crop", "snapshot"):
            assert Path(line[key]).parent == media and Path(line[key]).read_bytes()[:3] == b"\xff\xd8\xff"
        snapshot = cv2.imread(line["snapshot"])
        assert snapshot.shape[:2] == (720, 1280)
        crop = cv2.imread(line["crop"])
        x1, y1, x2, y2 = line["plates"][0]["box"]
        assert x2 - x1 <= crop.shape[1] <= 1.5 * (x2 - x1)
    texts = [lookalike_key(line["plates"][0]["text"]) for line in done.lines]
    assert len(set(texts)) == 2
    # The second car is red, and the colour method says so (the first is white-silver: grey or white).
    assert done.lines[1]["vehicle"]["colour"] == "red"
    assert done.lines[0]["vehicle"]["colour"] in ("grey", "white", None)


@pytest.mark.slow
def test_the_whole_clip_yields_each_vehicle_once(tmp_path):
    done = run_read(str(VIDEO))
    assert done.returncode == 0, done.stderr
    for line in done.lines:
        assert_contract(line)
    texts = [lookalike_key(line["plates"][0]["text"]) for line in done.lines]
    # Three vehicles come to the booth: the white car, the red car and the blue truck.
    assert 3 <= len(done.lines) <= 4, done.stdout
    assert len(set(texts)) == len(texts), texts
    assert "passes" in done.stderr  # the run's figures go to stderr, never stdout


def test_motion_gating_keeps_a_static_scene_off_the_reader(tmp_path, reader):
    clip = still_clip(tmp_path / "still.mp4")
    _, plate = us_photo()
    runs = {}
    for name, settings in (("gated", MotionSettings()), ("ungated", MotionSettings(min_changed=0.0))):
        source = VideoSource(str(clip))
        stats = PassStats()
        passes = list(find_passes(source, reader, MotionGate(settings), PassOptions(fps=source.fps), stats))
        source.close()
        runs[name] = (stats, passes)
    gated, ungated = runs["gated"][0], runs["ungated"][0]
    assert gated.frames == ungated.frames == 60
    assert gated.read_frames == 1  # the first frame is looked at once; nothing moves after it
    assert ungated.read_frames == 60 // PassOptions(fps=15).stride
    # Either way the parked car is one pass, read right.
    for _, passes in runs.values():
        assert [p.vehicle_pass.consensus.text for p in passes] == [plate]
