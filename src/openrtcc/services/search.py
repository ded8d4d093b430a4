"""The agency side of the registry: map, radius, polygon and view-cone search, incident pins.

Every search states a purpose; every camera whose location it returns is logged for its owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from openrtcc.domain.accounts import Permission
from openrtcc.domain.cameras import MAX_RANGE_M, Camera, cameras_seeing
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import Area, Point, distance_m, has_crossing_edges, valid_coordinates
from openrtcc.services.hub import Actor, Hub

MAX_SEARCH_RADIUS_M = 5_000.0
MAX_RESULTS = 2_000
MAX_AREA_VERTICES = 1_000  # a hand-drawn search area; also bounds the cost of the crossing check


@dataclass(frozen=True, slots=True)
class Purpose:
    text: str
    case_number: str | None = None

    def __post_init__(self):
        if len(self.text.strip()) < 3:
            raise InvalidInput("state the purpose of this search", code="purpose_required")


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    organisation: str | None
    email: str | None
    phone: str | None
    preferred_channel: str
    note: str


@dataclass(frozen=True, slots=True)
class Hit:
    camera: Camera
    distance_m: float | None
    contact: Contact | None = None


def _point(lat: float, lon: float) -> Point:
    if not valid_coordinates(lat, lon):
        raise InvalidInput("latitude must be within -90..90 and longitude within -180..180", code="bad_coordinates")
    return Point(lat, lon)


def _log(uow, hub: Hub, actor: Actor, cams: list[Camera], kind: str, purpose: Purpose) -> None:
    now = hub.clock.now()
    uow.activity.log_access([
        dict(camera_pk=c.pk, agency_id=actor.agency_id, user_id=actor.user_id, kind=kind,
             purpose=purpose.text.strip()[:300], case_number=purpose.case_number, at=now)
        for c in cams
    ])


def search_radius(hub: Hub, actor: Actor, lat: float, lon: float, radius_m: float, purpose: Purpose) -> list[Hit]:
    actor.require(Permission.SEARCH_CAMERAS)
    center = _point(lat, lon)
    if not 1 <= radius_m <= MAX_SEARCH_RADIUS_M:
        raise InvalidInput(f"radius must be between 1 and {MAX_SEARCH_RADIUS_M:.0f} m", code="bad_radius")
    with hub.uow() as uow:
        cams = uow.cameras.within_radius(actor.agency_id, center, radius_m, MAX_RESULTS)
        _log(uow, hub, actor, cams, "location", purpose)
        uow.record(actor.entry("camera.search_radius", None, lat=round(lat, 5), lon=round(lon, 5),
                               radius_m=radius_m, purpose=purpose.text, case=purpose.case_number, count=len(cams)))
        uow.commit()
    return [Hit(c, distance_m(c.location, center)) for c in cams]


def search_area(hub: Hub, actor: Actor, area: Area, purpose: Purpose) -> list[Hit]:
    actor.require(Permission.SEARCH_CAMERAS)
    b = area.bbox
    if distance_m(Point(b.min_lat, b.min_lon), Point(b.max_lat, b.max_lon)) > 4 * MAX_SEARCH_RADIUS_M:
        raise InvalidInput("the area is too large: draw a smaller polygon", code="area_too_large")
    vertices = sum(len(r) for p in area.polygons for r in (p.ring, *p.holes))
    if vertices > MAX_AREA_VERTICES:
        raise InvalidInput(f"area: at most {MAX_AREA_VERTICES} vertices", code="bad_geometry")
    if has_crossing_edges(area):
        raise InvalidInput("area: the polygon's edges cross each other; draw it without crossings",
                           code="bad_geometry")
    with hub.uow() as uow:
        cams = uow.cameras.within_area(actor.agency_id, area, MAX_RESULTS)
        _log(uow, hub, actor, cams, "location", purpose)
        uow.record(actor.entry("camera.search_area", None, bbox=[round(v, 5) for v in (b.min_lat, b.min_lon,
                               b.max_lat, b.max_lon)], purpose=purpose.text, case=purpose.case_number,
                               count=len(cams)))
        uow.commit()
    return [Hit(c, None) for c in cams]


def cameras_that_could_see(hub: Hub, actor: Actor, lat: float, lon: float, purpose: Purpose) -> list[Hit]:
    """View-cone search: cameras whose field of view covers the point, nearest first."""
    actor.require(Permission.SEARCH_CAMERAS)
    target = _point(lat, lon)
    with hub.uow() as uow:
        near = uow.cameras.within_radius(actor.agency_id, target, MAX_RANGE_M, MAX_RESULTS)
        cams = cameras_seeing(target, near)
        _log(uow, hub, actor, cams, "location", purpose)
        uow.record(actor.entry("camera.search_view", None, lat=round(lat, 5), lon=round(lon, 5),
                               purpose=purpose.text, case=purpose.case_number, count=len(cams)))
        uow.commit()
    return [Hit(c, distance_m(c.location, target)) for c in cams]


def incident_cameras(hub: Hub, actor: Actor, lat: float, lon: float, radius_m: float,
                     purpose: Purpose) -> list[Hit]:
    """An incident pin: nearby cameras, with each owner's contact only as far as the owner allows."""
    actor.require(Permission.VIEW_OWNER_CONTACT)
    center = _point(lat, lon)
    if not 1 <= radius_m <= MAX_SEARCH_RADIUS_M:
        raise InvalidInput(f"radius must be between 1 and {MAX_SEARCH_RADIUS_M:.0f} m", code="bad_radius")
    with hub.uow() as uow:
        cams = uow.cameras.within_radius(actor.agency_id, center, radius_m, 200)
        contacts = uow.accounts.owner_contacts([c.owner_id for c in cams])
        hits = [Hit(c, distance_m(c.location, center), _contact(contacts.get(c.owner_id))) for c in cams]
        _log(uow, hub, actor, cams, "location", purpose)
        shared = [h.camera for h in hits if h.contact and (h.contact.email or h.contact.phone)]
        _log(uow, hub, actor, shared, "contact", purpose)
        uow.record(actor.entry("camera.incident_pin", None, lat=round(lat, 5), lon=round(lon, 5),
                               radius_m=radius_m, purpose=purpose.text, case=purpose.case_number,
                               count=len(cams), contacts_disclosed=len(shared)))
        uow.commit()
    return hits


