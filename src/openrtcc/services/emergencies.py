"""Emergencies: a supervisor declares an incident (centre, radius, expiry) that opens emergency-only sharing
on owners' cameras nearby; each change and each expiry reaches the boxes whose cameras it concerns."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from openrtcc.domain.access import Emergency
from openrtcc.domain.accounts import Permission, Role
from openrtcc.domain.cameras import MAX_EMERGENCY_RADIUS_M, check_in_jurisdiction
from openrtcc.domain.edge_protocol import Emergencies, EmergencyNotice
from openrtcc.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from openrtcc.domain.geo import Point, area_from_geojson, distance_m, valid_coordinates
from openrtcc.periodic import PeriodicTask
from openrtcc.services import command_events, live_sessions
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)
MAX_DURATION = timedelta(hours=24)
EXPIRY_CHECK_S = 15.0
DECLARING_ROLES = (Role.ADMIN, Role.SUPERVISOR)


@dataclass(frozen=True, slots=True)
class EmergencyDraft:
    lat: float
    lon: float
    radius_m: float
    reason: str
    case_number: str | None
    expires_in_minutes: int


def _domain(row) -> Emergency:
    return Emergency(row.agency_id, Point(row.lat, row.lon), row.radius_m, row.expires_at)


def may_declare(actor: Actor) -> None:
    if actor.role not in DECLARING_ROLES:
        raise Forbidden("only a supervisor or an administrator declares or ends an emergency",
                        code="permission_denied")


def _checked(uow, agency_id: str, d: EmergencyDraft) -> None:
    if not valid_coordinates(d.lat, d.lon):
        raise InvalidInput("latitude must be within -90..90 and longitude within -180..180", code="bad_coordinates")
    if not 0 < d.radius_m <= MAX_EMERGENCY_RADIUS_M:
        raise InvalidInput(f"the radius must be between 1 and {MAX_EMERGENCY_RADIUS_M:.0f} m", code="bad_radius")
    if not 1 <= d.expires_in_minutes <= MAX_DURATION.total_seconds() / 60:
        raise InvalidInput("an emergency lasts 1 minute to 24 hours; declare it again to extend it",
                           code="bad_duration")
    if len(d.reason.strip()) < 3:
        raise InvalidInput("say why the emergency is declared", code="bad_reason")
    agency = uow.accounts.agency(agency_id)
    check_in_jurisdiction(Point(d.lat, d.lon), area_from_geojson(agency.jurisdiction), agency.name)


def declare(hub: Hub, actor: Actor, draft: EmergencyDraft):
    may_declare(actor)
    with hub.uow() as uow:
        eid = declare_in(hub, uow, actor.agency_id, actor.user_id, draft)
        uow.record(actor.entry("emergency.declare", f"emergency:{eid}", radius_m=draft.radius_m,
                               minutes=draft.expires_in_minutes, case_number=draft.case_number))
        uow.commit()
        row = uow.emergencies.get(actor.agency_id, eid)
    declared(hub, row)
    return row


def declare_in(hub: Hub, uow, agency_id: str, declared_by: str | None, draft: EmergencyDraft) -> str:
    """Store a declaration inside the caller's transaction, which audits it and then calls `declared`.
    `declared_by` is None when an integration declared it (a CAD call type mapped to an emergency)."""
    _checked(uow, agency_id, draft)
    now = hub.clock.now()
    eid = hub.ids.new_id()
    uow.emergencies.add(id=eid, agency_id=agency_id, lat=draft.lat, lon=draft.lon, radius_m=draft.radius_m,
                        reason=draft.reason.strip(), case_number=draft.case_number, declared_by=declared_by,
                        declared_at=now, expires_at=now + timedelta(minutes=draft.expires_in_minutes))
    return eid


def declared(hub: Hub, row) -> None:
    """After commit: the boxes and the command centers hear of it."""
    notify_boxes(hub, [row])
    command_events.emergency_changed(hub, row, "declared")


def end(hub: Hub, actor: Actor, emergency_id: str):
    may_declare(actor)
    with hub.uow() as uow:
        row = uow.emergencies.get(actor.agency_id, emergency_id)
        if row is None:
            raise NotFound("no such emergency in your agency")
        if row.ended_at is not None or row.expires_at <= hub.clock.now():
            raise Conflict("this emergency is already over", code="already_over")
        uow.emergencies.end(emergency_id, hub.clock.now())
        uow.record(actor.entry("emergency.end", f"emergency:{emergency_id}"))
        uow.commit()
        row = uow.emergencies.get(actor.agency_id, emergency_id)
    notify_boxes(hub, [row])
    command_events.emergency_changed(hub, row, "ended")
    return row


def list_emergencies(hub: Hub, actor: Actor) -> list:
    """The agency's emergencies of the last 24 hours, newest first (active ones are among them)."""
    actor.require(Permission.VIEW_CAMERA_MAP)
    with hub.uow() as uow:
        rows = uow.emergencies.recent(actor.agency_id, hub.clock.now() - MAX_DURATION)
        uow.record(actor.entry("emergency.list", f"agency:{actor.agency_id}", count=len(rows)))
        uow.commit()
    return rows


