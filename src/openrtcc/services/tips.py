"""Public tips: sent by anyone (rate-limited, media cleaned of its metadata), worked by the agency's command center
(read, review, dismiss, or promote to an incident). Every view of a tip and of its media is audited."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from dataclasses import dataclass
from typing import BinaryIO

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.command_events import TipReceived
from openrtcc.domain.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from openrtcc.domain.geo import area_from_geojson
from openrtcc.domain.incidents import IncidentDraft, IncidentSource, IncidentView
from openrtcc.domain.public_forms import (
    TIP_KEEP_DAYS,
    TipStatus,
    TipView,
    check_contact,
    check_tip_place,
    check_tip_text,
    excerpt,
    next_tip_status,
    sniff_tip_media,
)
from openrtcc.services import incidents
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.public_forms_guard import check_rate, count_request, limits, source

log = logging.getLogger(__name__)

TIP_BUCKET = "tip"
HEAD_BYTES = 64
RECEIPT = ("Thank you: your tip reached the command center. If you left contact details, an officer may get in "
           "touch. In an emergency, call 911.")
STATUS_FILTERS = {"new": ("new",), "reviewed": ("reviewed",), "open": ("new", "reviewed"), "promoted": ("promoted",),
                  "dismissed": ("dismissed",), "all": None}


@dataclass(frozen=True, slots=True)
class TipForm:
    agency_id: str
    text: str
    lat: float | None = None
    lon: float | None = None
    location_text: str | None = None
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMedia:
    key: str
    media_type: str
    size: int
    sha256: str


def store_media(hub: Hub, agency_id: str, tip_id: str, stream: BinaryIO | None) -> StoredMedia | None:
    """The attachment, checked by its first bytes and its size, cleaned of its metadata in memory (EXIF/GPS of
    photos by re-encoding, tags of clips by remuxing), then stored: the original never reaches the disk.
    None when no file was chosen."""
    if stream is None:
        return None
    head = stream.read(HEAD_BYTES)
    if not head:
        return None  # an empty file field: browsers send one when nothing was chosen
    media_type, ext = sniff_tip_media(head)
    max_bytes = limits(hub).tip_max_bytes
    data = head + stream.read(max_bytes + 1 - len(head))
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is larger than the {_size_text(max_bytes)} limit: send a smaller photo or a "
                              "shorter clip")
    scrubber = hub.extras.get("media_scrubber")
    if scrubber is not None:
        data = scrubber.scrub(data, media_type)
    key = f"tips/{agency_id}/{tip_id}.{ext}"
    size, sha = hub.media.put(key, io.BytesIO(data), max(max_bytes, len(data)))
    return StoredMedia(key, media_type, size, sha)


def _size_text(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def submit_tip(hub: Hub, form: TipForm, media_stream: BinaryIO | None, client: str | None) -> str:
    """Store a tip in its agency's queue; announce it after commit. Returns the receipt text."""
    lim = limits(hub)
    check_rate(hub, TIP_BUCKET, client, lim.tips_per_hour, "tips")
    text = check_tip_text(form.text)
    contact = check_contact(form.contact)
    with hub.uow() as uow:
        agency = uow.accounts.agency(form.agency_id)
        uow.rollback()
    if agency is None:
        raise NotFound("no such program: choose one from the list", code="no_such_program")
    place = check_tip_place(form.lat, form.lon, form.location_text, area_from_geojson(agency.jurisdiction))
    tip_id = hub.ids.new_id()
    media = store_media(hub, agency.id, tip_id, media_stream)
    try:
        with hub.uow() as uow:
            count_request(hub, uow, TIP_BUCKET, client, lim.tips_per_hour, "tips")
            now = hub.clock.now()
            uow.tips.add(id=tip_id, agency_id=agency.id, text=text, lat=place.lat, lon=place.lon,
                         location_text=place.text, contact=contact, media_key=media.key if media else None,
                         media_type=media.media_type if media else None, media_bytes=media.size if media else None,
                         media_sha256=media.sha256 if media else None, status=TipStatus.NEW.value, created_at=now)
            uow.record(AuditEntry("tip.submit", "success", None, agency.id, f"tip:{tip_id}", source(hub, client),
                                  {"chars": len(text), "media_type": media.media_type if media else None,
                                   "media_bytes": media.size if media else None, "located": place.lat is not None,
                                   "contact": bool(contact)}))
            uow.commit()
    except BaseException:
        if media:
            hub.media.delete(media.key)  # nothing half-written: no file without its tip
        raise
    if hub.bus is not None:
        try:
            hub.bus.publish(TipReceived(tip_id, agency.id, now, media is not None, excerpt(text)))
        except Exception as exc:  # the tip is stored: screens see it on their next list
            log.warning("tip stored but not announced (%s)", type(exc).__name__)
    return RECEIPT


# --- the command center's queue ---

def _view(r) -> TipView:
    return TipView(r.id, r.agency_id, r.created_at, r.text, r.lat, r.lon, r.location_text, r.contact, r.media_type,
                   r.media_bytes, TipStatus(r.status), r.incident_id, r.reviewed_by, r.reviewer_name, r.reviewed_at)


