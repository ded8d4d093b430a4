"""Clip export from the box's encrypted segments: remuxed from the keyframe at or before the start, or
decoded, masked and encoded when the owner has privacy masks; the SHA-256 is of the bytes written; shredded,
tampered or missing footage is a clear error and no clip."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import av
import numpy as np
import pytest

from openrtcc.domain.privacy_masks import PrivacyMask
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.clip_export import ClipError, export_clip
from openrtcc.edge.segment_store import SegmentStore
from tests.edge_storage import CARS, Budget, EdgeClock, record_clip, require_sample_clip



@pytest.fixture(autouse=True)
def _sample_clip():
    require_sample_clip()

TOP_LEFT_QUARTER = PrivacyMask(((0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    clock = EdgeClock()
    store = SegmentStore(tmp_path_factory.mktemp("edge"), Budget(), Alarms(clock.now), clock)
    segments = record_clip(store, "cam1", clock.now())
    yield store, clock.now(), segments
    store.close()


def source_packet_times() -> list[tuple[float, bool, int]]:
    with av.open(str(CARS)) as c:
        s = c.streams.video[0]
        pkts = [p for p in c.demux(s) if p.dts is not None]
        p0 = pkts[0].pts
        return [((p.pts - p0) * float(s.time_base), p.is_keyframe, p.size) for p in pkts]


def decoded(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(c.streams.video[0])]


def test_a_clip_is_remuxed_from_the_keyframe_before_its_start(recorded):
    store, t0, _ = recorded
    out = io.BytesIO()
    clip = export_clip(store, "cam1", t0 + timedelta(seconds=5), t0 + timedelta(seconds=9), [], out)
    data = out.getvalue()
    assert clip.size_bytes == len(data) and clip.sha256 == hashlib.sha256(data).hexdigest()
    times = source_packet_times()
    key_before = max(t for t, key, _ in times if key and t <= 5)
    assert clip.started_at == t0 + timedelta(seconds=key_before)  # 3.43 s: whole GOP kept, nothing decoded
    expected = [(t, size) for t, _, size in times if key_before <= t <= 9]
    assert clip.ended_at == t0 + timedelta(seconds=expected[-1][0])
    with av.open(io.BytesIO(data)) as c:
        stream = c.streams.video[0]
        ctx = stream.codec_context
        assert (ctx.name, ctx.width, ctx.height) == ("h264", 1280, 720)
        packets = [p for p in c.demux(stream) if p.size]
        duration = float((packets[-1].pts - packets[0].pts) * stream.time_base)
    assert len(packets) == len(expected)
    assert duration == pytest.approx(expected[-1][0] - key_before, abs=0.01)
    # Not transcoded: the same compressed bytes, give or take the container's start codes.
    assert abs(sum(p.size for p in packets) - sum(s for _, s in expected)) < 0.01 * sum(s for _, s in expected)
    with av.open(io.BytesIO(data)) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) == len(expected)  # every frame decodes


def test_a_clip_to_a_path_across_segments_matches_its_sha256(recorded, tmp_path):
    store, t0, segments = recorded
    path = tmp_path / "clip.mp4"
    clip = export_clip(store, "cam1", t0, t0 + timedelta(seconds=30), [], path)
    assert clip.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert clip.size_bytes == path.stat().st_size
    with av.open(str(path)) as c:
        assert sum(1 for p in c.demux(c.streams.video[0]) if p.size) == sum(r.packets for r in segments)


def test_masks_are_black_in_every_exported_frame(recorded):
    store, t0, _ = recorded
    out = io.BytesIO()
    # 6.0-7.5 s spans two segments (a keyframe starts one at 6.97 s).
    clip = export_clip(store, "cam1", t0 + timedelta(seconds=6), t0 + timedelta(seconds=7.5), [TOP_LEFT_QUARTER],
                       out)
    assert clip.sha256 == hashlib.sha256(out.getvalue()).hexdigest()
    in_range = [t for t, _, _ in source_packet_times() if 6 <= t <= 7.5]
    assert (clip.started_at - t0).total_seconds() == pytest.approx(in_range[0], abs=1e-3)  # cut at the exact start
    frames = decoded(out.getvalue())
    assert len(frames) == len(in_range)  # every frame in the range, across the segment boundary
    for f in frames:
        assert f.shape == (720, 1280, 3)
        assert f[8:352, 8:632].max() <= 24  # black, give or take the encoder
        assert f[400:, 700:].mean() > 40  # the rest of the picture is there


def test_nothing_recorded_a_bad_range_or_another_camera_is_a_clear_error(recorded, tmp_path):
    store, t0, _ = recorded
    cases = [("cam1", t0 - timedelta(hours=2), t0 - timedelta(hours=1), "nothing_recorded"),
             ("cam9", t0, t0 + timedelta(seconds=5), "nothing_recorded"),
             ("cam1", t0 + timedelta(seconds=5), t0, "bad_range"),
             ("cam1", t0, t0 + timedelta(days=2), "bad_range")]
    for camera, start, end, code in cases:
        path = tmp_path / f"{code}.mp4"
        with pytest.raises(ClipError) as info:
            export_clip(store, camera, start, end, [], path)
        assert info.value.code == code
        assert not path.exists() and not list(tmp_path.glob("*.part"))


def test_shredded_or_tampered_footage_is_never_exported(tmp_path):
    clock = EdgeClock()
    store = SegmentStore(tmp_path / "edge", Budget(), Alarms(clock.now), clock)
    try:
        t0 = clock.now()
        day1 = record_clip(store, "cam1", t0, max_segments=3)
        record_clip(store, "cam1", t0 + timedelta(days=1), max_segments=1)
        seg_path = store.path_of(day1[2].segment)
        raw = bytearray(seg_path.read_bytes())
        raw[-100] ^= 0xFF
        seg_path.write_bytes(bytes(raw))
        out = io.BytesIO()
        with pytest.raises(ClipError) as info:
            export_clip(store, "cam1", t0, t0 + timedelta(seconds=20), [], out)
        assert info.value.code == "tampered" and out.getvalue() == b""  # checked before a byte is written
        # The untouched part of the day still exports.
        assert export_clip(store, "cam1", t0, t0 + timedelta(seconds=2), [], io.BytesIO()).size_bytes > 0

        store.day_keys.destroy(t0.date())
        with pytest.raises(ClipError) as info:
            export_clip(store, "cam1", t0, t0 + timedelta(seconds=2), [], tmp_path / "c.mp4")
        assert info.value.code == "day_shredded" and "2026-11-20" in info.value.message
        assert not (tmp_path / "c.mp4").exists()
        assert export_clip(store, "cam1", t0 + timedelta(days=1), t0 + timedelta(days=1, seconds=2), [],
                           io.BytesIO()).size_bytes > 0
    finally:
        store.close()
