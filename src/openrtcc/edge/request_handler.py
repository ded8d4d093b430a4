"""The box's answers to the hub's requests: live sessions, clips and holds, each decided again here.

The hub has decided already, but the box is the authority: every request is re-decided with the box's own
copy of the policy (PolicyGate), and every decision, allowed or refused, goes into the box's access log with
who asked, why and for which case, before anything leaves the box. A request whose requester the hub did not
vouch for in full, or for a camera this box does not have, is refused and logged like any other.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from openrtcc.domain.access import AccessKind, Decision
from openrtcc.domain.clock import Clock
from pydantic import TypeAdapter, ValidationError

from openrtcc.domain.edge_protocol import (
    ClipRequest,
    ClipResult,
    HoldRequest,
    HoldResult,
    Id,
    LiveEnded,
    LiveStart,
    LiveStop,
    Requester,
)
from openrtcc.domain.errors import DomainError
from openrtcc.edge.access_log import EdgeAccessLog
from openrtcc.edge.clip_export import ClipError, export_clip
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.hub_uploads import HubUploads
from openrtcc.edge.live_streamer import LiveLimits, LiveStreamer
from openrtcc.edge.packets import PacketSource
from openrtcc.edge.policy_gate import PolicyGate
from openrtcc.edge.segment_store import SegmentStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_live_sessions: int = 4  # full-size; each decodes and encodes, and the box also records and reads plates
    max_clip: timedelta = timedelta(hours=1)
    max_hold: timedelta = timedelta(days=7)
    future_slack: timedelta = timedelta(seconds=5)  # the hub's clock may be a little ahead of the box's


# What a live session costs against the limit, in quarters of a full-size one: a video wall's tile encodes a
# quarter of the pixels at half the rate, so a box that serves 4 full sessions serves a 16-tile wall.
LIVE_COST = {"full": 4, "tile": 1}
_ID = TypeAdapter(Id)
_REQUESTS = {"live_start": ("live", "session_id"), "clip_request": ("clip", "request_id"), "hold": ("hold", "hold_id")}


def _valid_id(value: object) -> str | None:
    try:
        return _ID.validate_python(value)
    except ValidationError:
        return None


def _text(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _vouched(requester: Requester, needs_case: bool) -> str | None:
    """Why the hub's vouching is not enough, or None."""
    if not requester.purpose.strip():
        return "the request states no purpose"
    if needs_case and not (requester.case_number or "").strip():
        return "a request for recorded video needs a case number"
    return None


