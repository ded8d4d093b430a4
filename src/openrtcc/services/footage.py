"""Footage requests: open one for an incident, owners answer or upload, uploads become evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from openrtcc.domain.accounts import Permission
from openrtcc.domain.errors import InvalidInput, NotFound
from openrtcc.domain.footage import (
    MAX_REQUEST_RADIUS_M,
    OwnerAnswer,
    check_window,
    next_answer,
    sniff_media_type,
)
from openrtcc.domain.geo import Point, valid_coordinates
from openrtcc.services.hub import Actor, Hub

CASE_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/.]{1,63}$")


@dataclass(frozen=True, slots=True)
class FootageRequestDraft:
    case_number: str
    purpose: str
    lat: float
    lon: float
    radius_m: float
    window_start: datetime
    window_end: datetime


def open_request(hub: Hub, actor: Actor, d: FootageRequestDraft) -> tuple[str, int, int]:
    """Returns (request id, cameras asked, owners notified)."""
    actor.require(Permission.REQUEST_FOOTAGE)
    if not CASE_NUMBER_RE.match(d.case_number):
        raise InvalidInput("case number: 2-64 letters, digits, '-', '/' or '.'", code="bad_case_number")
    if len(d.purpose.strip()) < 3:
        raise InvalidInput("state the purpose of this request", code="purpose_required")
    if not valid_coordinates(d.lat, d.lon):
        raise InvalidInput("latitude must be within -90..90 and longitude within -180..180", code="bad_coordinates")
    if not 1 <= d.radius_m <= MAX_REQUEST_RADIUS_M:
        raise InvalidInput(f"radius must be between 1 and {MAX_REQUEST_RADIUS_M:.0f} m", code="bad_radius")
    now = hub.clock.now()
    check_window(d.window_start, d.window_end, now)
    with hub.uow() as uow:
        cams = uow.cameras.within_radius(actor.agency_id, Point(d.lat, d.lon), d.radius_m, 500)
        if not cams:
            raise InvalidInput("no registered camera lies within that area", code="no_cameras")
        rid = hub.ids.new_id()
        uow.footage.add_request(id=rid, agency_id=actor.agency_id, created_by=actor.user_id,
                                case_number=d.case_number, purpose=d.purpose.strip()[:300], incident_lat=d.lat,
                                incident_lon=d.lon, radius_m=d.radius_m, window_start=d.window_start,
                                window_end=d.window_end, status="open", created_at=now)
        uow.footage.add_targets(rid, [(c.pk, c.owner_id) for c in cams])
        agency = uow.accounts.agency(actor.agency_id)
        owners = sorted({c.owner_id for c in cams})
        window = f"{d.window_start:%Y-%m-%d %H:%M} to {d.window_end:%Y-%m-%d %H:%M} UTC"
        for owner_id in owners:
            subject = f"{agency.name} asks for footage (case {d.case_number})"
            body = (f"{agency.name} is asking owners near an incident for footage from {window}.\n"
                    f"Purpose: {d.purpose.strip()}\n\nYou decide: approve, decline or upload a clip in your "
                    f"portal: {hub.base_url}/portal#requests\nSharing is voluntary.")
            uow.activity.notify(id=hub.ids.new_id(), user_id=owner_id, kind="footage_request", subject=subject,
                                body=body, link=f"/portal#request-{rid}", created_at=now, read_at=None)
            uow.activity.enqueue("email", {"user_id": owner_id, "subject": subject, "body": body}, now)
        uow.activity.log_access([dict(camera_pk=c.pk, agency_id=actor.agency_id, user_id=actor.user_id,
                                      kind="footage_request", purpose=d.purpose.strip()[:300],
                                      case_number=d.case_number, at=now) for c in cams])
        uow.record(actor.entry("footage.request_open", f"footage_request:{rid}", case=d.case_number,
                               cameras=len(cams), owners=len(owners)))
        uow.commit()
    return rid, len(cams), len(owners)


def agency_requests(hub: Hub, actor: Actor) -> list:
    actor.require(Permission.REQUEST_FOOTAGE)
    with hub.uow() as uow:
        rows = uow.footage.requests_for_agency(actor.agency_id)
        uow.record(actor.entry("footage.request_list", f"agency:{actor.agency_id}", count=len(rows)))
        uow.commit()
        return rows


def agency_request(hub: Hub, actor: Actor, request_id: str) -> tuple:
    actor.require(Permission.REQUEST_FOOTAGE)
    with hub.uow() as uow:
        req = uow.footage.request_for_agency(actor.agency_id, request_id)
        if req is None:
            raise NotFound("no such footage request in your agency")
        targets = uow.footage.targets(request_id)
        evidence = uow.footage.evidence_for_case(actor.agency_id, req.case_number)
        uow.record(actor.entry("footage.request_read", f"footage_request:{request_id}"))
        uow.commit()
        return req, targets, [e for e in evidence if e.request_id == request_id]


def case_evidence(hub: Hub, actor: Actor, case_number: str) -> list:
    actor.require(Permission.VIEW_EVIDENCE)
    with hub.uow() as uow:
        items = uow.footage.evidence_for_case(actor.agency_id, case_number)
        uow.record(actor.entry("evidence.list", f"case:{case_number}", count=len(items)))
        uow.commit()
        return items


def open_evidence(hub: Hub, actor: Actor, item_id: str) -> tuple[object, BinaryIO]:
    actor.require(Permission.VIEW_EVIDENCE)
    with hub.uow() as uow:
        item = uow.footage.evidence_item(actor.agency_id, item_id)
        if item is None:
            raise NotFound("no such evidence item in your agency")
        uow.activity.log_access([dict(camera_pk=item.camera_pk, agency_id=actor.agency_id, user_id=actor.user_id,
                                      kind="footage", purpose=f"evidence review, case {item.case_number}",
                                      case_number=item.case_number, at=hub.clock.now())])
        uow.record(actor.entry("evidence.download", f"evidence:{item.id}", sha256=item.sha256))
        uow.commit()
    return item, hub.media.open(item.storage_key)


def owner_requests(hub: Hub, owner: Actor) -> list:
    owner.require(Permission.OWN_CAMERAS)
    with hub.uow() as uow:
        rows = uow.footage.requests_for_owner(owner.user_id)
        names = {a.id: a.name for a in uow.accounts.agencies()}
        uow.record(owner.entry("footage.owner_list", f"user:{owner.user_id}", count=len(rows)))
        uow.commit()
        return [(r, names.get(r.agency_id, "")) for r in rows]


def answer_request(hub: Hub, owner: Actor, request_id: str, camera_id: str, answer: OwnerAnswer,
                   note: str | None) -> OwnerAnswer:
    owner.require(Permission.OWN_CAMERAS)
    if answer not in (OwnerAnswer.APPROVED, OwnerAnswer.DECLINED):
        raise InvalidInput("answer with approved or declined; upload a clip to send footage", code="bad_answer")
    with hub.uow() as uow:
        target = uow.footage.owner_target(owner.user_id, request_id, camera_id, for_update=True)
        if target is None:
            raise NotFound("no such request for your camera")
        new = next_answer(OwnerAnswer(target.answer), answer)
        uow.footage.set_answer(request_id, target.camera_pk, new.value, (note or "")[:1000] or None,
                               hub.clock.now())
        uow.record(owner.entry("footage.answer", f"footage_request:{request_id}", camera=camera_id,
                               answer=new.value))
        uow.commit()
        return new


def upload_clip(hub: Hub, owner: Actor, request_id: str, camera_id: str, stream: BinaryIO,
                original_name: str) -> dict:
    """Check the type by content and the size while streaming; store with SHA-256; add to the case."""
    owner.require(Permission.OWN_CAMERAS)
    head = stream.read(64)
    kind = sniff_media_type(head)
    if kind is None:
        raise InvalidInput("unsupported file: upload an MP4, MOV, MKV, WebM or AVI video, or a JPEG/PNG still",
                           code="unsupported_media")
    media_type, ext = kind
    with hub.uow() as uow:  # refuse early, before the clip is read
        agency_id = _open_target(uow, owner, request_id, camera_id).agency_id
        uow.rollback()
    item_id = hub.ids.new_id()
    key = f"evidence/{agency_id}/{item_id}.{ext}"
    try:
        # Stored outside any transaction: a slow or large upload must not hold the database (on SQLite
        # every other writer would wait for it). The answer is checked again once the clip is in.
        size, sha = hub.media.put(key, PrependedStream(head, stream), hub.max_upload_bytes)
        with hub.uow() as uow:
            target = _open_target(uow, owner, request_id, camera_id, for_update=True)
            now = hub.clock.now()
            uow.footage.add_evidence(id=item_id, agency_id=target.agency_id, request_id=request_id,
                                     case_number=target.case_number, camera_pk=target.camera_pk,
                                     owner_id=owner.user_id, media_type=media_type, size_bytes=size, sha256=sha,
                                     storage_key=key, original_name=_safe_name(original_name), uploaded_at=now)
            uow.footage.set_answer(request_id, target.camera_pk, OwnerAnswer.UPLOADED.value, None, now)
            uow.record(owner.entry("footage.upload", f"evidence:{item_id}", request=request_id, camera=camera_id,
                                   sha256=sha, size=size, media_type=media_type))
            uow.commit()
    except BaseException:
        hub.media.delete(key)  # nothing half-written: no file without its evidence row
        raise
    return {"id": item_id, "sha256": sha, "size_bytes": size, "media_type": media_type}


def _open_target(uow, owner: Actor, request_id: str, camera_id: str, *, for_update: bool = False):
    """The owner's part of a request, provided it still takes an upload."""
    target = uow.footage.owner_target(owner.user_id, request_id, camera_id, for_update=for_update)
    if target is None:
        raise NotFound("no such request for your camera")
    next_answer(OwnerAnswer(target.answer), OwnerAnswer.UPLOADED)
    return target


def _safe_name(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", (name or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    return base[:255] or "upload"


class PrependedStream:
    """A stream with the sniffed head put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head = head
        self.rest = rest

    def read(self, n: int = -1) -> bytes:
        if self.head:
            if n < 0:
                out, self.head = self.head + self.rest.read(), b""
                return out
            out, self.head = self.head[:n], self.head[n:]
            if len(out) < n:
                out += self.rest.read(n - len(out))
            return out
        return self.rest.read(n)
