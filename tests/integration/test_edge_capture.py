"""The box's camera capture against the real RTSP camera server: health, decoded frames, dead and corrupt
cameras (clear errors with the password hidden, back-off, recovery), and the looping test camera."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime

import av
import cv2
import numpy as np
import pytest

from openrtcc.bench.clock_pattern import band_height, band_rows, clock_value, decode_clock_blocks, latency_ms
from openrtcc.domain.clock import SystemClock
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.capture import CameraCapture, CaptureOptions
from openrtcc.edge.frames import decode_frames
from tests.rtsp import rtsp_server, start_camera_server  # noqa: F401  (the fixture)

FAST = CaptureOptions(open_timeout_s=1.0, read_timeout_s=2.0, backoff_first_s=0.2, backoff_max_s=1.0)


@pytest.fixture
def alarms():
    return Alarms(SystemClock().now)


def until(predicate, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def with_password(url: str) -> str:
    return url.replace("rtsp://", "rtsp://admin:hunter2@")


def test_a_camera_reports_health_and_gives_decodable_frames(rtsp_server, alarms):  # noqa: F811
    capture = CameraCapture("cam-1", with_password(rtsp_server.url("pattern")), SystemClock(), alarms).start()
    try:
        every = capture.subscribe()
        thinned = capture.subscribe()
        sparse = []
        side = threading.Thread(target=lambda: sparse.extend(decode_frames(thinned, every_s=0.5)))
        side.start()
        threading.Timer(3.5, lambda: (every.close(), thinned.close())).start()
        frames = list(decode_frames(every))
        side.join(5)
        assert every.info.codec_name == "h264" and (every.info.width, every.info.height) == (1280, 720)
        health = capture.health()
    finally:
        assert capture.stop()
    assert health.online and health.error is None
    assert 15 <= health.fps <= 35  # the pattern is sent at 25 frames/s
    assert health.bitrate_kbps > 100
    assert (datetime.now(UTC) - health.last_frame_at).total_seconds() < 2
    assert frames and frames[0][0].shape == (720, 1280, 3) and frames[0][0].dtype == np.uint8
    assert all(a[1] <= b[1] for a, b in zip(frames, frames[1:]))
    # One frame in 0.5 s of a 25 frames/s stream: about a twelfth as many, evenly spaced.
    assert 2 <= len(sparse) <= len(frames) // 8 + 2
    assert not alarms.active()


def test_an_unreachable_camera_is_offline_with_a_clear_error_backs_off_and_recovers(alarms, caplog):
    port = free_port()
    url = f"rtsp://admin:hunter2@127.0.0.1:{port}/pattern"
    capture = CameraCapture("cam-2", url, SystemClock(), alarms, FAST).start()
    server = None
    try:
        assert until(lambda: capture.health().error, 5)
        health = capture.health()
        assert not health.online and health.fps is None and health.last_frame_at is None
        assert health.error == f"rtsp://***@127.0.0.1:{port}/pattern: connection refused (nothing listens on that port)"
        assert "hunter2" not in repr(alarms.active())
        assert alarms.is_active("camera_offline", "cam-2")
        time.sleep(2.0)
        # Back-off: 0.2 s doubling to 1 s (with jitter) tries about 4 times in 2 s, not once per socket error.
        assert 3 <= capture.attempts <= 7
        server = start_camera_server(port=port)
        assert until(lambda: capture.health().online, 5)
        assert until(lambda: capture.packets > 10, 5)
        assert not alarms.is_active("camera_offline", "cam-2")
        assert capture.health().error is None
    finally:
        assert capture.stop()
        if server is not None:
            server.stop()
    assert any(a.code == "camera_offline" and a.cleared for a in alarms.take_report())
    assert caplog.records and not any("hunter2" in r.getMessage() for r in caplog.records)


def test_a_silent_camera_times_out_and_stop_does_not_wait_for_it(alarms):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers a word of RTSP
    port = silent.getsockname()[1]
    capture = CameraCapture("cam-3", f"rtsp://u:pw@127.0.0.1:{port}/x", SystemClock(), alarms, FAST).start()
    try:
        assert until(lambda: capture.health().error, 5)
        assert capture.health().error == f"rtsp://***@127.0.0.1:{port}/x: no answer within 1 s"
        until(lambda: capture.attempts >= 2, 3)
        time.sleep(0.3)  # most likely mid-connect again
        began = time.monotonic()
        assert capture.stop()
        assert time.monotonic() - began < 2.0
    finally:
        silent.close()


def test_a_server_speaking_garbage_is_a_clear_error_not_a_crash(alarms):
    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen(8)
    port = garbage.getsockname()[1]
    stop = threading.Event()

    def answer():
        garbage.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = garbage.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/9.9 ???\r\n\x00\xff\xfe garbage \x01\x02\r\n\r\n" + bytes(range(256)) * 8)
                except OSError:
                    pass

    server = threading.Thread(target=answer, daemon=True)
    server.start()
    capture = CameraCapture("cam-4", f"rtsp://u:pw@127.0.0.1:{port}/x", SystemClock(), alarms, FAST).start()
    try:
        assert until(lambda: capture.attempts >= 2 and capture.health().error, 5)
        error = capture.health().error
        assert error == (f"rtsp://***@127.0.0.1:{port}/x: corrupt or unexpected data: not an RTSP video stream "
                         "this box can read")
        assert not capture.health().online and capture.packets == 0
        assert capture._thread.is_alive()  # still trying, with back-off
    finally:
        assert capture.stop()
        stop.set()
        server.join(2)
        garbage.close()


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory):
    """A 1 s H.264 clip (20 frames at 20 frames/s, a keyframe every half second)."""
    path = tmp_path_factory.mktemp("clip") / "short.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=20)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"g": "10", "preset": "ultrafast", "bf": "0"}
        for i in range(20):
            image = np.full((240, 320, 3), i * 12, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_the_looping_camera_plays_on_past_the_end_of_its_clip(short_clip, alarms):
    server = start_camera_server(loops={"short": short_clip})
    capture = CameraCapture("cam-5", server.url("short"), SystemClock(), alarms).start()
    sub = capture.subscribe()
    got = []
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(got) < 50:  # 1 s clip, 20 frames/s: into its third loop
            item = sub.get(timeout=1)
            if item is not None:
                got.append(item)
    finally:
        capture.stop()
        server.stop()
    assert len(got) >= 50
    times = [float(p.pts * sub.info.time_base) for p in got]
    assert all(b > a for a, b in zip(times, times[1:]))  # no reset at the loop: timestamps go on increasing
    steps = [round(b - a, 2) for a, b in zip(times, times[1:])]
    assert set(steps) == {0.05}  # seamless: one frame's time between every pair, across each loop too
    assert not any(p.gap_before for p in got[1:])
    assert sum(p.keyframe for p in got) >= 4


def test_the_clock_camera_carries_the_senders_time_in_its_picture(rtsp_server, alarms):  # noqa: F811
    capture = CameraCapture("cam-6", rtsp_server.url("clock"), SystemClock(), alarms).start()
    sub = capture.subscribe()
    try:
        frames = decode_frames(sub)
        image, _ = next(frames)
        decoded_at = time.time_ns()
    finally:
        sub.close()
        capture.stop()
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    value = decode_clock_blocks(grey[:band_height(720)])
    assert value is not None and 0 <= latency_ms(value, decoded_at) < 3000  # made moments ago, by the wall clock
    half = cv2.resize(grey, (640, 360), interpolation=cv2.INTER_AREA)  # as a browser might show it
    assert decode_clock_blocks(half[:band_height(360)]) == value


def test_clock_blocks_round_trip_and_refuse_what_is_not_a_band():
    now = time.time_ns()
    band = np.frombuffer(b"".join(band_rows(clock_value(now))), np.uint8).reshape(64, 1280)
    assert decode_clock_blocks(band) == clock_value(now)
    assert decode_clock_blocks(band[:, ::2]) == clock_value(now)  # any scale
    assert decode_clock_blocks(np.full((64, 1280), 128, np.uint8)) is None  # a flat picture
    smeared = band.copy()
    smeared[32:] = smeared[:32]  # complements no longer differ from their blocks (a frame mid-change)
    assert decode_clock_blocks(smeared) is None
    assert decode_clock_blocks([]) is None
    assert latency_ms(clock_value(now - 250_000_000), now) == 250


def _packet(n: int, key: bool = False, gap: bool = False):
    from openrtcc.edge.packets import EncodedPacket
    return EncodedPacket(packet=f"p{n}", pts=n, dts=n, keyframe=key, captured_at=datetime.now(UTC), gap_before=gap)


def test_a_slow_consumer_loses_whole_gops_and_is_told():
    from fractions import Fraction

    from openrtcc.edge.packet_queue import PacketQueue
    from openrtcc.edge.packets import StreamInfo

    first = StreamInfo("h264", None, 1280, 720, Fraction(1, 90000), None)
    queue = PacketQueue(4, None)
    for n, key in ((1, False), (2, True), (3, False), (4, False), (5, False)):  # joins mid-GOP: waits for 2
        queue.put(_packet(n, key), first)
    assert [(p.pts, p.gap_before) for p in queue.get_all(0)] == [(2, True), (3, False), (4, False), (5, False)]
    assert queue.info is first
    for n, key in ((6, True), (7, False), (8, True), (9, False), (10, False)):  # full at 10: 6-7 dropped
        queue.put(_packet(n, key), first)
    got = queue.get_all(0)
    assert [(p.pts, p.gap_before) for p in got] == [(8, True), (9, False), (10, False)]
    for n in (11, 12, 13, 14, 15):  # full with no keyframe queued: all dropped until the next keyframe
        queue.put(_packet(n), first)
    queue.put(_packet(16, key=True), first)
    assert [(p.pts, p.gap_before) for p in queue.get_all(0)] == [(16, True)]
    assert queue.dropped == 1 + 2 + 5
    second = StreamInfo("h264", None, 640, 360, Fraction(1, 90000), None)  # the camera reconnected
    queue.put(_packet(17), first)
    queue.put(_packet(30, key=False, gap=True), second)  # mid-GOP after the reconnection: skipped
    queue.put(_packet(31, key=True), second)
    queue.put(_packet(32), second)
    assert [p.pts for p in queue.get_all(0)] == [17] and queue.info is first  # a batch never spans streams
    assert [(p.pts, p.gap_before) for p in queue.get_all(0)] == [(31, True), (32, False)] and queue.info is second
    assert queue.get(timeout=0) is None
    queue.close()
    queue.put(_packet(33, key=True), second)
    assert queue.get(timeout=0) is None and queue.closed


def test_corrupt_data_costs_the_decoder_only_the_rest_of_its_gop():
    from tests.rtsp import VIDEO
    from openrtcc.edge.capture import stream_info
    from openrtcc.edge.frames import FrameDecoder
    from openrtcc.edge.packets import EncodedPacket

    with av.open(str(VIDEO)) as c:
        stream = c.streams.video[0]
        info = stream_info(stream)
        packets = [p for p in c.demux(stream) if p.size][:80]
    keyframes = [i for i, p in enumerate(packets) if p.is_keyframe]
    assert keyframes[:2] == [0, 62]
    decoder, decoded = FrameDecoder(), []
    for i, p in enumerate(packets):
        if i == 10:  # a slice of garbage where a frame should be
            p = av.Packet(b"\x00\x00\x00\x01\x65" + bytes(range(256)) * 20)
        item = EncodedPacket(p, packets[i].pts, packets[i].dts, packets[i].is_keyframe, datetime.now(UTC))
        decoded.append(len(decoder.decode(item, info)))
    assert decoder.rejected == 1
    assert decoded[:10] == [1] * 10 and decoded[10:62] == [0] * 52  # no smeared frames until the keyframe
    assert decoded[62:] == [1] * 18
