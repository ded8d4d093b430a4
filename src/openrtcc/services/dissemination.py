"""Dissemination's entry points: notices made from alerts and incidents, operators' bulletins, a sign-up's
direct confirmation message; the worker (services.dissemination_worker) matches, stores and sends them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from openrtcc.domain.accounts import Permission
from openrtcc.domain.alerts import AlertRaised, AlertStatus, AlertView
from openrtcc.domain.command_events import IncidentChanged
from openrtcc.domain.dissemination import Audience, DeliveryStatus, Notice, NoticeKind, SubscriberStatus
from openrtcc.domain.errors import InvalidInput, NotFound, Unavailable
from openrtcc.domain.geo import valid_coordinates
from openrtcc.domain.incidents import IncidentView
from openrtcc.domain.notice_documents import notice_document
from openrtcc.domain.notice_templates import category_label
from openrtcc.domain.subscriber_index import MAX_RADIUS_M
from openrtcc.services.hub import Actor, Hub

ALERT_CATEGORY = "plate_alert"
_CHANGE = {"opened": "new", "updated": "update", "closed": "end"}
DIRECT_SUBJECT_MAX = 200
DIRECT_TEXT_MAX = 2000
STORED_WAIT_S = 20.0  # a shared consumer's event waits this long for its notice to be stored (< its ack wait)


def notice_for_alert(alert: AlertView, notice_id: str) -> Notice:
    """A plate hit, for police units: the plate, the list and the record's reason go to them alone."""
    police = {"alert_id": alert.id, "plate": alert.plate, "state": alert.state, "list_name": alert.list_name,
              "match_kind": alert.match_kind, "confidence": round(alert.confidence, 3), "camera_id": alert.camera_id,
              "reason": alert.entry.get("reason"), "vehicle_make": alert.vehicle_make,
              "vehicle_colour": alert.vehicle_colour, "link": f"/alerts?alert={alert.id}",
              "crop_url": f"/api/agency/alerts/{alert.id}/crop" if alert.has_crop else None}
    return Notice(notice_id, alert.agency_id, NoticeKind.ALERT, "new", alert.id, ALERT_CATEGORY, 1,
                  alert.lat, alert.lon, alert.captured_at, f"Hot-list hit on {alert.list_name or 'a hot list'}",
                  police=police)


def _incident_state(i: IncidentView) -> dict:
    return {"category": i.category, "priority": i.priority, "lat": i.lat, "lon": i.lon, "title": i.title,
            "body": i.description, "police": _incident_police(i)}


def _incident_police(i: IncidentView) -> dict:
    return {"incident_id": i.id, "address": i.address, "status": i.status.value, "source": i.source.value,
            "external_id": i.external_id, "link": f"/command?incident={i.id}"}


def notice_for_incident(event: IncidentChanged, notice_id: str) -> Notice:
    i = event.incident
    return Notice(notice_id, i.agency_id, NoticeKind.INCIDENT, _CHANGE.get(event.change, "update"), i.id,
                  i.category, i.priority, i.lat, i.lon, i.updated_at, i.title, i.description,
                  police=_incident_police(i), before=_incident_state(event.before) if event.before else None)


def source_key(n: Notice) -> str | None:
    """One notice per alert and per incident change: a re-announced event is not disseminated twice."""
    if n.kind is NoticeKind.ALERT:
        return f"alert:{n.source_id}:new"
    if n.kind is NoticeKind.INCIDENT:
        return f"incident:{n.source_id}:{n.change}:{n.occurred_at.isoformat()}"
    return None


def on_alert(hub: Hub, event: AlertRaised) -> None:
    """Bus handler: quick, it only queues (handlers run in the publisher's thread)."""
    if event.alert.status is AlertStatus.NEW:
        worker(hub).submit(notice_for_alert(event.alert, hub.ids.new_id()))


def on_incident(hub: Hub, event: IncidentChanged) -> None:
    worker(hub).submit(notice_for_incident(event, hub.ids.new_id()))


def disseminate_alert(hub: Hub, event: AlertRaised, timeout_s: float = STORED_WAIT_S) -> None:
    """A shared bus consumer's handler (city mode): returns once the alert's notice is stored, raises otherwise
    so that the event comes back. A redelivered event finds its notice stored under the same source key and
    adds nothing: each subscriber gets one delivery per alert however often the event arrives."""
    if event.alert.status is AlertStatus.NEW:
        _stored(hub, notice_for_alert(event.alert, hub.ids.new_id()), timeout_s)


def disseminate_incident(hub: Hub, event: IncidentChanged, timeout_s: float = STORED_WAIT_S) -> None:
    _stored(hub, notice_for_incident(event, hub.ids.new_id()), timeout_s)