def active_emergencies(hub: Hub, agency_id: str, now: datetime) -> list[Emergency]:
    """The agency's emergencies in force at `now`, for the hub's own access decisions (decide_access)."""
    with hub.uow() as uow:
        rows = uow.emergencies.active(agency_id, now)
        uow.rollback()
    return [_domain(r) for r in rows]


# ---------------------------------------------------------------- to the boxes


def _reaches(row, lat: float, lon: float) -> bool:
    return distance_m(Point(row.lat, row.lon), Point(lat, lon)) <= row.radius_m


def notices_for(uow, edge_id: str, now: datetime) -> Emergencies:
    """Every emergency in force that reaches one of the box's cameras of the declaring agency."""
    cams = uow.edges.linked_cameras([edge_id])
    found = [r for r in uow.emergencies.active(None, now)
             if any(c.agency_id == r.agency_id and _reaches(r, c.lat, c.lon) for c in cams)]
    return Emergencies(sent_at=now, emergencies=[
        EmergencyNotice(emergency_id=r.id, agency_id=r.agency_id, lat=r.lat, lon=r.lon, radius_m=r.radius_m,
                        expires_at=r.expires_at) for r in found])


def send_emergencies(hub: Hub, edge_id: str) -> bool:
    links = hub.extras.get("edge_links")
    if links is None or not links.is_connected(edge_id):
        return False
    with hub.uow() as uow:
        message = notices_for(uow, edge_id, hub.clock.now())
        uow.rollback()
    return links.send(edge_id, message)


def notify_boxes(hub: Hub, changed: list) -> None:
    """Send the whole set again to every connected box with a camera of the agency that `changed` reach."""
    links = hub.extras.get("edge_links")
    if links is None or not changed:
        return
    with hub.uow() as uow:
        cams = uow.edges.linked_cameras(links.connected_ids())
        uow.rollback()
    edges = {c.edge_id for c in cams for r in changed if c.agency_id == r.agency_id and _reaches(r, c.lat, c.lon)}
    for edge_id in edges:
        try:
            send_emergencies(hub, edge_id)
        except Exception:  # the box still compares expiry times itself; the next change resends the set
            log.exception("could not send emergencies to edge %s", edge_id)
    live_sessions.emergencies_changed(hub, {r.agency_id for r in changed})


class ExpiryWatch:
    """Tells the boxes when an emergency expires (they also compare expiry times themselves)."""

    def __init__(self, hub: Hub):
        self.hub = hub
        self._lock = threading.Lock()
        self._active: dict[str, object] = {}

    def check(self) -> None:
        with self.hub.uow() as uow:
            now_active = {r.id: r for r in uow.emergencies.active(None, self.hub.clock.now())}
            uow.rollback()
        with self._lock:
            gone = [r for eid, r in self._active.items() if eid not in now_active]
            self._active = now_active
        notify_boxes(self.hub, gone)
        for row in gone:
            command_events.emergency_changed(self.hub, row, "expired", only_if_expired=True)


def register_edge_handlers(hub: Hub, links) -> None:
    """Boxes get the emergencies that concern them on connect; expiries are watched in the background."""
    links.on_connect(lambda edge: send_emergencies(hub, edge.edge_id))
    watch = ExpiryWatch(hub)
    hub.extras["emergency_expiry"] = watch
    hub.extras.setdefault("background", []).append(PeriodicTask("emergency-expiry", EXPIRY_CHECK_S, watch.check))
