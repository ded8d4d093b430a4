"""Test support for the box's live view and clips: a real HTTP server on loopback standing in for the hub's
upload endpoints (it records every POST), the policy messages the tests apply, and decoding of what arrived."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import av
import numpy as np

from openrtcc.domain.edge_protocol import CameraPolicy, PolicyUpdate, Window


@dataclass
class Upload:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived


@dataclass
class UploadReceiver:
    """Answers `status` (or `status_after[n]` from the n-th upload on) and records each upload."""

    port: int = 0
    uploads: list[Upload] = field(default_factory=list)
    status: int = 201
    refuse_from: int | None = None
    refuse_status: int = 410
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def live(self, session_id: str) -> list[Upload]:
        with self.lock:
            return [u for u in self.uploads if u.path.startswith(f"/api/edge/live/{session_id}/")]

    def wait_for(self, predicate, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False


def start_receiver() -> tuple[UploadReceiver, ThreadingHTTPServer]:
    receiver = UploadReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                n = len(receiver.uploads)
                receiver.uploads.append(Upload(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                               time.monotonic()))
            refused = receiver.refuse_from is not None and n >= receiver.refuse_from
            self.send_response(receiver.refuse_status if refused else receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


def camera_policy(camera_id: str, agency_id: str = "agency-1", **changes) -> CameraPolicy:
    base = dict(camera_id=camera_id, agency_id=agency_id, tier="integrated", status="active", lat=43.0, lon=-87.9,
                mode="always", share_live=True, share_recorded=True, schedule=[], emergency_radius_m=500.0,
                privacy_masks=[], share_reads_with=[], retention_days=30)
    base.update(changes)
    if base["schedule"] and isinstance(base["schedule"][0], tuple):
        base["schedule"] = [Window(weekday=d, start=s, end=e) for d, s, e in base["schedule"]]
    return CameraPolicy(**base)


def policy_update(now: datetime, *policies: CameraPolicy) -> PolicyUpdate:
    return PolicyUpdate(sent_at=now, utc_offset_minutes=0, cameras=list(policies))


def count_video_packets(data: bytes) -> int:
    """Frames in an MP4 without decoding them (demuxed only)."""
    with av.open(io.BytesIO(data), "r", format="mp4") as c:
        return sum(1 for p in c.demux(video=0) if p.size)


def decode_mp4(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data), "r", format="mp4") as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def camera_capture(camera_id: str, url: str):
    """The box's real capture of one camera (edge/capture.py), started."""
    from openrtcc.domain.clock import SystemClock
    from openrtcc.edge.alarms import Alarms
    from openrtcc.edge.capture import CameraCapture, CaptureOptions

    clock = SystemClock()
    return CameraCapture(camera_id, url, clock, Alarms(clock.now), CaptureOptions(open_timeout_s=2.0)).start()


def camera_capture_idle(camera_id: str):
    """A configured camera whose capture was never started: a source that delivers nothing."""
    from openrtcc.domain.clock import SystemClock
    from openrtcc.edge.alarms import Alarms
    from openrtcc.edge.capture import CameraCapture

    clock = SystemClock()
    return CameraCapture(camera_id, "rtsp://127.0.0.1:9/none", clock, Alarms(clock.now))


def record_file(store, camera_id: str, video, started_at: datetime, seconds: float = 9.0) -> list:
    """Record a file into the box's store as the recorder does: packets remuxed (not transcoded) into MPEG-TS
    segments cut at keyframes, the first keyframe at `started_at`."""
    from datetime import timedelta

    segments = []
    with av.open(str(video)) as src:
        stream = src.streams.video[0]
        tb = float(stream.time_base)
        origin = writer = out = ostream = None
        seg_start = 0.0
        for pkt in src.demux(stream):
            if pkt.pts is None or pkt.size == 0 or (origin is None and not pkt.is_keyframe):
                continue
            origin = pkt.pts * tb if origin is None else origin
            t = pkt.pts * tb - origin
            if t > seconds:
                break
            if pkt.is_keyframe:
                if writer is not None:
                    out.close()
                    segments.append(writer.close(started_at + timedelta(seconds=t)))
                seg_start = t
                writer = store.open_segment(camera_id, started_at + timedelta(seconds=seg_start), "mpegts")
                out = av.open(writer, "w", format="mpegts")
                ostream = out.add_stream_from_template(stream)
            pkt.stream = ostream
            out.mux(pkt)
        out.close()
        segments.append(writer.close(started_at + timedelta(seconds=t)))
    return segments