class RequestHandler:
    """Register on the hub link with `register(link)`, or call the `handle_*` methods directly."""

    def __init__(self, config: EdgeConfig, gate: PolicyGate, access_log: EdgeAccessLog, uploads: HubUploads,
                 send: Callable[[object], object], clock: Clock, sources: Callable[[str], PacketSource | None],
                 store: SegmentStore | None = None, *, live_limits: LiveLimits = LiveLimits(),
                 limits: RequestLimits = RequestLimits(), work_dir: Path | None = None):
        self._config = config
        self._gate = gate
        self._log = access_log
        self._uploads = uploads
        self._send = send
        self._clock = clock
        self._sources = sources
        self._store = store
        self._live_limits = live_limits
        self._limits = limits
        self._work_dir = Path(work_dir or Path(config.edge.data_dir) / "clips")
        self._lock = threading.Lock()
        self._sessions: dict[str, LiveStreamer | None] = {}  # None: reserved by a start being decided
        self._live_cost: dict[str, int] = {}  # what each session (or reservation) counts against the limit
        self._clips = ThreadPoolExecutor(1, thread_name_prefix="clip-export")  # one transcode at a time

    def register(self, link) -> None:
        link.on(LiveStart, self.handle_live_start)
        link.on(LiveStop, self.handle_live_stop)
        link.on(ClipRequest, self.handle_clip_request)
        link.on(HoldRequest, self.handle_hold_request)
        link.on_malformed(self.refuse_malformed)

    def live_sessions(self) -> list[LiveStreamer]:
        with self._lock:
            return [s for s in self._sessions.values() if s is not None]

    def close(self, reason: str = "the box is shutting down") -> None:
        for session in self.live_sessions():
            session.stop(reason)
        for session in self.live_sessions():
            session.join(5)
        self._clips.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------ live

    def handle_live_start(self, msg: LiveStart) -> LiveStreamer | None:
        decision = self._record("live", msg.camera_id, msg.requester, self._decide_live(msg))
        if not decision.allowed:
            with self._lock:
                if self._sessions.get(msg.session_id, False) is None:  # reserved, then the log write failed
                    del self._sessions[msg.session_id]
                    self._live_cost.pop(msg.session_id, None)
            self._send(LiveEnded(session_id=msg.session_id, reason=decision.reason, refused=True,
                                 sent_at=self._clock.now()))
            return None
        try:
            session = LiveStreamer(msg, self._sources(msg.camera_id), self._gate, self._uploads, self._send,
                                   self._clock, self._live_limits, on_end=self._live_ended)
        except Exception:
            with self._lock:
                self._sessions.pop(msg.session_id, None)
                self._live_cost.pop(msg.session_id, None)
            raise
        with self._lock:
            self._sessions[msg.session_id] = session
        session.start()
        return session

    def _decide_live(self, msg: LiveStart) -> Decision:
        why = _vouched(msg.requester, needs_case=False)
        if why:
            return Decision(False, why)
        decision = self._gate.decide(msg.camera_id, msg.requester.agency_id, AccessKind.LIVE, self._clock.now())
        if not decision.allowed:
            return decision
        if self._sources(msg.camera_id) is None:
            return Decision(False, "the camera is not connected to the box")
        with self._lock:  # checked and reserved together: two starts at once cannot both pass the limit
            if msg.session_id in self._sessions:
                return Decision(False, "a live session with this id is already running")
            cost = LIVE_COST[msg.profile]
            if sum(self._live_cost.values()) + cost > self._limits.max_live_sessions * LIVE_COST["full"]:
                return Decision(False, "the box is already serving its maximum of live sessions")
            self._sessions[msg.session_id] = None
            self._live_cost[msg.session_id] = cost
        return decision

    def _live_ended(self, session: LiveStreamer) -> None:
        with self._lock:
            self._sessions.pop(session.session_id, None)
            self._live_cost.pop(session.session_id, None)
        self._record("live", session.camera_id, session.request.requester,
                     Decision(False, session.end_reason or "ended"), outcome="ended")

    def handle_live_stop(self, msg: LiveStop) -> None:
        with self._lock:
            session = self._sessions.get(msg.session_id)
        if session is None:
            log.info("LiveStop for %s: no such session on this box", msg.session_id)
            return
        session.stop(f"stopped by the hub: {msg.reason}")

    # ------------------------------------------------------------ clips

    def handle_clip_request(self, msg: ClipRequest):
        """Decides, exports and uploads in the box's one clip worker (a transcode at a time). Returns its future."""
        return self._clips.submit(self._serve_clip_guarded, msg)

    def _serve_clip_guarded(self, msg: ClipRequest) -> ClipResult:
        try:
            return self.serve_clip(msg)
        except Exception as exc:  # a full disk, a broken store: the hub must still hear how the request ended
            log.exception("clip %s failed", msg.request_id)
            return self._clip_done(msg, "failed", f"the box could not export the clip ({type(exc).__name__})")

    def serve_clip(self, msg: ClipRequest) -> ClipResult:
        decision = self._record("clip", msg.camera_id, msg.requester, self._decide_recorded(
            msg.camera_id, msg.requester, msg.start, msg.end, self._limits.max_clip, "clip"))
        if not decision.allowed:
            return self._clip_result(msg, "refused", decision.reason)
        self._work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._work_dir) as tmp:
            path = Path(tmp) / f"{msg.request_id}.mp4"
            try:
                export = export_clip(self._store, msg.camera_id, msg.start, msg.end, self._gate.masks(msg.camera_id),
                                     path)
            except ClipError as exc:
                return self._clip_done(msg, "failed", exc.message)
            outcome = self._uploads.clip(msg.request_id, msg.upload_token, path, export.sha256)
        if not outcome.ok:
            return self._clip_done(msg, "failed", f"the clip could not be uploaded: {outcome.detail}")
        return self._clip_done(msg, "ready", f"clip uploaded: {export.size_bytes} bytes, sha256 {export.sha256}",
                               sha256=export.sha256, size_bytes=export.size_bytes)

    def _clip_done(self, msg: ClipRequest, status: str, reason: str, **result) -> ClipResult:
        self._record("clip", msg.camera_id, msg.requester, Decision(status == "ready", reason), outcome="ended")
        return self._clip_result(msg, status, reason, **result)

    def _clip_result(self, msg: ClipRequest, status: str, reason: str, **result) -> ClipResult:
        message = ClipResult(request_id=msg.request_id, status=status, reason=reason[:300], sent_at=self._clock.now(),
                             **result)
        self._send(message)
        return message

    # ------------------------------------------------------------ holds

    def handle_hold_request(self, msg: HoldRequest) -> HoldResult:
        if msg.release:
            decision = self._release(msg)
        else:
            decision = self._decide_recorded(msg.camera_id, msg.requester, msg.start, msg.end,
                                             self._limits.max_hold, "hold")
            if decision.allowed:
                decision = self._hold(msg)
        self._record("hold", msg.camera_id, msg.requester, decision)
        status = ("released" if msg.release else "held") if decision.allowed else "refused"
        result = HoldResult(hold_id=msg.hold_id, status=status, reason=decision.reason[:300],
                            sent_at=self._clock.now())
        self._send(result)
        return result

    def _hold(self, msg: HoldRequest) -> Decision:
        who = f"{msg.requester.agency_id}/{msg.requester.user_id}"
        try:
            self._store.add_hold(msg.hold_id, msg.camera_id, msg.start, msg.end,
                                 case_number=msg.requester.case_number, requested_by=who)
        except DomainError as exc:
            return Decision(False, exc.message)
        return Decision(True, "footage held for the case")

    def _release(self, msg: HoldRequest) -> Decision:
        if self._store is None:
            return Decision(False, "this box does not record")
        held = next((h for h in self._store.holds(include_released=True) if h.hold_id == msg.hold_id), None)
        if held is None or held.camera_id != msg.camera_id:
            return Decision(False, "no such hold on this camera")
        if held.released:
            return Decision(True, "the hold was already released")
        self._store.release_hold(msg.hold_id)  # ending a hold only shortens what is kept: no policy check
        return Decision(True, "hold released")

    # ------------------------------------------------------------ requests that do not parse

    def refuse_malformed(self, raw: str | bytes, problem: str) -> None:
        """A request from the hub that failed validation (say, a requester without a user or a purpose): the
        hub did not vouch for it in full, so it is refused, logged with what can be read, and answered when
        its id can be read."""
        try:
            doc = json.loads(raw)
        except ValueError:
            return
        if not isinstance(doc, dict) or doc.get("type") not in _REQUESTS:
            return
        kind, id_field = _REQUESTS[doc["type"]]
        who = doc.get("requester") if isinstance(doc.get("requester"), dict) else {}
        reason = f"the hub's request was incomplete or malformed: {problem}"[:300]
        now = self._clock.now()
        self._log.record(kind=kind, outcome="refused", reason=reason, at=now,
                         camera_id=_valid_id(doc.get("camera_id")), agency_id=_valid_id(who.get("agency_id")),
                         user_id=_valid_id(who.get("user_id")), purpose=_text(who.get("purpose"), 300),
                         case_number=_text(who.get("case_number"), 64))
        ident = _valid_id(doc.get(id_field))
        if ident is None:
            return
        if kind == "live":
            self._send(LiveEnded(session_id=ident, reason=reason, refused=True, sent_at=now))
        elif kind == "clip":
            self._send(ClipResult(request_id=ident, status="refused", reason=reason, sent_at=now))
        else:
            self._send(HoldResult(hold_id=ident, status="refused", reason=reason, sent_at=now))

    # ------------------------------------------------------------ shared

    def _decide_recorded(self, camera_id: str, requester: Requester, start: datetime, end: datetime,
                         longest: timedelta, what: str) -> Decision:
        why = _vouched(requester, needs_case=True)
        if why:
            return Decision(False, why)
        now = self._clock.now()
        if end <= start:
            return Decision(False, f"the {what}'s range must end after it starts")
        if end - start > longest:
            return Decision(False, f"a {what} covers at most {longest}")
        if end > now + self._limits.future_slack:
            return Decision(False, f"the {what}'s range ends in the future")
        decision = self._gate.decide(camera_id, requester.agency_id, AccessKind.RECORDED, now)
        if decision.allowed and self._store is None:
            return Decision(False, "this box does not record")
        if decision.allowed and not self._store.segments(camera_id, start, end):
            return Decision(False, "nothing was recorded on this camera in that range")
        return decision

    def _record(self, kind: str, camera_id: str, requester: Requester, decision: Decision,
                outcome: str | None = None) -> Decision:
        """Write the entry; an access the box cannot log is an access it refuses."""
        try:
            self._log.record(kind=kind, outcome=outcome or ("allowed" if decision.allowed else "refused"),
                             reason=decision.reason, at=self._clock.now(), camera_id=camera_id,
                             agency_id=requester.agency_id, user_id=requester.user_id, purpose=requester.purpose,
                             case_number=requester.case_number)
        except Exception:
            log.exception("the access log could not be written (%s on %s)", kind, camera_id)
            if decision.allowed and outcome is None:
                return Decision(False, "the box could not write its access log, so it refuses")
        return decision
