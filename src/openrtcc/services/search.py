"""The agency side of the registry: map, radius, polygon and view-cone search, incident pins.

Every area search passes the search rules (structured purpose, prohibited purposes, approval over the agency's
camera limit, search log); every camera whose location it returns is logged for its owner. The camera map
overview and a single camera's detail are not area searches and keep a stated free-text reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from openrtcc.domain.accounts import Permission
from openrtcc.domain.cameras import MAX_RANGE_M, Camera, cameras_seeing
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import Area, Point, distance_m, has_crossing_edges, valid_coordinates
from openrtcc.domain.governance import DataKind
from openrtcc.domain.map_columns import MapColumns
from openrtcc.domain.search_purposes import SearchPurpose
from openrtcc.services import search_rules, sharing
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.search_rules import PurposeIn, SearchRequest, canonical_scope

MAX_SEARCH_RADIUS_M = 5_000.0
MAX_RESULTS = 2_000
MAX_AREA_VERTICES = 1_000  # a hand-drawn search area; also bounds the cost of the crossing check
MAX_INCIDENT_CAMERAS = 200  # an incident pin lists at most this many cameras with their owners' contacts


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


def _log(uow, hub: Hub, actor: Actor, cams: list[Camera], kind: str, purpose: Purpose | SearchPurpose) -> None:
    """Each camera's owner sees who looked it up and why."""
    now = hub.clock.now()
    text, case = ((purpose.label, purpose.case_number) if isinstance(purpose, SearchPurpose)
                  else (purpose.text.strip(), purpose.case_number))
    uow.activity.log_access([
        dict(camera_pk=c.pk, agency_id=actor.agency_id, user_id=actor.user_id, kind=kind,
             purpose=text[:300], case_number=case, at=now)
        for c in cams
    ])


@dataclass(frozen=True, slots=True)
class _Found:
    cameras: list[Camera]  # this agency's first, then those shared with it
    own: int  # how many are this agency's: what counts against its camera limit
    approval_id: str | None
    shared: dict[str, int]  # source agency -> cameras it shared into this search


def _search(hub: Hub, actor: Actor, req: SearchRequest, find: Callable, include_shared: bool, uow) -> _Found:
    """The search rules around one camera query: prohibited purposes, the camera limit, shared programs."""
    gov = search_rules.refuse_prohibited(uow, hub, actor, req)
    own = find(uow, actor.agency_id)
    approval = search_rules.require_approval(uow, hub, actor, req, gov, len(own))
    cams, shared = list(own), {}
    if include_shared:
        for source in sharing.agencies_sharing(uow, actor.agency_id, DataKind.CAMERA_LOCATIONS,
                                               req.purpose.purpose, hub.clock.now()):
            if source != actor.agency_id:
                theirs = find(uow, source)
                cams += theirs
                shared[source] = len(theirs)
    return _Found(cams, len(own), approval, shared)


def _finish(uow, hub: Hub, actor: Actor, req: SearchRequest, found: _Found, **details) -> None:
    """Owners' access log, the audit record (both sides for shared cameras), the search log."""
    _log(uow, hub, actor, found.cameras, "location", req.purpose)
    uow.record(actor.entry(req.action, None, **details, **req.purpose.audit_details(), count=len(found.cameras),
                           cameras=found.own, approval=found.approval_id,
                           shared_from=sorted(found.shared) or None))
    for source, n in found.shared.items():
        sharing.audit_shared_access(uow, actor, source, DataKind.CAMERA_LOCATIONS, req.action, count=n,
                                    **req.purpose.audit_details())
    search_rules.record_done(uow, hub, actor, req, found.own, found.approval_id)


def _radius(radius_m: float) -> None:
    if not 1 <= radius_m <= MAX_SEARCH_RADIUS_M:
        raise InvalidInput(f"radius must be between 1 and {MAX_SEARCH_RADIUS_M:.0f} m", code="bad_radius")


def _radius_request(hub: Hub, actor: Actor, action: str, lat: float, lon: float, radius_m: float,
                    purpose: PurposeIn, approval_id: str | None) -> tuple[SearchRequest, Point]:
    """A radius search's purpose checked, its centre and radius validated, and what the search rules receive."""
    p = search_rules.parse(hub, actor, action, purpose)
    center = _point(lat, lon)
    _radius(radius_m)
    return SearchRequest("camera", action, p, None, canonical_scope(lat=lat, lon=lon, radius_m=radius_m),
                         approval_id), center


def search_radius(hub: Hub, actor: Actor, lat: float, lon: float, radius_m: float, purpose: PurposeIn, *,
                  approval_id: str | None = None, include_shared: bool = False) -> list[Hit]:
    actor.require(Permission.SEARCH_CAMERAS)
    req, center = _radius_request(hub, actor, "camera.search_radius", lat, lon, radius_m, purpose, approval_id)
    with hub.uow() as uow:
        found = _search(hub, actor, req, lambda u, a: u.cameras.within_radius(a, center, radius_m, MAX_RESULTS),
                        include_shared, uow)
        _finish(uow, hub, actor, req, found, lat=round(lat, 5), lon=round(lon, 5), radius_m=radius_m)
        uow.commit()
    return [Hit(c, distance_m(c.location, center)) for c in found.cameras]