def list_tips(hub: Hub, actor: Actor, status: str = "open", limit: int = 100) -> list[TipView]:
    actor.require(Permission.HANDLE_INCIDENTS)
    if status not in STATUS_FILTERS:
        raise InvalidInput(f"status is one of {', '.join(STATUS_FILTERS)}", code="bad_status")
    with hub.uow() as uow:
        rows = uow.tips.newest(actor.agency_id, STATUS_FILTERS[status], max(1, min(limit, 500)))
        uow.record(actor.entry("tip.list", f"agency:{actor.agency_id}", status=status, count=len(rows)))
        uow.commit()
    return [_view(r) for r in rows]


def _owned(uow, actor: Actor, tip_id: str, *, for_update: bool = False):
    row = uow.tips.get(actor.agency_id, tip_id, for_update=for_update)
    if row is None:
        raise NotFound("no such tip in your agency's queue", code="tip_not_found")
    return row


def get_tip(hub: Hub, actor: Actor, tip_id: str) -> TipView:
    actor.require(Permission.HANDLE_INCIDENTS)
    with hub.uow() as uow:
        row = _owned(uow, actor, tip_id)
        uow.record(actor.entry("tip.read", f"tip:{tip_id}"))
        uow.commit()
    return _view(row)


def open_media(hub: Hub, actor: Actor, tip_id: str) -> tuple[str, BinaryIO]:
    """The tip's photo or clip, each view audited; served as the type sniffed when it was received."""
    actor.require(Permission.HANDLE_INCIDENTS)
    with hub.uow() as uow:
        row = _owned(uow, actor, tip_id)
        if row.media_key is None:
            raise NotFound("this tip has no photo or clip", code="no_media")
        uow.record(actor.entry("tip.media_view", f"tip:{tip_id}", media_type=row.media_type,
                               sha256=row.media_sha256))
        uow.commit()
    return row.media_type, hub.media.open(row.media_key)


def _move(hub: Hub, actor: Actor, tip_id: str, wanted: TipStatus, **details) -> TipView:
    actor.require(Permission.HANDLE_INCIDENTS)
    with hub.uow() as uow:
        row = _owned(uow, actor, tip_id, for_update=True)
        next_tip_status(TipStatus(row.status), wanted)
        if not uow.tips.set_status(actor.agency_id, tip_id, row.status, wanted.value, actor.user_id,
                                   hub.clock.now()):
            raise Conflict("someone else changed this tip at the same moment: reload it", code="tip_changed")
        uow.record(actor.entry(f"tip.{'review' if wanted is TipStatus.REVIEWED else 'dismiss'}", f"tip:{tip_id}",
                               **details))
        updated = _owned(uow, actor, tip_id)
        uow.commit()
    return _view(updated)


def review(hub: Hub, actor: Actor, tip_id: str) -> TipView:
    return _move(hub, actor, tip_id, TipStatus.REVIEWED)


def dismiss(hub: Hub, actor: Actor, tip_id: str, note: str | None = None) -> TipView:
    return _move(hub, actor, tip_id, TipStatus.DISMISSED, note=(note or "")[:500] or None)


@dataclass(frozen=True, slots=True)
class Promotion:
    category: str
    priority: int
    title: str
    lat: float | None = None  # needed when the tip has no location of its own
    lon: float | None = None
    address: str | None = None


def promote(hub: Hub, actor: Actor, tip_id: str, p: Promotion) -> tuple[TipView, IncidentView]:
    """Open an incident from a tip in the same transaction that marks the tip promoted; announced after commit."""
    actor.require(Permission.HANDLE_INCIDENTS)
    with hub.uow() as uow:
        row = _owned(uow, actor, tip_id, for_update=True)
        next_tip_status(TipStatus(row.status), TipStatus.PROMOTED)
        lat, lon = (p.lat, p.lon) if p.lat is not None and p.lon is not None else (row.lat, row.lon)
        if lat is None or lon is None:
            raise InvalidInput("this tip has no location: place the incident on the map", code="location_needed")
        draft = IncidentDraft(category=p.category, priority=p.priority, title=p.title, lat=lat, lon=lon,
                              description=row.text, address=p.address or row.location_text,
                              source=IncidentSource.TIP, external_id=tip_id,
                              details={"tip_id": tip_id, "has_media": row.media_key is not None})
        view = incidents.open_incident(hub, uow, actor.agency_id, draft, actor.user_id, actor.source)
        if not uow.tips.set_status(actor.agency_id, tip_id, row.status, TipStatus.PROMOTED.value, actor.user_id,
                                   hub.clock.now(), incident_id=view.id):
            raise Conflict("someone else changed this tip at the same moment: reload it", code="tip_changed")
        uow.record(actor.entry("tip.promote", f"tip:{tip_id}", incident=view.id))
        updated = _owned(uow, actor, tip_id)
        uow.commit()
    incidents.announce(hub, view, "opened")
    return _view(updated), view


def forget_old_tips(hub: Hub) -> int:
    """Tips (and their media) older than TIP_KEEP_DAYS are deleted, unless promoted into an incident's record."""
    with hub.uow() as uow:
        old = uow.tips.expired(hub.clock.now() - timedelta(days=TIP_KEEP_DAYS))
        if not old:
            uow.rollback()
            return 0
        uow.tips.delete([r.id for r in old])
        uow.record(AuditEntry("tip.expire", "success", None, None, None, None,
                              {"deleted": len(old), "keep_days": TIP_KEEP_DAYS}))
        uow.commit()
    for r in old:
        if r.media_key:
            hub.media.delete(r.media_key)  # after the rows are gone: a file left by a crash is only disk, no tip
    return len(old)
