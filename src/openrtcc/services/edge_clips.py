"""Clips of recorded video asked of an integrated camera's edge box, landed in the case's evidence.

The hub decides (`decide_access`, recorded video), records the request, the owner-visible access and the
audit record together, and sends the box `ClipRequest` with a one-use upload token (only its sha256 kept).
The box decides again, exports the range and uploads it with its SHA-256; the hub stores the bytes, checks
the digest (a mismatch keeps nothing) and adds the clip to the case's evidence. A refusal or failure comes
back as `ClipResult` and is shown with its reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from openrtcc.domain.access import AccessKind
from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.edge_protocol import ClipRequest, ClipResult, Requester
from openrtcc.domain.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound
from openrtcc.domain.footage import sniff_media_type
from openrtcc.services.camera_video import camera_for_video, check_reason, new_upload_token, token_matches
from openrtcc.services.footage import PrependedStream
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)

MAX_CLIP = timedelta(hours=1)
CLIP_ANSWER_WAIT = timedelta(minutes=30)  # a box exports an hour of video in well under a minute
CLIP_WATCH_EVERY_S = 60.0
SHA256_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class ClipAsk:
    camera_id: str
    purpose: str
    case_number: str
    start: datetime
    end: datetime


def request_clip(hub: Hub, actor: Actor, ask: ClipAsk) -> str:
    """Returns the clip's id (its status is `requested` until the box answers)."""
    actor.require(Permission.REQUEST_FOOTAGE)
    purpose, case_number = check_reason(ask.purpose, ask.case_number, case_required=True)
    now = hub.clock.now()
    _check_range(ask.start, ask.end, now)
    token, token_hash = new_upload_token()
    clip_id = hub.ids.new_id()
    with hub.uow() as uow:
        cam = camera_for_video(hub, uow, actor, ask.camera_id, AccessKind.RECORDED, now)
        uow.live.add_clip(id=clip_id, camera_id=cam.id, edge_id=cam.edge_id, agency_id=actor.agency_id,
                          user_id=actor.user_id, purpose=purpose, case_number=case_number, start_at=ask.start,
                          end_at=ask.end, status="requested", upload_token_hash=token_hash, requested_at=now)
        uow.activity.log_access([dict(camera_pk=cam.pk, agency_id=actor.agency_id, user_id=actor.user_id,
                                      kind="footage", purpose=purpose, case_number=case_number, at=now)])
        uow.record(actor.entry("clip.request", f"edge_clip:{clip_id}", camera=cam.id, case=case_number,
                               start=ask.start.isoformat(), end=ask.end.isoformat()))
        uow.commit()
    requester = Requester(agency_id=actor.agency_id, user_id=actor.user_id, purpose=purpose,
                          case_number=case_number)
    message = ClipRequest(sent_at=now, request_id=clip_id, camera_id=cam.id, requester=requester,
                          start=ask.start, end=ask.end, upload_token=token)
    if not hub.extras["edge_links"].send(cam.edge_id, message):
        _finish(hub, clip_id, cam.edge_id, "failed", "the camera's edge box disconnected before it could be asked")
    return clip_id


