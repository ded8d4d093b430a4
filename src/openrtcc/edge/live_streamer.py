"""One live session on the box: the camera's packets decoded, masked, re-encoded and uploaded as HLS segments.

The session lives only while the policy allows it. It re-decides on every policy or emergency change (from
the thread that applied it, so uploads stop at once) and at least once a second in its own loop, whose
uploads time out in 2 s: a revocation ends it within 5 s whatever the hub or the network do. It also ends on
LiveStop, when the camera goes quiet, when the hub refuses an upload, and at its maximum length (a new
request starts a new session). However it ends, the hub hears one LiveEnded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import av

from openrtcc.domain.access import AccessKind, Decision
from openrtcc.domain.clock import Clock
from openrtcc.domain.edge_protocol import LiveEnded, LiveStart, LiveStarted
from openrtcc.domain.privacy_masks import PrivacyMask
from openrtcc.edge.hls_segmenter import MAX_LIVE_WIDTH, HlsSegment, HlsSegmenter
from openrtcc.edge.hub_uploads import HubUploads, UploadStatus
from openrtcc.edge.frames import FrameDecoder
from openrtcc.edge.masks import apply_masks
from openrtcc.edge.packets import PacketSource, PacketSubscription
from openrtcc.edge.policy_gate import PolicyGate

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveLimits:
    segment_seconds: float = 0.5
    max_session: timedelta = timedelta(minutes=30)
    recheck_s: float = 1.0  # re-decide at least this often, whatever the policy listeners do
    offline_after_s: float = 10.0  # no packet for this long: the camera is offline
    hub_unreachable_after_s: float = 15.0  # no segment accepted for this long: give up
    max_queue: int = 120


@dataclass(frozen=True, slots=True)
class LiveEncoding:
    """How a session is encoded: its largest width, its highest frame rate (None: the camera's), the bit-rate
    cap, the quality and the keyframe interval (= segment length; None: LiveLimits.segment_seconds)."""

    max_width: int
    max_fps: float | None
    max_kbps: int
    crf: int
    segment_seconds: float | None = None


# A wall tile is a small picture: 16 of them must fit one box's cores, the hub's uplink and one browser tab.
# Its 1 s segments halve the uploads and playlist requests that 0.5 s would cost, for ~0.5 s more latency.
LIVE_ENCODINGS: dict[str, LiveEncoding] = {
    "full": LiveEncoding(max_width=MAX_LIVE_WIDTH, max_fps=None, max_kbps=2000, crf=26),
    "tile": LiveEncoding(max_width=640, max_fps=12.0, max_kbps=600, crf=28, segment_seconds=1.0),
}


class _RateCap:
    """Keeps at most `fps` frames per second of session time (all of them when None), evenly spaced."""

    def __init__(self, fps: float | None):
        self._step = 1.0 / fps if fps else 0.0
        self._next: float | None = None

    def keep(self, t: float) -> bool:
        if not self._step:
            return True
        if self._next is not None and t < self._next - self._step / 4:  # a quarter step of slack for jitter
            return False
        late = self._next is None or t - self._next > self._step  # first frame, or after a gap: start again
        self._next = (t if late else self._next) + self._step
        return True


class _SessionTime:
    """Maps the camera's timestamps to session seconds, stepping over resets and jumps."""

    def __init__(self, frame_rate: float):
        self.rate = frame_rate
        self._step = 1.0 / frame_rate
        self._origin: float | None = None
        self._last = -self._step

    def at(self, stream_t: float | None, gap: bool) -> float:
        if stream_t is None:
            self._last += self._step
            return self._last
        if self._origin is None:
            self._origin = stream_t
        t = stream_t - self._origin
        if gap or t <= self._last or t > self._last + 5.0:
            self._origin = stream_t - (self._last + self._step)
            t = self._last + self._step
        self._last = t
        return t


class LiveStreamer:
    """Start with `start()`; ends by itself or with `stop(reason)`. `on_end(self)` runs once, at the end."""

    def __init__(self, request: LiveStart, source: PacketSource, gate: PolicyGate, uploads: HubUploads,
                 send: Callable[[object], object], clock: Clock, limits: LiveLimits = LiveLimits(),
                 on_end: Callable[[LiveStreamer], None] | None = None):
        self.request = request
        self._source = source
        self._gate = gate
        self._uploads = uploads
        self._send = send
        self._clock = clock
        self._limits = limits
        self._on_end = on_end
        self._started_at = clock.now()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.end_reason: str | None = None
        self.encoding = LIVE_ENCODINGS[request.profile]
        self._masks: tuple[PrivacyMask, ...] = gate.masks(request.camera_id)
        self._unsubscribe: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._run, name=f"live-{request.session_id}", daemon=True)
        self.segments_uploaded = 0

    @property
    def session_id(self) -> str:
        return self.request.session_id

    @property
    def camera_id(self) -> str:
        return self.request.camera_id

    @property
    def running(self) -> bool:
        return not self._stopped.is_set()

    def start(self) -> None:
        if self._stopped.is_set():
            return
        self._unsubscribe = self._gate.on_change(self._policy_changed)
        self._send(LiveStarted(session_id=self.session_id, sent_at=self._clock.now()))
        self._thread.start()

    def stop(self, reason: str) -> None:
        """End the session (idempotent): no upload starts after this returns; the hub is told once."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
            self.end_reason = reason
        if self._unsubscribe is not None:
            self._unsubscribe()
        log.info("live session %s on %s ended: %s", self.session_id, self.camera_id, reason)
        try:
            self._send(LiveEnded(session_id=self.session_id, reason=reason[:300], sent_at=self._clock.now()))
        except Exception:  # the link may be down; the hub ends the session on its side too
            log.exception("could not send LiveEnded for %s", self.session_id)
        if self._on_end is not None:
            self._on_end(self)

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def check(self) -> Decision:
        """Re-decide now: the policy, the session's length. Stops the session when either says no."""
        if self._stopped.is_set():
            return Decision(False, self.end_reason or "ended")
        now = self._clock.now()
        decision = self._gate.decide(self.camera_id, self.request.requester.agency_id, AccessKind.LIVE, now)
        if not decision.allowed:
            self.stop(decision.reason)
        elif now - self._started_at >= self._limits.max_session:
            self.stop("the session reached its maximum length; ask again to continue")
            decision = Decision(False, "maximum session length")
        else:
            self._masks = self._gate.masks(self.camera_id)
        return decision

    def _policy_changed(self) -> None:
        self.check()

    # ------------------------------------------------------------ the session's own thread

    def _run(self) -> None:
        subscription = None
        segmenter = None
        try:
            subscription = self._source.subscribe(max_queue=self._limits.max_queue)
            segmenter = self._stream(subscription)
        except Exception as exc:  # the hub must hear that the session is over, whatever broke it
            log.exception("live session %s failed", self.session_id)
            self.stop(f"the box could not stream this camera ({type(exc).__name__})")
        finally:
            if subscription is not None:
                subscription.close()
            if segmenter is not None:
                segmenter.close()  # the session is over: what the encoder still holds is not sent

    def _stream(self, subscription: PacketSubscription) -> HlsSegmenter | None:
        segmenter = clock = None
        decoder = FrameDecoder(threads=1)
        rate_cap = _RateCap(self.encoding.max_fps)
        last_packet = last_check = last_accepted = time.monotonic()
        while not self._stopped.is_set():
            item = subscription.get(timeout=0.25)
            now = time.monotonic()
            if now - last_check >= self._limits.recheck_s:
                last_check = now
                if not self.check().allowed:
                    break
            if item is None:
                if now - last_packet >= self._limits.offline_after_s:
                    self.stop("the camera is offline")
                continue
            last_packet = now
            info = subscription.info  # read after get(): a reconnection may have changed the stream
            if clock is None:
                clock = _SessionTime(min(max(float(info.average_rate or 15), 1.0), 60.0) if info else 15.0)
            for frame, _ in decoder.decode(item, info):
                if segmenter is None:  # sized by the first picture, whatever the stream declared
                    segmenter = self._segmenter(frame, clock.rate)
                t = clock.at(decoder.stream_time(frame), item.gap_before)
                if not rate_cap.keep(t):
                    continue
                segments = segmenter.push(self._prepare(frame, segmenter), t)
                if self._upload_all(segments):
                    last_accepted = now
            if segmenter is not None and now - last_accepted >= self._limits.hub_unreachable_after_s:
                self.stop("the hub did not accept live segments")
        return segmenter

    def _segmenter(self, frame: av.VideoFrame, camera_rate: float) -> HlsSegmenter:
        e = self.encoding
        rate = min(camera_rate, e.max_fps) if e.max_fps else camera_rate
        return HlsSegmenter(frame.width, frame.height, rate, e.segment_seconds or self._limits.segment_seconds,
                            crf=e.crf, max_kbps=e.max_kbps, max_width=e.max_width)

    def _prepare(self, frame: av.VideoFrame, segmenter: HlsSegmenter) -> av.VideoFrame:
        masks = self._masks
        if not masks:
            return frame  # the encoder scales and converts it
        # Scaled first (one conversion does both), masked in BGR, then the encoder converts to YUV.
        bgr = frame.reformat(segmenter.width, segmenter.height, "bgr24").to_ndarray()
        return av.VideoFrame.from_ndarray(apply_masks(bgr, masks), format="bgr24")

    def _upload_all(self, segments: list[HlsSegment]) -> bool:
        accepted = False
        for segment in segments:
            if self._stopped.is_set():
                return accepted
            outcome = self._uploads.live_segment(self.session_id, self.request.upload_token, segment)
            for _ in range(2 if segment.seq is None else 0):  # without the init segment nothing plays
                if outcome.status is not UploadStatus.FAILED or self._stopped.is_set():
                    break
                outcome = self._uploads.live_segment(self.session_id, self.request.upload_token, segment)
            if outcome.status is UploadStatus.REFUSED:
                self.stop(f"the hub refused the upload ({outcome.detail})")
            elif segment.seq is None and not outcome.ok:
                self.stop(f"the hub did not take the stream's init segment ({outcome.detail})")
            elif outcome.ok:
                accepted = True
                self.segments_uploaded += 1
            else:
                log.warning("live segment %s/%s dropped: %s", self.session_id, segment.name, outcome.detail)
        return accepted

