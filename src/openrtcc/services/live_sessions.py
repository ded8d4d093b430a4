"""Live view of an integrated camera: the hub decides and records, the box streams, the hub relays.

An agency user asks with a purpose; the hub checks the owner's policy (`decide_access`), records the
session, the owner-visible access and the audit record in one transaction, and sends the box `LiveStart`
with a one-use upload token (the hub keeps only its sha256). The box decides again, then uploads ~0.5 s
fMP4 segments over HTTPS; the hub keeps the newest few (`live_segments(hub)`: a LiveSegmentStore, in the
process's memory or, in city mode, in a JetStream bucket every hub process shares) for the viewer's player.
The session ends when the viewer stops, the box ends it (`LiveEnded`, with its reason), the owner's
policy no longer allows it (`end_refused_sessions`), or no one has fetched the playlist for a minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from openrtcc.domain.access import AccessKind
from openrtcc.domain.accounts import Permission, has_permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.audit_scope import mark_covered
from openrtcc.domain.edge_protocol import LiveEnded, LiveProfile, LiveStart, LiveStarted, LiveStop, Requester
from openrtcc.domain.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound
from openrtcc.services.camera_video import (
    camera_for_video,
    check_reason,
    decide_for,
    new_upload_token,
    token_matches,
)
from openrtcc.services.hub import Actor, Hub
from openrtcc.domain.ports import LiveSegmentStore
from openrtcc.services.live_segments import LiveMeta, LiveSegments, Segment

log = logging.getLogger(__name__)

MAX_SEGMENT_BYTES = 8 * 1024 * 1024
MAX_INIT_BYTES = 512 * 1024
MAX_SEGMENT_SECONDS = 10.0
# A tab closed without "stop" must not keep the owner's camera streaming: a minute without a playlist
# fetch ends the session at the box's next upload.
VIEWER_IDLE = timedelta(seconds=60)
# A box that went away (crashed, lost its network) sends no LiveEnded: this long without an upload ends the
# session, so the viewer is told rather than left watching a frozen picture.
BOX_SILENT = timedelta(seconds=30)
SEGMENT_TYPES = frozenset({"video/mp4", "video/iso.segment"})


@dataclass(frozen=True, slots=True)
class LiveSession:
    id: str
    camera_id: str
    playlist_url: str


def live_segments(hub: Hub) -> LiveSegmentStore:
    """The store city mode's wiring installed, else this process's memory."""
    return hub.extras.setdefault("live_segments", LiveSegments())


def start_live(hub: Hub, actor: Actor, camera_id: str, purpose: str, case_number: str | None,
               profile: LiveProfile = "full") -> LiveSession:
    actor.require(Permission.VIEW_LIVE)
    purpose, case_number = check_reason(purpose, case_number, case_required=False)
    now = hub.clock.now()
    token, token_hash = new_upload_token()
    sid = hub.ids.new_id()
    with hub.uow() as uow:
        cam = camera_for_video(hub, uow, actor, camera_id, AccessKind.LIVE, now)
        uow.live.add_session(id=sid, camera_id=cam.id, edge_id=cam.edge_id, agency_id=actor.agency_id,
                             user_id=actor.user_id, purpose=purpose, case_number=case_number,
                             upload_token_hash=token_hash, started_at=now)
        uow.activity.log_access([dict(camera_pk=cam.pk, agency_id=actor.agency_id, user_id=actor.user_id,
                                      kind="live", purpose=purpose, case_number=case_number, at=now)])
        uow.record(actor.entry("live.start", f"live_session:{sid}", camera=cam.id, case=case_number))
        uow.commit()
    live_segments(hub).open(LiveMeta(sid, cam.id, cam.edge_id, actor.agency_id, actor.user_id, token_hash,
                                     purpose, case_number), now)
    requester = Requester(agency_id=actor.agency_id, user_id=actor.user_id, purpose=purpose,
                          case_number=case_number)
    start = LiveStart(sent_at=now, session_id=sid, camera_id=cam.id, requester=requester, upload_token=token,
                      profile=profile)
    if not hub.extras["edge_links"].send(cam.edge_id, start):
        end_session(hub, sid, "the camera's edge box disconnected before it could be asked", tell_box=False)
        raise Conflict("the camera's edge box is not connected to the hub now; try again later",
                       code="edge_offline")
    # A wall tile polls its playlist: one of many players on one page, it must not hold a connection.
    return LiveSession(sid, cam.id, f"/api/live/{sid}/index.m3u8" + ("?poll=true" if profile == "tile" else ""))


def stop_live(hub: Hub, actor: Actor, session_id: str) -> None:
    row = _viewer_row(hub, actor, session_id)
    if row.ended_at is not None:
        return
    end_session(hub, session_id, f"stopped by {'the viewer' if row.user_id == actor.user_id else 'the agency'}",
                tell_box=True, actor=actor)


def session_status(hub: Hub, actor: Actor, session_id: str) -> dict:
    """What the live page shows: starting (asked), live (video arriving) or ended (with the reason)."""
    row = _viewer_row(hub, actor, session_id)
    with hub.uow() as uow:
        cam = uow.cameras.get_for_agency(row.agency_id, row.camera_id)
        uow.rollback()
    now = hub.clock.now()
    buf = live_segments(hub).get(session_id)
    live_segments(hub).viewed(session_id, now)  # the page polls this while it is open
    if row.ended_at is None and buf is not None and now - buf.last_upload_at > BOX_SILENT:
        reason = f"no video from the camera's box for {BOX_SILENT.seconds} s"
        end_session(hub, session_id, reason, tell_box=True)
        row = _viewer_row(hub, actor, session_id)
        buf = None
    state = "ended" if row.ended_at else "live" if buf is not None and buf.segments else "starting"
    return {"id": row.id, "camera_id": row.camera_id, "camera_name": cam.name if cam else None, "state": state,
            "purpose": row.purpose, "case_number": row.case_number, "started_at": row.started_at,
            "ended_at": row.ended_at, "end_reason": row.end_reason,
            "confirmed_by_box": bool(buf and buf.confirmed), "segments": len(buf.segments) if buf else 0}


def watch(hub: Hub, actor: Actor, session_id: str):
    """The session's relay state for the viewer's player (the session's user, or their agency with the right)."""
    buf = live_segments(hub).get(session_id)
    if buf is None:
        row = _viewer_row(hub, actor, session_id)
        if row.ended_at is not None:
            raise Gone(f"the live view has ended: {row.end_reason}", code="live_ended",
                       details={"reason": row.end_reason})
        buf = live_segments(hub).open(_meta(row), hub.clock.now())  # the hub restarted since it began
    elif not _may_view(actor, buf.meta):
        raise NotFound("no such live session")
    if actor.user_id not in buf.viewers:
        _record_viewer(hub, actor, buf)
    else:
        mark_covered()  # this viewer's live.watch record covers each playlist and segment the player fetches
    live_segments(hub).viewed(session_id, hub.clock.now())
    return buf


def watched_init(hub: Hub, actor: Actor, session_id: str) -> bytes | None:
    watch(hub, actor, session_id)
    return live_segments(hub).init_data(session_id)


def watched_segment(hub: Hub, actor: Actor, session_id: str, seq: int) -> bytes | None:
    watch(hub, actor, session_id)
    return live_segments(hub).segment_data(session_id, seq)


def _record_viewer(hub: Hub, actor: Actor, buf) -> None:
    """A colleague joining someone's session is an access of its own: on the owner's log and audited."""
    m, now = buf.meta, hub.clock.now()
    with hub.uow() as uow:
        cam = uow.cameras.get_for_agency(m.agency_id, m.camera_id)
        if cam is not None:
            uow.activity.log_access([dict(camera_pk=cam.pk, agency_id=actor.agency_id, user_id=actor.user_id,
                                          kind="live", purpose=m.purpose, case_number=m.case_number, at=now)])
        uow.record(actor.entry("live.watch", f"live_session:{m.session_id}", camera=m.camera_id))
        uow.commit()
    live_segments(hub).add_viewer(m.session_id, actor.user_id)


def receive_upload(hub: Hub, edge_id: str, session_id: str, name: str, token: str | None,
                   content_type: str | None, duration_s: float | None, data: bytes) -> None:
    """An init segment (`name` "init") or media segment `name` = its number, from the session's box."""
    buf = _buffer_for_box(hub, edge_id, session_id)
    if not token_matches(token, buf.meta.token_hash):
        raise Forbidden("wrong upload token for this live session", code="bad_upload_token")
    if (content_type or "").split(";")[0].strip().lower() not in SEGMENT_TYPES:
        raise InvalidInput("live segments are fragmented MP4: send Content-Type video/mp4", code="bad_media_type")
    now = hub.clock.now()
    if now - buf.last_viewed_at > VIEWER_IDLE:
        end_session(hub, session_id, "no one was watching", tell_box=True)
        raise Gone("the live view has ended: no one was watching", code="live_ended")
    if name == "init":
        if len(data) > MAX_INIT_BYTES or data[4:8] != b"ftyp":
            raise InvalidInput("an init segment is an fMP4 ftyp + moov of at most 512 KiB", code="bad_segment")
        live_segments(hub).put_init(session_id, data, now)
        mark_covered()  # the session's live.start record covers the box's stream: no row per segment
        return
    if not name.isdigit() or int(name) >= 2**31:
        raise InvalidInput("segment number: 0 or a positive integer", code="bad_segment")
    if duration_s is None or not 0 < duration_s <= MAX_SEGMENT_SECONDS:
        raise InvalidInput("X-Segment-Duration: seconds, more than 0 and at most 10", code="bad_segment")
    if len(data) > MAX_SEGMENT_BYTES or data[4:8] not in (b"styp", b"moof"):
        raise InvalidInput("a media segment is an fMP4 fragment (styp/moof + mdat) of at most 8 MiB",
                           code="bad_segment")
    live_segments(hub).put_segment(session_id, Segment(int(name), duration_s, data), now)
    mark_covered()


def end_session(hub: Hub, session_id: str, reason: str, *, tell_box: bool, actor: Actor | None = None) -> bool:
    """End a session once (the first reason stands); False when it had already ended."""
    now = hub.clock.now()
    with hub.uow() as uow:
        row = uow.live.session(session_id)
        if row is None or not uow.live.end_session(session_id, now, reason):
            uow.rollback()
            live_segments(hub).drop(session_id)
            return False
        uow.record(actor.entry("live.stop", f"live_session:{session_id}", reason=reason) if actor else
                   AuditEntry("live.end", "success", None, row.agency_id, f"live_session:{session_id}", None,
                              {"reason": reason, "edge": row.edge_id}))
        uow.commit()
    live_segments(hub).drop(session_id)
    if tell_box:
        hub.extras["edge_links"].send(row.edge_id, LiveStop(sent_at=now, session_id=session_id, reason=reason))
    return True


def end_refused_sessions(hub: Hub, camera_id: str) -> int:
    """After the owner changed the camera: end its open sessions the policy now refuses (the box does the
    same on its side when the PolicyUpdate arrives). Returns how many ended."""
    return _end_refused(hub, lambda uow: uow.live.open_sessions_for_camera(camera_id))


def emergencies_changed(hub: Hub, agency_ids: set[str]) -> int:
    """After an emergency was declared, ended or expired: end the agencies' open sessions that only it allowed
    (emergency-only cameras); the box does the same when the Emergencies message arrives."""
    def open_rows(uow) -> list:
        return [r for a in sorted(agency_ids) for r in uow.live.open_sessions_for_agency(a)]

    try:
        return _end_refused(hub, open_rows)
    except Exception:
        log.exception("could not end the live sessions refused after an emergency changed")
        return 0


def _end_refused(hub: Hub, open_rows) -> int:
    now = hub.clock.now()
    refused = []
    with hub.uow() as uow:
        for row in open_rows(uow):
            cam = uow.cameras.get_for_agency(row.agency_id, row.camera_id)
            if cam is None:
                refused.append((row.id, "the owner has withdrawn this camera or moved it to another program"))
                continue
            decision = decide_for(hub, uow, cam, row.agency_id, AccessKind.LIVE, now)
            if not decision.allowed or cam.edge_id != row.edge_id:
                refused.append((row.id, decision.reason if not decision.allowed else "the camera moved to another box"))
        uow.rollback()
    return sum(end_session(hub, sid, f"no longer allowed: {why}", tell_box=True) for sid, why in refused)


def camera_changed(hub: Hub, camera_id: str) -> None:
    """Called after an owner's change committed: the change stands even if ending a session fails here (the
    box ends it on its side when the PolicyUpdate arrives)."""
    try:
        end_refused_sessions(hub, camera_id)
    except Exception:
        log.exception("could not end the refused live sessions of camera %s", camera_id)


def edge_revoked(hub: Hub, edge_id: str) -> int:
    """The owner revoked a box: its open sessions end now (its uploads are refused from now on anyway)."""
    with hub.uow() as uow:
        rows = uow.live.open_sessions_for_edge(edge_id)
        uow.rollback()
    return sum(end_session(hub, r.id, "the owner revoked the camera's edge box", tell_box=False) for r in rows)


def register_edge_handlers(hub: Hub, links) -> None:
    """LiveStarted marks the session confirmed by the box; LiveEnded closes it with the box's reason."""
    live_segments(hub)

    def started(edge, msg: LiveStarted) -> None:
        buf = live_segments(hub).get(msg.session_id)
        if buf is not None and buf.meta.edge_id == edge.edge_id:
            live_segments(hub).confirm(msg.session_id)

    def ended(edge, msg: LiveEnded) -> None:
        with hub.uow() as uow:
            row = uow.live.session(msg.session_id)
            uow.rollback()
        if row is None or row.edge_id != edge.edge_id:
            log.warning("edge %s ended a live session that is not its own", edge.edge_id)
            return
        reason = f"the camera's box refused: {msg.reason}" if msg.refused else msg.reason
        end_session(hub, msg.session_id, reason, tell_box=False)

    links.on(LiveStarted, started)
    links.on(LiveEnded, ended)


# ---------------------------------------------------------------- authorisation


def _meta(row) -> LiveMeta:
    return LiveMeta(row.id, row.camera_id, row.edge_id, row.agency_id, row.user_id, row.upload_token_hash,
                    row.purpose, row.case_number)


def _may_view(actor: Actor, meta: LiveMeta) -> bool:
    return actor.agency_id == meta.agency_id and (
        actor.user_id == meta.user_id or has_permission(actor.role, Permission.VIEW_LIVE))


def _viewer_row(hub: Hub, actor: Actor, session_id: str):
    with hub.uow() as uow:
        row = uow.live.session(session_id)
        uow.rollback()
    if row is None or not _may_view(actor, _meta(row)):
        raise NotFound("no such live session")
    return row


def _buffer_for_box(hub: Hub, edge_id: str, session_id: str):
    buf = live_segments(hub).get(session_id)
    if buf is not None and buf.meta.edge_id == edge_id:
        return buf
    with hub.uow() as uow:
        row = uow.live.session(session_id)
        uow.rollback()
    if row is None or row.edge_id != edge_id:
        raise NotFound("no such live session for this box")
    if row.ended_at is not None:
        raise Gone(f"the live view has ended: {row.end_reason}", code="live_ended")
    return live_segments(hub).open(_meta(row), hub.clock.now())
