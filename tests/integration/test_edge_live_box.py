"""A live session on the box against a real RTSP camera and a real HTTP receiver standing in for the hub: the
segments decode, last about 0.5 s and have the owner's privacy mask black; a revocation, the end of a
schedule window, a refusing hub and the session's maximum length each end it with one LiveEnded."""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np
import pytest

from openrtcc.domain.clock import SystemClock
from openrtcc.domain.edge_protocol import LiveEnded, LiveStart, LiveStarted, Requester
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.hub_http import hub_client
from openrtcc.edge.hub_uploads import HubUploads
from openrtcc.edge.live_streamer import LiveLimits, LiveStreamer
from openrtcc.edge.policy_gate import PolicyGate
from tests.edge_live_support import camera_capture, camera_policy, decode_mp4, policy_update, start_receiver
from tests.rtsp import rtsp_server  # noqa: F401  (the fixture)

CAM = "cam-live"
TOKEN = "t" * 40
LEFT_HALF_TOP = [(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)]


@pytest.fixture(scope="module")
def receiver():
    recv, server = start_receiver()
    yield recv
    server.shutdown()


@pytest.fixture(scope="module")
def camera(rtsp_server):  # noqa: F811
    capture = camera_capture(CAM, rtsp_server.url("static"))
    yield capture
    capture.stop()


def _config(hub_url: str, **limits) -> EdgeConfig:
    return EdgeConfig.model_validate({
        "edge": {"hub_url": hub_url},
        "cameras": [{"id": CAM, "name": "Front", "url": "rtsp://127.0.0.1:1/x", "limits": limits}]})


class Session:
    def __init__(self, receiver, camera, clock, limits=LiveLimits(), masks=(), profile="full", **policy):
        self.config = _config(receiver.url)
        self.gate = PolicyGate(self.config)
        self.clock = clock
        self.gate.apply_policy(policy_update(clock.now(), camera_policy(CAM, privacy_masks=list(masks), **policy)))
        self.sent: list = []
        self.client = hub_client(self.config, "edge-key-1")
        self.session_id = f"live-{len(receiver.uploads)}-{time.monotonic_ns()}"
        request = LiveStart(sent_at=clock.now(), session_id=self.session_id, camera_id=CAM, upload_token=TOKEN,
                            requester=Requester(agency_id="agency-1", user_id="u-1", purpose="incident 42"),
                            profile=profile)
        self.streamer = LiveStreamer(request, camera, self.gate, HubUploads(self.client), self.sent.append, clock,
                                     limits)
        self.receiver = receiver

    def __enter__(self):
        self.streamer.start()
        return self

    def __exit__(self, *exc):
        self.streamer.stop("test over")
        self.streamer.join(5)
        self.client.close()

    def media(self):
        return [u for u in self.receiver.live(self.session_id) if not u.path.endswith("/init")]

    def ended(self) -> list[LiveEnded]:
        return [m for m in self.sent if isinstance(m, LiveEnded)]


def test_segments_decode_last_half_a_second_and_the_mask_is_black(receiver, camera, clock):
    with Session(receiver, camera, clock, masks=[LEFT_HALF_TOP]) as s:
        assert receiver.wait_for(lambda: len(s.media()) >= 3), "no live segments arrived"
        s.streamer.stop("enough")
    uploads = receiver.live(s.session_id)
    assert uploads[0].path == f"/api/edge/live/{s.session_id}/segments/init"
    assert [u.path.rsplit("/", 1)[1] for u in uploads[1:]] == [str(i) for i in range(len(uploads) - 1)]
    for u in uploads:
        assert u.headers["authorization"] == "Bearer edge-key-1"
        assert u.headers["x-upload-token"] == TOKEN
        assert u.headers["content-type"] == "video/mp4"
    durations = [float(u.headers["x-segment-duration"]) for u in uploads[1:]]
    assert all(0.3 <= d <= 1.0 for d in durations), durations
    frames = decode_mp4(uploads[0].body + b"".join(u.body for u in uploads[1:]))
    assert len(frames) >= 3 * 5
    assert frames[0].shape == (360, 640, 3)
    for f in frames:
        assert f[10:170, 10:310].mean() < 12  # the mask: black in every frame
        assert f[10:170, 330:630].mean() > 60  # the rest: the test pattern's bright bars
    assert isinstance(s.sent[0], LiveStarted)
    assert [e.reason for e in s.ended()] == ["enough"]


