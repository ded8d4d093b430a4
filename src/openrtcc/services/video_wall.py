"""The video wall: the integrated cameras nearest a place that the owners' policies let this agency watch live now.

The same decision live view makes (`decide_access` with the agency's active emergencies), taken for each
camera near the place, so that the wall only ever asks for what a tile may play; the box decides again when
the tile starts. A wall search is a search: it states a purpose, each camera it returns is on its owner's
access log, and it is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from datetime import timedelta

from openrtcc.domain.access import AccessKind, AccessRequest, decide_access
from openrtcc.domain.accounts import Permission
from openrtcc.domain.cameras import Camera, Tier
from openrtcc.domain.errors import InvalidInput, NotFound
from openrtcc.domain.geo import Point, distance_m, valid_coordinates
from openrtcc.domain.incidents import IncidentView
from openrtcc.services.camera_video import active_emergencies, check_reason
from openrtcc.services.edges import SILENT_AFTER
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.search import MAX_SEARCH_RADIUS_M, Purpose

MAX_TILES = 16  # the largest layout, 4x4
DEFAULT_RADIUS_M = 1_500.0
NEAR_LIMIT = 500  # cameras looked at around the place before the policy check


@dataclass(frozen=True, slots=True)
class WallCamera:
    camera: Camera
    distance_m: float
    reason: str  # why the owner's policy allows live view now (always, schedule, the emergency ...)


def nearest_live(hub: Hub, actor: Actor, lat: float, lon: float, purpose: Purpose, *, limit: int = MAX_TILES,
                 radius_m: float = DEFAULT_RADIUS_M, target: str | None = None) -> list[WallCamera]:
    """Up to `limit` cameras within `radius_m`, nearest first, whose live video this agency may have now and
    whose box is connected and reports them online."""
    actor.require(Permission.VIEW_LIVE)
    purpose = Purpose(*check_reason(purpose.text, purpose.case_number, case_required=False))  # as live view does
    if not valid_coordinates(lat, lon):
        raise InvalidInput("latitude must be within -90..90 and longitude within -180..180", code="bad_coordinates")
    if not 1 <= radius_m <= MAX_SEARCH_RADIUS_M:
        raise InvalidInput(f"radius must be between 1 and {MAX_SEARCH_RADIUS_M:.0f} m", code="bad_radius")
    if not 1 <= limit <= MAX_TILES:
        raise InvalidInput(f"limit: 1 to {MAX_TILES} cameras", code="bad_limit")
    center, now = Point(lat, lon), hub.clock.now()
    links = hub.extras["edge_links"]
    with hub.uow() as uow:
        near = [c for c in uow.cameras.within_radius(actor.agency_id, center, radius_m, NEAR_LIMIT)
                if c.tier is Tier.INTEGRATED and c.edge_id is not None and links.is_connected(c.edge_id)]
        offline = set(uow.edges.offline_cameras(actor.agency_id, now - SILENT_AFTER)) if near else set()
        emergencies = active_emergencies(uow, actor.agency_id, now) if near else []
        offset = timedelta(minutes=hub.utc_offset_minutes)
        picked = []
        for cam in sorted(near, key=lambda c: distance_m(c.location, center)):
            request = AccessRequest(actor.agency_id, AccessKind.LIVE, cam.agency_id, cam.location, cam.tier,
                                    cam.status)
            decision = decide_access(cam.policy, request, now, emergencies, offset)
            if decision.allowed and cam.id not in offline:
                picked.append(WallCamera(cam, distance_m(cam.location, center), decision.reason))
            if len(picked) == limit:
                break
        uow.activity.log_access([dict(camera_pk=w.camera.pk, agency_id=actor.agency_id, user_id=actor.user_id,
                                      kind="location", purpose=purpose.text,
                                      case_number=purpose.case_number, at=now) for w in picked])
        uow.record(actor.entry("wall.nearest", target, lat=round(lat, 5), lon=round(lon, 5), radius_m=radius_m,
                               purpose=purpose.text, case=purpose.case_number, count=len(picked)))
        uow.commit()
    return picked


def incident_purpose(incident: IncidentView) -> Purpose:
    """What the wall's search and its tiles' live sessions state for an incident: the incident itself."""
    return Purpose(f"incident {incident.id}: {incident.title}"[:300])


def nearest_for_incident(hub: Hub, actor: Actor, incident_id: str, *, limit: int = MAX_TILES,
                         radius_m: float = DEFAULT_RADIUS_M) -> tuple[Purpose, list[WallCamera]]:
    """The wall for one of the agency's incidents: its place, and the purpose its tiles will state."""
    actor.require(Permission.VIEW_LIVE)
    with hub.uow() as uow:
        incident = uow.incidents.get(actor.agency_id, incident_id)
        uow.rollback()
    if incident is None:
        raise NotFound("no such incident in your agency")
    purpose = incident_purpose(incident)
    return purpose, nearest_live(hub, actor, incident.lat, incident.lon, purpose, limit=limit, radius_m=radius_m,
                                 target=f"incident:{incident.id}")