def search_area(hub: Hub, actor: Actor, area: Area, purpose: PurposeIn, *, area_geojson: dict | None = None,
                approval_id: str | None = None, include_shared: bool = False) -> list[Hit]:
    """Cameras inside a drawn area; `area_geojson` (the area as asked) is what an approval names."""
    actor.require(Permission.SEARCH_CAMERAS)
    action = "camera.search_area"
    p = search_rules.parse(hub, actor, action, purpose)
    b = area.bbox
    if distance_m(Point(b.min_lat, b.min_lon), Point(b.max_lat, b.max_lon)) > 4 * MAX_SEARCH_RADIUS_M:
        raise InvalidInput("the area is too large: draw a smaller polygon", code="area_too_large")
    vertices = sum(len(r) for p_ in area.polygons for r in (p_.ring, *p_.holes))
    if vertices > MAX_AREA_VERTICES:
        raise InvalidInput(f"area: at most {MAX_AREA_VERTICES} vertices", code="bad_geometry")
    if has_crossing_edges(area):
        raise InvalidInput("area: the polygon's edges cross each other; draw it without crossings",
                           code="bad_geometry")
    scope = canonical_scope(area=area_geojson if area_geojson is not None else _bbox_doc(area))
    req = SearchRequest("camera", action, p, None, scope, approval_id)
    with hub.uow() as uow:
        found = _search(hub, actor, req, lambda u, a: u.cameras.within_area(a, area, MAX_RESULTS), include_shared,
                        uow)
        _finish(uow, hub, actor, req, found,
                bbox=[round(v, 5) for v in (b.min_lat, b.min_lon, b.max_lat, b.max_lon)])
        uow.commit()
    return [Hit(c, None) for c in found.cameras]


def _bbox_doc(area: Area) -> dict:
    b = area.bbox
    return {"bbox": [b.min_lat, b.min_lon, b.max_lat, b.max_lon]}


def cameras_that_could_see(hub: Hub, actor: Actor, lat: float, lon: float, purpose: PurposeIn, *,
                           approval_id: str | None = None, include_shared: bool = False) -> list[Hit]:
    """View-cone search: cameras whose field of view covers the point, nearest first."""
    actor.require(Permission.SEARCH_CAMERAS)
    action = "camera.search_view"
    p = search_rules.parse(hub, actor, action, purpose)
    target = _point(lat, lon)
    req = SearchRequest("camera", action, p, None, canonical_scope(lat=lat, lon=lon), approval_id)
    with hub.uow() as uow:
        found = _search(hub, actor, req, lambda u, a: cameras_seeing(
            target, u.cameras.within_radius(a, target, MAX_RANGE_M, MAX_RESULTS)), include_shared, uow)
        _finish(uow, hub, actor, req, found, lat=round(lat, 5), lon=round(lon, 5))
        uow.commit()
    hits = [Hit(c, distance_m(c.location, target)) for c in found.cameras]
    return sorted(hits, key=lambda h: h.distance_m)


def incident_cameras(hub: Hub, actor: Actor, lat: float, lon: float, radius_m: float, purpose: PurposeIn, *,
                     approval_id: str | None = None) -> list[Hit]:
    """An incident pin: nearby cameras, with each owner's contact only as far as the owner allows.

    Never across agencies: owners agreed to share their contact with their own agency's program."""
    actor.require(Permission.VIEW_OWNER_CONTACT)
    req, center = _radius_request(hub, actor, "camera.incident_pin", lat, lon, radius_m, purpose, approval_id)
    with hub.uow() as uow:
        found = _search(hub, actor, req, lambda u, a: u.cameras.within_radius(a, center, radius_m, MAX_RESULTS),
                        False, uow)
        cams = found.cameras[:MAX_INCIDENT_CAMERAS]
        contacts = uow.accounts.owner_contacts([c.owner_id for c in cams])
        hits = [Hit(c, distance_m(c.location, center), _contact(contacts.get(c.owner_id))) for c in cams]
        shared = [h.camera for h in hits if h.contact and (h.contact.email or h.contact.phone)]
        _log(uow, hub, actor, shared, "contact", req.purpose)
        _finish(uow, hub, actor, req, _Found(cams, found.own, found.approval_id, {}), lat=round(lat, 5),
                lon=round(lon, 5), radius_m=radius_m, contacts_disclosed=len(shared))
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
        _record_map_view(uow, hub, actor, len(points))
    return points


def map_columns(hub: Hub, actor: Actor) -> MapColumns:
    """The same cameras as map_points, one column per field: the form the map page loads (far less work)."""
    actor.require(Permission.VIEW_CAMERA_MAP)
    with hub.uow() as uow:
        columns = uow.cameras.map_columns(actor.agency_id)
        _record_map_view(uow, hub, actor, columns.count)
    return columns


def _record_map_view(uow, hub: Hub, actor: Actor, count: int) -> None:
    # One program-wide entry: owners see it in their access log without a row per camera.
    uow.activity.log_access([dict(camera_pk=None, agency_id=actor.agency_id, user_id=actor.user_id,
                                  kind="location", purpose="camera map overview", case_number=None,
                                  at=hub.clock.now())])
    uow.record(actor.entry("camera.map", f"agency:{actor.agency_id}", count=count))
    uow.commit()


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
