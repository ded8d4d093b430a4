"""The live encoder's HLS segments: an init segment, then ~0.5 s fMP4 fragments that each start on a keyframe
and decode (after the init segment) on their own, numbered from 0, with their durations."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from openrtcc.edge.hls_segmenter import HlsSegmenter, live_size


def _frame(i: int, width: int, height: int) -> av.VideoFrame:
    img = np.zeros((height, width, 3), np.uint8)
    img[:, : width // 2] = (i * 7) % 200 + 40  # changes each frame, so the encoder has something to code
    img[:, width // 2:] = 255
    return av.VideoFrame.from_ndarray(img, format="bgr24")


def _encode(frames: int, width: int, height: int, rate: float) -> list:
    seg = HlsSegmenter(width, height, frame_rate=rate, segment_seconds=0.5)
    out = []
    for i in range(frames):
        out += seg.push(_frame(i, width, height), i / rate)
    return out + seg.close()


def _decode(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data), "r", format="mp4") as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def test_init_then_numbered_half_second_segments_that_decode_to_every_frame():
    segments = _encode(45, 320, 240, 15.0)  # 3 s at 15 fps
    assert segments[0].seq is None and segments[0].name == "init"
    assert segments[0].data[4:8] == b"ftyp" and b"moov" in segments[0].data
    media = segments[1:]
    assert [s.seq for s in media] == list(range(len(media)))
    assert all(s.data[4:8] == b"moof" for s in media)
    assert 5 <= len(media) <= 6
    for s in media[:-1]:
        assert 0.45 <= s.duration_s <= 0.6, s.duration_s
    assert sum(s.duration_s for s in media) == pytest.approx(3.0, abs=0.01)
    frames = _decode(segments[0].data + b"".join(s.data for s in media))
    assert len(frames) == 45
    for s in media:  # each segment starts on a keyframe: init + that segment alone decodes
        assert len(_decode(segments[0].data + s.data)) == round(s.duration_s * 15)


def test_segments_follow_frame_time_not_frame_count():
    # 30 fps stamped frames: still ~0.5 s per segment (a keyframe is forced by time)
    media = _encode(60, 160, 120, 30.0)[1:]
    assert 4 <= len(media) <= 5
    assert all(0.45 <= s.duration_s <= 0.55 for s in media[:-1])


def test_wide_sources_are_scaled_to_1280_and_sizes_are_even():
    assert live_size(1920, 1080) == (1280, 720)
    assert live_size(2560, 1441) == (1280, 720)
    assert live_size(641, 361) == (640, 360)
    segments = _encode(4, 1920, 1080, 15.0)
    frames = _decode(b"".join(s.data for s in segments))
    assert frames[0].shape == (720, 1280, 3)


def test_timestamps_that_go_backwards_still_give_a_playable_stream():
    seg = HlsSegmenter(160, 120, frame_rate=15.0)
    out = []
    for i, t in enumerate([0.0, 0.066, 0.133, 0.1, 0.1, 5.0, 0.2] + [5.0 + k / 15 for k in range(1, 15)]):
        out += seg.push(_frame(i, 160, 120), t)
    out += seg.close()
    assert len(_decode(b"".join(s.data for s in out))) == 21
