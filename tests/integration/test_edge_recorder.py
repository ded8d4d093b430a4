"""The recorder against the real RTSP camera server and the real encrypted segment store: segments that
decode back with the camera's own packets (no transcoding), cut at keyframes; a full disk; a camera that
restarts."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import av
import pytest

from openrtcc.domain.clock import SystemClock
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.capture import CameraCapture, CaptureOptions
from openrtcc.edge.recorder import Recorder
from openrtcc.edge.segment_store import SegmentStore
from tests.edge_storage import Budget
from tests.integration.test_edge_capture import free_port, until
from tests.rtsp import rtsp_server, start_camera_server  # noqa: F401  (the fixture)

AUD = b"\x00\x00\x00\x01\x09\xf0"  # the access unit delimiter MPEG-TS puts before each H.264 frame
FAST = CaptureOptions(open_timeout_s=1.0, read_timeout_s=2.0, backoff_first_s=0.2, backoff_max_s=1.0)


@pytest.fixture
def alarms():
    return Alarms(SystemClock().now)


@pytest.fixture
def store(tmp_path, alarms):
    s = SegmentStore(tmp_path / "edge", Budget(), alarms, SystemClock())
    yield s
    s.close()


class Collector:
    """Another consumer of the same camera: every packet it received, as bytes by timestamp."""

    def __init__(self, capture):
        self.sub = capture.subscribe(max_queue=10_000)
        self.packets: dict[int, bytes] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.sub.closed:
            item = self.sub.get(timeout=0.2)
            if item is not None:
                self.packets[item.pts] = bytes(item.packet)

    def stop(self):
        self.sub.close()
        self.thread.join(2)


def read_segment(store, segment):
    """(codec context, [(pts, keyframe, bytes)], decoded frame count) of a stored segment."""
    with av.open(store.open_plaintext(segment), format="mpegts") as c:
        stream = c.streams.video[0]
        packets = [(p.pts, p.is_keyframe, bytes(p)) for p in c.demux(stream) if p.size]
        ctx = stream.codec_context
        width, height, name, tb = ctx.width, ctx.height, ctx.name, stream.time_base
    decoder = av.CodecContext.create("h264", "r")
    frames = sum(len(decoder.decode(av.Packet(data))) for _, _, data in packets) + len(decoder.decode(None))
    return (name, width, height, tb), packets, frames


def test_segments_hold_the_cameras_own_packets_cut_at_keyframes(rtsp_server, store, alarms):  # noqa: F811
    clock = SystemClock()
    capture = CameraCapture("cam-r1", rtsp_server.url("pattern"), clock, alarms).start()
    recorder = Recorder(capture, store, 0.5, clock, alarms).start()  # /pattern: a keyframe every second
    collector = Collector(capture)
    try:
        assert until(lambda: recorder.stats.segments >= 2, 15)
    finally:
        recorder.stop()
        collector.stop()
        capture.stop()
    segments = store.segments("cam-r1")
    assert len(segments) >= 3 and all(s.complete for s in segments)
    assert recorder.stats.errors == 0 and recorder.stats.segments == len(segments)
    for earlier, later in zip(segments, segments[1:]):
        assert earlier.ended_at == later.started_at  # continuous: one segment ends where the next begins
    for n, segment in enumerate(segments):
        codec, packets, frames = read_segment(store, segment)
        assert codec[:3] == ("h264", 1280, 720)
        assert frames == len(packets)  # every packet decodes to its frame
        assert packets[0][1], "a segment starts with a keyframe"
        assert sum(k for _, k, _ in packets) == 1  # cut at the first keyframe after 0.5 s: one GOP of 1 s
        if n < len(segments) - 1:  # the last one ends where the recorder was stopped
            seconds = float((packets[-1][0] - packets[0][0]) * codec[3])
            assert seconds == pytest.approx(0.96, abs=0.03)  # 25 frames at 25 frames/s
        for pts, _, data in packets:
            received = collector.packets[pts - packets[0][0] + first_pts(collector, segment, packets)]
            assert data.removeprefix(AUD) == received.removeprefix(AUD)  # remuxed, not transcoded


def first_pts(collector: Collector, segment, packets) -> int:
    """The received timestamp of the segment's first packet (the muxer shifts timestamps): the keyframe
    whose bytes are the same."""
    data = packets[0][2].removeprefix(AUD)
    (pts,) = [p for p, b in collector.packets.items() if b.removeprefix(AUD) == data]
    return pts


def test_a_full_disk_stops_video_keeps_the_camera_and_resumes(rtsp_server, tmp_path, alarms):  # noqa: F811
    """The disk budget holds under 2 s of the camera's 2 Mbit/s, and its footage is held as evidence, so
    nothing can be evicted to make room."""
    clock = SystemClock()
    budget = Budget(max_bytes=450_000)
    store = SegmentStore(tmp_path / "edge", budget, alarms, clock)
    now = clock.now()
    store.add_hold("hold-1", "cam-r2", now - timedelta(hours=1), now + timedelta(hours=1), case_number="C-1")
    capture = CameraCapture("cam-r2", rtsp_server.url("pattern"), clock, alarms).start()
    recorder = Recorder(capture, store, 10.0, clock, alarms, retry_s=0.5).start()
    collector = Collector(capture)
    try:
        assert until(lambda: alarms.is_active("disk_full"), 15)
        assert until(lambda: recorder.stats.unrecorded > 12, 5)  # half a second's packets not recorded...
        received = len(collector.packets)
        assert until(lambda: len(collector.packets) > received + 12, 5)  # ...while the camera is still read
        cut = store.segments("cam-r2")
        assert len(cut) == 1 and not cut[0].complete  # closed where the disk filled, what was sealed kept
        _, packets, frames = read_segment(store, cut[0])
        assert len(packets) > 12 and frames == len(packets) and packets[0][1]
        budget.max_bytes = 0  # room again (the owner freed space)
        assert until(lambda: recorder.recording, 5)
        assert until(lambda: not alarms.is_active("disk_full"), 5)
    finally:
        recorder.stop()
        collector.stop()
        capture.stop()
        store.close()
    store = SegmentStore(tmp_path / "edge", budget, alarms, clock)
    segments = store.segments("cam-r2")
    assert len(segments) == 2 and segments[1].complete and segments[1].started_at > segments[0].ended_at
    _, packets, frames = read_segment(store, segments[1])
    assert packets and frames == len(packets) and packets[0][1]
    store.close()


def test_a_camera_that_restarts_gets_a_new_segment(store, alarms):
    clock = SystemClock()
    port = free_port()
    server = start_camera_server(port=port)
    capture = CameraCapture("cam-r3", server.url("pattern"), clock, alarms, FAST).start()
    recorder = Recorder(capture, store, 30.0, clock, alarms).start()
    try:
        assert until(lambda: recorder.stats.packets > 10, 10)
        server.stop()
        assert until(lambda: not capture.health().online, 5)
        server = start_camera_server(port=port)
        written = recorder.stats.packets
        # (packets before the restarted stream's first keyframe are counted but not written: leave room)
        assert until(lambda: recorder.stats.segments == 1 and recorder.stats.packets > written + 40, 10)
    finally:
        recorder.stop()
        capture.stop()
        server.stop()
    first, second = store.segments("cam-r3")
    assert first.complete and second.complete and first.ended_at < second.started_at
    for segment in (first, second):
        _, packets, frames = read_segment(store, segment)
        assert packets[0][1] and frames == len(packets) > 10