def _contact(row: tuple | None) -> Contact | None:
    if row is None:
        return None
    name, email, phone, share, channel, org = row
    if share == "always":
        return Contact(name, org, email, phone, channel, "the owner shares contact details")
    if share == "on_request":
        return Contact(name, org, None, None, "portal", "the owner prefers requests through the portal")
    return Contact("(withheld)", None, None, None, "portal", "the owner does not share contact details")


def map_points(hub: Hub, actor: Actor) -> list[tuple]:
    """Every active camera of the agency's program, as compact points for the clustered map."""
    actor.require(Permission.VIEW_CAMERA_MAP)
    with hub.uow() as uow:
        points = uow.cameras.map_points(actor.agency_id)
        # One program-wide entry: owners see it in their access log without a row per camera.
        uow.activity.log_access([dict(camera_pk=None, agency_id=actor.agency_id, user_id=actor.user_id,
                                      kind="location", purpose="camera map overview", case_number=None,
                                      at=hub.clock.now())])
        uow.record(actor.entry("camera.map", f"agency:{actor.agency_id}", count=len(points)))
        uow.commit()
    return points


def camera_detail(hub: Hub, actor: Actor, camera_id: str, purpose: Purpose) -> Hit:
    from openrtcc.domain.errors import NotFound

    actor.require(Permission.SEARCH_CAMERAS)
    with hub.uow() as uow:
        cam = uow.cameras.get_for_agency(actor.agency_id, camera_id)
        if cam is None:
            raise NotFound("no such camera in your agency's program")
        _log(uow, hub, actor, [cam], "location", purpose)
        uow.record(actor.entry("camera.read", f"camera:{cam.id}", purpose=purpose.text, case=purpose.case_number))
        uow.commit()
    return Hit(cam, None)