def _check_range(start: datetime, end: datetime, now: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("give start and end with their UTC offset", code="bad_window")
    if end <= start:
        raise InvalidInput("the clip must end after it starts", code="bad_window")
    if end - start > MAX_CLIP:
        raise InvalidInput("a clip may span at most 1 hour", code="bad_window")
    if end > now:
        raise InvalidInput("a clip cannot reach into the future", code="bad_window")


def receive_clip(hub: Hub, edge_id: str, clip_id: str, token: str | None, declared_sha256: str | None,
                 stream: BinaryIO) -> dict:
    """Store the box's upload, check its SHA-256 and land it in the case's evidence; nothing is kept when
    anything is wrong."""
    declared = (declared_sha256 or "").strip().lower()
    if len(declared) != 64 or not set(declared) <= SHA256_HEX:
        raise InvalidInput("X-Content-SHA256: the clip's SHA-256 as 64 hex digits", code="bad_sha256")
    clip = _clip_for_upload(hub, edge_id, clip_id, token)
    head = stream.read(64)
    kind = sniff_media_type(head)
    if kind is None or not kind[0].startswith("video/"):
        raise InvalidInput("a clip is a video file (MP4)", code="unsupported_media")
    key = f"evidence/{clip.agency_id}/{clip_id}.{kind[1]}"
    try:
        size, sha = hub.media.put(key, PrependedStream(head, stream), hub.max_upload_bytes)
        if sha != declared:
            raise InvalidInput("the clip's SHA-256 does not match X-Content-SHA256: nothing was kept",
                               code="sha256_mismatch", details={"received": sha})
        _land(hub, edge_id, clip_id, kind[0], size, sha, key)
    except BaseException:
        hub.media.delete(key)  # no file without its evidence row
        raise
    return {"id": clip_id, "sha256": sha, "size_bytes": size}


def _clip_for_upload(hub: Hub, edge_id: str, clip_id: str, token: str | None):
    with hub.uow() as uow:
        clip = uow.live.clip_for_edge(edge_id, clip_id)
        uow.rollback()
    if clip is None:
        raise NotFound("no such clip request for this box")
    if not token_matches(token, clip.upload_token_hash):
        raise Forbidden("wrong upload token for this clip request", code="bad_upload_token")
    if clip.status != "requested":
        raise Gone(f"this clip request is already {clip.status}", code="clip_closed")
    return clip


def _land(hub: Hub, edge_id: str, clip_id: str, media_type: str, size: int, sha: str, key: str) -> None:
    with hub.uow() as uow:
        clip = uow.live.clip_for_edge(edge_id, clip_id, for_update=True)
        cam = uow.cameras.get_for_agency(clip.agency_id, clip.camera_id)
        if cam is None:
            raise Conflict("the owner withdrew this camera while the clip was on its way", code="camera_withdrawn")
        now = hub.clock.now()
        if not uow.live.finish_clip(clip_id, status="ready", sha256=sha, size_bytes=size, storage_key=key,
                                    completed_at=now):
            raise Gone("this clip request is already answered", code="clip_closed")
        uow.footage.add_evidence(id=clip_id, agency_id=clip.agency_id, request_id=None,
                                 case_number=clip.case_number, camera_pk=cam.pk, owner_id=cam.owner_id,
                                 media_type=media_type, size_bytes=size, sha256=sha, storage_key=key,
                                 original_name=f"{cam.id}-{clip.start_at:%Y%m%dT%H%M%SZ}.{key.rsplit('.', 1)[-1]}",
                                 uploaded_at=now)
        uow.record(AuditEntry("clip.received", "success", None, clip.agency_id, f"edge_clip:{clip_id}", None,
                              {"edge": edge_id, "sha256": sha, "size": size, "case": clip.case_number}))
        uow.commit()


def _finish(hub: Hub, clip_id: str, edge_id: str, status: str, reason: str) -> bool:
    with hub.uow() as uow:
        clip = uow.live.clip_for_edge(edge_id, clip_id, for_update=True)
        if clip is None or not uow.live.finish_clip(clip_id, status=status, reason=reason[:300],
                                                    completed_at=hub.clock.now()):
            uow.rollback()
            return False
        uow.record(AuditEntry(f"clip.{status}", "success", None, clip.agency_id, f"edge_clip:{clip_id}", None,
                              {"edge": edge_id, "reason": reason[:300]}))
        uow.commit()
        return True


def fail_unanswered_clips(hub: Hub) -> int:
    """Requests the box never answered (it was cut off, or its answer was lost with the link) are closed as
    failed after CLIP_ANSWER_WAIT, so the investigator sees it and asks again instead of waiting forever; a
    late upload is then refused (410) and keeps nothing."""
    with hub.uow() as uow:
        stale = uow.live.unanswered_clips(hub.clock.now() - CLIP_ANSWER_WAIT)
        uow.rollback()
    minutes = int(CLIP_ANSWER_WAIT.total_seconds() // 60)
    return sum(_finish(hub, row.id, row.edge_id, "failed",
                       f"the box did not answer within {minutes} minutes (offline or cut off): ask again")
               for row in stale)


def list_clips(hub: Hub, actor: Actor, case_number: str | None) -> list:
    actor.require(Permission.VIEW_EVIDENCE)
    with hub.uow() as uow:
        rows = uow.live.clips_for_agency(actor.agency_id, (case_number or "").strip() or None)
        uow.record(actor.entry("clip.list", f"agency:{actor.agency_id}", case=case_number, count=len(rows)))
        uow.commit()
        return rows


def get_clip(hub: Hub, actor: Actor, clip_id: str):
    actor.require(Permission.VIEW_EVIDENCE)
    with hub.uow() as uow:
        row = uow.live.clip_for_agency(actor.agency_id, clip_id)
        uow.rollback()
    if row is None:
        raise NotFound("no such clip in your agency")
    return row


def open_clip(hub: Hub, actor: Actor, clip_id: str) -> tuple[object, str, BinaryIO]:
    """The clip's bytes for download: audited, and shown in the owner's access log."""
    actor.require(Permission.VIEW_EVIDENCE)
    with hub.uow() as uow:
        row = uow.live.clip_for_agency(actor.agency_id, clip_id)
        if row is None:
            raise NotFound("no such clip in your agency")
        if row.status != "ready":
            raise Conflict(f"this clip is {row.status}, not ready to download", code="clip_not_ready")
        evidence = uow.footage.evidence_item(actor.agency_id, clip_id)  # the same id: its media type
        uow.activity.log_access([dict(camera_pk=row.camera_pk, agency_id=actor.agency_id, user_id=actor.user_id,
                                      kind="footage", purpose=f"evidence review, case {row.case_number}",
                                      case_number=row.case_number, at=hub.clock.now())])
        uow.record(actor.entry("clip.download", f"edge_clip:{clip_id}", sha256=row.sha256))
        uow.commit()
    return row, evidence.media_type, hub.media.open(row.storage_key)


def register_edge_handlers(hub: Hub, links) -> None:
    """ClipResult: refused or failed closes the request with the box's reason; ready confirms the upload."""

    def result(edge, msg: ClipResult) -> None:
        if msg.status == "ready":
            return  # the upload itself landed the clip, after checking its SHA-256
        _finish(hub, msg.request_id, edge.edge_id, msg.status, msg.reason or f"the box answered {msg.status}")

    links.on(ClipResult, result)