def _stored(hub: Hub, notice: Notice, timeout_s: float) -> None:
    if not worker(hub).submit_stored(notice, timeout_s):
        raise Unavailable(f"the {notice.kind.value} notice was not stored within {timeout_s:g} s",
                          code="dissemination_busy")


def worker(hub: Hub):
    w = hub.extras.get("dissemination")
    if w is None:
        raise Unavailable("dissemination is turned off on this hub (RTCC_DISSEMINATION_INTERVAL_S=0)",
                          code="dissemination_off")
    return w


def subscribers_changed(hub: Hub) -> None:
    """Call after a subscriber is added, confirmed, changed or removed: the matching index is rebuilt."""
    w = hub.extras.get("dissemination")
    if w is not None:
        w.invalidate()


def send_direct(hub: Hub, uow, subscriber_id: str, subject: str, text: str) -> int:
    """A message to one subscriber (a sign-up's confirmation), inside the caller's transaction: a
    `confirmation` notice and its delivery, sent within a retry round of the caller's commit."""
    sub = uow.dissemination.subscriber_by_id(subscriber_id)
    if sub is None:
        raise NotFound("no such subscriber", code="subscriber_not_found")
    now = hub.clock.now()
    notice_id = hub.ids.new_id()
    n = Notice(notice_id, sub.agency_id, NoticeKind.CONFIRMATION, "new", subscriber_id, "confirmation", 5,
               None, None, now, subject[:DIRECT_SUBJECT_MAX], text[:DIRECT_TEXT_MAX])
    uow.dissemination.add_notices([notice_row(n, None, now, None)])
    [delivery_id] = uow.dissemination.add_deliveries([delivery_row(notice_id, sub, DeliveryStatus.QUEUED, now, now)])
    return delivery_id


def notice_row(n: Notice, key: str | None, now: datetime, created_by: str | None) -> dict:
    return dict(id=n.id, agency_id=n.agency_id, kind=n.kind.value, change=n.change, source_key=key,
                category=n.category, priority=n.priority, lat=n.lat, lon=n.lon, document=notice_document(n),
                created_by=created_by, created_at=now)


def delivery_row(notice_id: str, sub, status: DeliveryStatus, now: datetime, next_at: datetime | None) -> dict:
    return dict(notice_id=notice_id, subscriber_id=sub.id, channel=sub.channel.value, status=status.value,
                attempts=0, next_at=next_at, last_error=None, created_at=now, handed_at=None)


@dataclass(frozen=True, slots=True)
class BulletinDraft:
    title: str
    text: str
    category: str
    audiences: frozenset[Audience]
    lat: float | None = None
    lon: float | None = None
    radius_m: float = 0.0
    priority: int = 3


def bulletin_notice(hub: Hub, actor: Actor, d: BulletinDraft) -> Notice:
    """Checks an operator's bulletin and makes its notice (the worker matches and sends it)."""
    actor.require(Permission.SEND_BULLETINS)
    if not d.audiences:
        raise InvalidInput("choose at least one audience", code="bad_audiences")
    if not d.title.strip() or not d.text.strip():
        raise InvalidInput("a bulletin needs a title and a text", code="bad_bulletin")
    if (d.lat is None) != (d.lon is None):
        raise InvalidInput("give both lat and lon, or neither", code="bad_area")
    if d.lat is not None and not valid_coordinates(d.lat, d.lon):
        raise InvalidInput("lat/lon out of range", code="bad_area")
    if not math.isfinite(d.radius_m) or not 0 <= d.radius_m <= MAX_RADIUS_M:
        raise InvalidInput(f"radius_m must be between 0 and {MAX_RADIUS_M:.0f}", code="bad_area")
    if d.radius_m and d.lat is None:
        raise InvalidInput("a radius needs a centre (lat, lon)", code="bad_area")
    category_label(d.category)
    return Notice(hub.ids.new_id(), actor.agency_id, NoticeKind.BULLETIN, "new", None, d.category, d.priority,
                  d.lat, d.lon, hub.clock.now(), d.title.strip(), d.text.strip(), audiences=d.audiences,
                  radius_m=d.radius_m)


def sendable(status: SubscriberStatus, kind: NoticeKind) -> bool:
    """A confirmation goes to a subscriber still pending; everything else only to active ones."""
    if kind is NoticeKind.CONFIRMATION:
        return status in (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE)
    return status is SubscriberStatus.ACTIVE


LEASE = timedelta(seconds=30)  # a delivery handed to the worker is not picked up by a retry round before this
