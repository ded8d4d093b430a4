"""The box's answers to the hub's live, clip and hold requests: decided again on the box, every decision in
the box's access log; clips exported from real recordings, uploaded to a real HTTP receiver on loopback, with
a SHA-256 equal to the uploaded bytes'."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest

from openrtcc.domain.edge_protocol import (
    ClipRequest,
    ClipResult,
    EmergencyNotice,
    Emergencies,
    HoldRequest,
    LiveEnded,
    LiveStart,
    LiveStarted,
    LiveStop,
    Requester,
)
from openrtcc.edge.access_log import EdgeAccessLog
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.hub_http import hub_client
from openrtcc.edge.hub_uploads import HubUploads
from openrtcc.edge.live_streamer import LiveLimits
from openrtcc.edge.policy_gate import PolicyGate
from openrtcc.edge.request_handler import RequestHandler, RequestLimits
from openrtcc.edge.segment_store import SegmentStore
from tests.edge_live_support import (
    camera_capture,
    camera_capture_idle,
    camera_policy,
    decode_mp4,
    policy_update,
    record_file,
    start_receiver,
)
from tests.rtsp import VIDEO, rtsp_server  # noqa: F401  (the fixture)

CAM, LOCKED, ELSEWHERE = "cam-front", "cam-locked", "cam-elsewhere"
TOKEN = "u" * 40
ALICE = Requester(agency_id="agency-1", user_id="alice", purpose="burglary on 5th", case_number="24-0042")


@pytest.fixture(scope="module")
def receiver():
    recv, server = start_receiver()
    yield recv
    server.shutdown()


class Box:
    def __init__(self, tmp_path, receiver, clock, sources=None, limits=RequestLimits()):
        self.config = EdgeConfig.model_validate({
            "edge": {"hub_url": receiver.url, "data_dir": str(tmp_path)},
            "cameras": [{"id": CAM, "name": "Front", "url": "rtsp://127.0.0.1:1/a"},
                        {"id": LOCKED, "name": "Side", "url": "rtsp://127.0.0.1:1/b",
                         "limits": {"live": False, "recorded": False}}]})
        self.clock = clock
        self.gate = PolicyGate(self.config)
        self.log = EdgeAccessLog(tmp_path / "access_log.db", now=clock.now)
        self.client = hub_client(self.config, "edge-key-2")
        self.sent: list = []
        self.store = SegmentStore(tmp_path, self.config.recording, Alarms(clock.now), clock)
        self.sources = sources or {}
        self.handler = RequestHandler(self.config, self.gate, self.log, HubUploads(self.client, retry_pause_s=0.01),
                                      self.sent.append, clock, self.sources.get, self.store,
                                      live_limits=LiveLimits(), limits=limits)
        self.receiver = receiver

    def policy(self, *policies):
        self.gate.apply_policy(policy_update(self.clock.now(), *policies))

    def close(self):
        self.handler.close()
        self.client.close()
        self.store.close()
        self.log.close()

    def of(self, kind):
        return [m for m in self.sent if isinstance(m, kind)]


@pytest.fixture
def box(tmp_path, receiver, clock):
    b = Box(tmp_path, receiver, clock)
    yield b
    b.close()


def _live(clock, session_id, camera=CAM, requester=ALICE, profile="full") -> LiveStart:
    return LiveStart(sent_at=clock.now(), session_id=session_id, camera_id=camera, requester=requester,
                     upload_token=TOKEN, profile=profile)


REFUSALS = [  # (policy changes, camera, requester, the box's reason)
    ({"mode": "paused"}, CAM, ALICE, "the owner has paused sharing"),
    ({"mode": "schedule", "schedule": [(4, "08:00", "09:00")]}, CAM, ALICE, "outside the owner's sharing schedule"),
    ({"mode": "emergency_only"}, CAM, ALICE, "shared only during a declared emergency nearby"),
    ({"share_live": False}, CAM, ALICE, "the owner does not share live video"),
    ({}, LOCKED, ALICE, "the owner does not share live video from this box"),
    ({"status": "withdrawn"}, CAM, ALICE, "the owner has withdrawn this camera"),
    ({}, CAM, ALICE.model_copy(update={"agency_id": "agency-2"}), "the camera is not enrolled with this agency"),
    ({}, ELSEWHERE, ALICE, "no such camera on this box"),
    ({}, CAM, ALICE.model_copy(update={"purpose": "   "}), "the request states no purpose"),
]


def test_live_start_is_refused_for_each_reason_and_every_refusal_is_logged(box, clock):
    for i, (changes, camera, requester, reason) in enumerate(REFUSALS):
        box.policy(camera_policy(CAM, **changes), camera_policy(LOCKED))
        assert box.handler.handle_live_start(_live(clock, f"s-{i}", camera, requester)) is None
        ended = box.sent[-1]
        assert isinstance(ended, LiveEnded) and ended.refused and ended.session_id == f"s-{i}"
        assert ended.reason == reason
        entry = box.log.latest(1)[0]
        assert (entry.kind, entry.outcome, entry.reason, entry.camera_id) == ("live", "refused", reason, camera)
        assert (entry.agency_id, entry.user_id, entry.purpose, entry.case_number) == (
            requester.agency_id, requester.user_id, requester.purpose, requester.case_number)
    assert not box.of(LiveStarted) and box.handler.live_sessions() == []
    assert len(box.log.latest(100)) == len(REFUSALS)


def test_nothing_is_shared_before_the_hub_has_sent_a_policy_or_while_the_camera_is_not_connected(box, clock):
    box.handler.handle_live_start(_live(clock, "s-none"))
    assert box.sent[-1].reason == "the box holds no sharing policy for this camera yet"
    box.policy(camera_policy(CAM))
    box.handler.handle_live_start(_live(clock, "s-unplugged"))  # no packet source for the camera
    assert box.sent[-1].reason == "the camera is not connected to the box"
    assert [e.outcome for e in box.log.latest(10)] == ["refused", "refused"]


def test_an_access_the_box_cannot_log_is_refused_and_a_broken_store_still_answers_the_clip(tmp_path, receiver,
                                                                                         clock):
    idle = camera_capture_idle(CAM)
    b = Box(tmp_path, receiver, clock, sources={CAM: idle})
    try:
        b.policy(camera_policy(CAM))
        b.log.close()  # the box's access log is unusable
        assert b.handler.handle_live_start(_live(clock, "s-unlogged")) is None
        assert b.sent[-1].refused and b.sent[-1].reason == "the box could not write its access log, so it refuses"
        assert b.handler.live_sessions() == []
        b.store.close()  # and so is its segment index
        result = b.handler.handle_clip_request(_clip(clock, "c-broken", clock.now() - timedelta(minutes=1),
                                                     clock.now())).result(10)
        assert (result.status, result.sha256) == ("failed", None)
        assert result.reason.startswith("the box could not export the clip (")
    finally:
        b.handler.close()
        b.client.close()


def test_a_request_the_hub_did_not_vouch_for_in_full_is_refused_logged_and_answered(box, clock):
    box.policy(camera_policy(CAM))
    start = _live(clock, "s-anon").model_dump(mode="json")
    del start["requester"]["user_id"]
    start["requester"]["purpose"] = ""
    box.handler.refuse_malformed(json.dumps(start), "requester.user_id: Field required")
    clip = _clip(clock, "c-anon", clock.now() - timedelta(minutes=2), clock.now()).model_dump(mode="json")
    clip["requester"] = None
    clip["camera_id"] = "../../etc"  # not an id: logged as unknown, never echoed
    box.handler.refuse_malformed(json.dumps(clip), "requester: Input should be a valid dictionary")
    box.handler.refuse_malformed(b"{not json", "invalid JSON")  # nothing to answer or log
    box.handler.refuse_malformed(json.dumps({"type": "policy"}), "cameras: Field required")  # not a request
    assert [(type(m).__name__, m.refused if isinstance(m, LiveEnded) else m.status) for m in box.sent] == [
        ("LiveEnded", True), ("ClipResult", "refused")]
    assert box.sent[0].session_id == "s-anon" and box.sent[1].request_id == "c-anon"
    entries = box.log.latest(10)
    assert [(e.kind, e.outcome, e.camera_id, e.agency_id, e.user_id, e.purpose) for e in entries] == [
        ("live", "refused", CAM, "agency-1", None, None), ("clip", "refused", None, None, None, None)]
    assert entries[0].reason == ("the hub's request was incomplete or malformed: "
                                 "requester.user_id: Field required")
    assert box.handler.live_sessions() == []


@pytest.mark.slow
def test_an_allowed_session_streams_until_live_stop_and_the_box_caps_its_sessions(tmp_path, receiver, clock,
                                                                                  rtsp_server):  # noqa: F811
    camera = camera_capture(CAM, rtsp_server.url("static"))
    b = Box(tmp_path, receiver, clock, sources={CAM: camera}, limits=RequestLimits(max_live_sessions=1))
    try:
        # emergency-only, with an emergency declared around the camera by the asking agency: allowed
        b.policy(camera_policy(CAM, mode="emergency_only"))
        b.gate.apply_emergencies(Emergencies(sent_at=clock.now(), emergencies=[EmergencyNotice(
            emergency_id="e-1", agency_id="agency-1", lat=43.0, lon=-87.9, radius_m=300,
            expires_at=clock.now() + timedelta(hours=1))]))
        session = b.handler.handle_live_start(_live(clock, "s-ok"))
        assert session is not None and isinstance(b.sent[0], LiveStarted)
        assert b.handler.handle_live_start(_live(clock, "s-ok")) is None  # the same session id again
        assert b.sent[-1].reason == "a live session with this id is already running"
        assert b.handler.handle_live_start(_live(clock, "s-more")) is None
        assert b.sent[-1].reason == "the box is already serving its maximum of live sessions"
        assert b.handler.handle_live_start(_live(clock, "s-tile", profile="tile")) is None  # a quarter: still over
        assert receiver.wait_for(lambda: len(receiver.live("s-ok")) >= 3)
        b.handler.handle_live_stop(LiveStop(sent_at=clock.now(), session_id="s-ok", reason="user closed the view"))
        session.join(5)
        ended = [m for m in b.of(LiveEnded) if m.session_id == "s-ok" and not m.refused]
        assert [e.reason for e in ended] == ["stopped by the hub: user closed the view"]
        assert b.handler.live_sessions() == []
        tiles = [b.handler.handle_live_start(_live(clock, f"s-tile-{i}", profile="tile")) for i in range(5)]
        assert all(tiles[:4]) and tiles[4] is None  # the full session's place holds four wall tiles
        for t in tiles[:4]:
            t.stop("test over")
            t.join(5)
        log = [(e.outcome, e.reason) for e in b.log.latest(50)][:5]
        assert log == [("allowed", "an emergency is declared within the owner's radius"),
                       ("refused", "a live session with this id is already running"),
                       ("refused", "the box is already serving its maximum of live sessions"),
                       ("refused", "the box is already serving its maximum of live sessions"),
                       ("ended", "stopped by the hub: user closed the view")]
    finally:
        b.close()
        camera.stop()


# ---------------------------------------------------------------- clips


@pytest.fixture
def recorded(box, clock):
    """About 8.5 s of the sample clip recorded on CAM, starting five minutes ago."""
    start = clock.now() - timedelta(minutes=5)
    segments = record_file(box.store, CAM, VIDEO, start, seconds=8.5)
    assert len(segments) >= 2
    return start


def _clip(clock, request_id, start, end, camera=CAM, requester=ALICE) -> ClipRequest:
    return ClipRequest(sent_at=clock.now(), request_id=request_id, camera_id=camera, requester=requester,
                       start=start, end=end, upload_token=TOKEN)


def test_a_clip_is_exported_uploaded_and_reported_with_the_sha256_of_the_uploaded_bytes(box, clock, recorded,
                                                                                      receiver):
    box.policy(camera_policy(CAM))
    t0 = recorded
    result = box.handler.handle_clip_request(_clip(clock, "clip-1", t0 + timedelta(seconds=4),
                                                   t0 + timedelta(seconds=6))).result(30)
    assert result.status == "ready" and box.of(ClipResult) == [result]
    upload = [u for u in receiver.uploads if u.path == "/api/edge/clips/clip-1"][-1]
    assert upload.headers["authorization"] == "Bearer edge-key-2"
    assert upload.headers["x-upload-token"] == TOKEN and upload.headers["content-type"] == "video/mp4"
    assert hashlib.sha256(upload.body).hexdigest() == result.sha256 == upload.headers["x-content-sha256"]
    assert result.size_bytes == len(upload.body)
    frames = decode_mp4(upload.body)  # remuxed from the keyframe at or before 4 s (3.4 s) up to 6 s, ~18 fps
    assert 2.0 * 17 <= len(frames) <= 2.8 * 19
    assert [(e.kind, e.outcome, e.case_number) for e in box.log.latest(5)] == [
        ("clip", "allowed", "24-0042"), ("clip", "ended", "24-0042")]
    assert list((box.config.edge.data_dir / "clips").iterdir()) == []  # the export's temp file is gone


def test_a_clip_of_a_masked_camera_is_re_encoded_with_the_mask_black(box, clock, recorded, receiver):
    box.policy(camera_policy(CAM, privacy_masks=[[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]]))
    result = box.handler.handle_clip_request(_clip(clock, "clip-2", recorded + timedelta(seconds=1),
                                                   recorded + timedelta(seconds=2))).result(60)
    assert result.status == "ready"
    body = [u for u in receiver.uploads if u.path == "/api/edge/clips/clip-2"][-1].body
    frames = decode_mp4(body)
    assert 16 <= len(frames) <= 20
    assert all(f[20:700, 20:620].mean() < 12 for f in frames)
    assert hashlib.sha256(body).hexdigest() == result.sha256


def test_clip_requests_are_refused_when_the_policy_or_the_range_says_no(box, clock, recorded, receiver):
    t0, s = recorded, timedelta(seconds=1)
    now = clock.now()
    no_case = ALICE.model_copy(update={"case_number": None})
    cases = [  # (policy changes, request, reason)
        ({"share_recorded": False}, _clip(clock, "c-1", t0, t0 + 2 * s), "the owner does not share recorded video"),
        ({}, _clip(clock, "c-2", t0, t0 + 2 * s, camera=LOCKED),
         "the owner does not share recorded video from this box"),
        ({"mode": "paused"}, _clip(clock, "c-3", t0, t0 + 2 * s), "the owner has paused sharing"),
        ({}, _clip(clock, "c-4", t0 + 2 * s, t0), "the clip's range must end after it starts"),
        ({}, _clip(clock, "c-5", t0 - timedelta(hours=2), t0), "a clip covers at most 1:00:00"),
        ({}, _clip(clock, "c-6", now - s, now + timedelta(minutes=1)), "the clip's range ends in the future"),
        ({}, _clip(clock, "c-7", t0 - timedelta(hours=1), t0 - timedelta(minutes=50)),
         "nothing was recorded on this camera in that range"),
        ({}, _clip(clock, "c-8", t0, t0 + 2 * s, requester=no_case),
         "a request for recorded video needs a case number"),
        ({}, _clip(clock, "c-9", t0, t0 + 2 * s, camera=ELSEWHERE), "no such camera on this box"),
    ]
    before = len(receiver.uploads)
    for changes, request, reason in cases:
        box.policy(camera_policy(CAM, **changes), camera_policy(LOCKED))
        result = box.handler.handle_clip_request(request).result(10)
        assert (result.status, result.reason, result.sha256) == ("refused", reason, None)
        entry = box.log.latest(1)[0]
        assert (entry.kind, entry.outcome, entry.reason, entry.camera_id) == ("clip", "refused", reason,
                                                                              request.camera_id)
    assert len(receiver.uploads) == before  # nothing left the box


def test_a_clip_the_hub_refuses_to_take_is_reported_failed(box, clock, recorded, receiver):
    box.policy(camera_policy(CAM))
    with receiver.lock:
        receiver.refuse_from, receiver.refuse_status = len(receiver.uploads), 403
    try:
        result = box.handler.handle_clip_request(_clip(clock, "clip-3", recorded, recorded + timedelta(seconds=2))
                                                 ).result(30)
    finally:
        receiver.refuse_from = None
    assert result.status == "failed" and "403" in result.reason and result.sha256 is None
    assert len([u for u in receiver.uploads if u.path == "/api/edge/clips/clip-3"]) == 1  # not retried
    assert [e.outcome for e in box.log.latest(2)] == ["allowed", "ended"]


# ---------------------------------------------------------------- holds


def _hold(clock, hold_id, start, end, release=False, requester=ALICE) -> HoldRequest:
    return HoldRequest(sent_at=clock.now(), hold_id=hold_id, camera_id=CAM, requester=requester, start=start,
                       end=end, release=release)


def test_holds_are_placed_and_released_in_the_store_and_refused_when_recorded_sharing_is_off(box, clock, recorded):
    t0 = recorded
    box.policy(camera_policy(CAM))
    assert box.handler.handle_hold_request(_hold(clock, "h-1", t0, t0 + timedelta(seconds=8))).status == "held"
    held = box.store.holds()
    assert [(h.hold_id, h.case_number, h.requested_by) for h in held] == [("h-1", "24-0042", "agency-1/alice")]
    released = box.handler.handle_hold_request(_hold(clock, "h-1", t0, t0 + timedelta(seconds=8), release=True))
    assert released.status == "released" and box.store.holds() == []
    box.policy(camera_policy(CAM, share_recorded=False))
    refused = box.handler.handle_hold_request(_hold(clock, "h-2", t0, t0 + timedelta(seconds=8)))
    assert (refused.status, refused.reason) == ("refused", "the owner does not share recorded video")
    unknown = box.handler.handle_hold_request(_hold(clock, "h-9", t0, t0, release=True))
    assert (unknown.status, unknown.reason) == ("refused", "no such hold on this camera")
    assert box.store.holds() == []
    assert [(e.kind, e.outcome) for e in box.log.latest(10)] == [
        ("hold", "allowed"), ("hold", "allowed"), ("hold", "refused"), ("hold", "refused")]