def test_a_wall_tile_is_small_about_12_fps_and_cut_every_second(receiver, rtsp_server, clock):  # noqa: F811
    # The moving 1280x720 25 fps pattern: scaled to 640x360, every other frame kept, a keyframe a second.
    pattern = camera_capture(CAM, rtsp_server.url("pattern"))
    try:
        with Session(receiver, pattern, clock, profile="tile") as s:
            assert receiver.wait_for(lambda: len(s.media()) >= 3, timeout=15.0), "no tile segments arrived"
            s.streamer.stop("enough")
    finally:
        pattern.stop()
    uploads = receiver.live(s.session_id)
    media = uploads[1:]
    durations = [float(u.headers["x-segment-duration"]) for u in media]
    assert all(0.8 <= d <= 1.2 for d in durations[:-1]), durations
    for u in media:  # each segment decodes alone after the init segment: it starts on a keyframe
        frames = decode_mp4(uploads[0].body + u.body)
        assert frames and frames[0].shape == (360, 640, 3)
        rate = len(frames) / float(u.headers["x-segment-duration"])
        assert 10.0 <= rate <= 13.5, rate
    assert sum(len(u.body) for u in media) * 8 / sum(durations) < 900_000  # ~600 kbit/s, not a full stream


def _ended_within_5s_and_uploads_stop(s: Session, act) -> LiveEnded:
    assert s.receiver.wait_for(lambda: len(s.media()) >= 1), "no live segments arrived"
    t0 = time.monotonic()
    act()
    assert s.receiver.wait_for(lambda: s.ended(), timeout=5.0), "no LiveEnded within 5 s"
    count = len(s.media())
    time.sleep(0.6)
    late = [u for u in s.media() if u.at > t0 + 5.0]
    assert not late and len(s.media()) <= count + 1  # at most the upload already in flight
    assert len(s.ended()) == 1
    return s.ended()[0]


def test_revoking_live_sharing_ends_the_session_and_its_uploads(receiver, camera, clock):
    with Session(receiver, camera, clock) as s:
        ended = _ended_within_5s_and_uploads_stop(s, lambda: s.gate.apply_policy(
            policy_update(clock.now(), camera_policy(CAM, share_live=False))))
    assert ended.reason == "the owner does not share live video" and not ended.refused


def test_the_end_of_a_schedule_window_ends_the_session_without_any_policy_message(receiver, camera, clock):
    # 2026-11-20 is a Friday (weekday 4); the window closes at 15:01 and the clock moves past it.
    with Session(receiver, camera, clock, mode="schedule", schedule=[(4, "14:00", "15:01")]) as s:
        ended = _ended_within_5s_and_uploads_stop(s, lambda: clock.advance(minutes=2))
    assert ended.reason == "outside the owner's sharing schedule"


def test_a_hub_that_refuses_the_upload_ends_the_session(receiver, camera, clock):
    status = 410
    with receiver.lock:
        receiver.refuse_from, receiver.refuse_status = len(receiver.uploads) + 3, status
    try:
        with Session(receiver, camera, clock) as s:
            assert receiver.wait_for(lambda: s.ended(), timeout=10.0)
    finally:
        receiver.refuse_from = None
    assert s.ended()[0].reason == f"the hub refused the upload (the hub answered {status})"
    assert len(receiver.live(s.session_id)) == 4  # init, 0, 1 accepted, then the refused one; nothing after


def test_the_session_ends_at_its_maximum_length(receiver, camera, clock):
    with Session(receiver, camera, clock, limits=LiveLimits(max_session=timedelta(minutes=30))) as s:
        ended = _ended_within_5s_and_uploads_stop(s, lambda: clock.advance(minutes=30))
    assert "maximum length" in ended.reason


def test_a_camera_that_sends_nothing_ends_the_session_as_offline(receiver, clock):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    source = camera_capture(CAM, f"rtsp://127.0.0.1:{silent.getsockname()[1]}/cam")
    try:
        with Session(receiver, source, SystemClock(), limits=LiveLimits(offline_after_s=1.0)) as s:
            assert receiver.wait_for(lambda: s.ended(), timeout=8.0)
        assert s.ended()[0].reason == "the camera is offline"
        assert receiver.live(s.session_id) == []
    finally:
        source.stop()
        silent.close()


def test_masks_the_owner_adds_during_a_session_apply_from_then_on(receiver, camera, clock):
    with Session(receiver, camera, clock) as s:
        assert receiver.wait_for(lambda: len(s.media()) >= 2)
        s.gate.apply_policy(policy_update(clock.now(), camera_policy(CAM, privacy_masks=[LEFT_HALF_TOP])))
        n = len(s.media())
        assert receiver.wait_for(lambda: len(s.media()) >= n + 3)
        s.streamer.stop("enough")
    uploads = receiver.live(s.session_id)
    # the segment in progress at the change may hold both; the ones after it are masked throughout
    later = decode_mp4(uploads[0].body + b"".join(u.body for u in uploads[n + 2:]))
    assert later and all(f[10:170, 10:310].mean() < 12 for f in later)
    assert np.mean([f[10:170, 10:310].mean() for f in decode_mp4(uploads[0].body + uploads[1].body)]) > 60
