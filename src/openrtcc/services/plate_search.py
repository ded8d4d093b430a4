"""Plate search: by plate, partial plate, or area and time window; each search passes the search rules
(structured purpose, prohibited purposes, approval over the camera limit, search log, repeat alarm)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from openrtcc.domain.accounts import Permission
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.governance import DataKind
from openrtcc.domain.geo import Area, Point, bbox_around, distance_m, has_crossing_edges, valid_coordinates
from openrtcc.domain.plates import WILDCARD_ANY, WILDCARD_ONE, lookalike_key, normalize_plate, normalize_plate_pattern
from openrtcc.domain.reads import PlateRead, ReadScan
from openrtcc.domain.search_purposes import SearchPurpose
from openrtcc.services import search_rules, sharing
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.search_rules import PurposeIn, SearchRequest

MAX_RADIUS_M = 5_000.0
MAX_AREA_WINDOW = timedelta(days=31)  # an area search without a plate reads every car: keep it to a month
MAX_AREA_VERTICES = 1_000
EXPORT_LIMIT = 10_000
SCAN_CHUNK = 1_000
COUNT_CAP = 2_000  # cameras counted against the agency's limit; a count past this is reported as this


@dataclass(frozen=True, slots=True)
class PlateQuery:
    purpose: PurposeIn
    plate: str | None = None
    partial: str | None = None
    lookalikes: bool = False
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    area: Area | None = None
    since: datetime | None = None
    until: datetime | None = None
    area_geojson: dict | None = None  # the area as asked: what an approval names
    approval_id: str | None = None
    include_shared: bool = False  # also reads other agencies share with this one for this purpose


@dataclass(frozen=True, slots=True)
class PlatePage:
    reads: list[PlateRead]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class _Plan:
    scan: ReadScan
    keep: Callable[[PlateRead], bool]
    mode: str


plate_hint = search_rules.plate_hint


def _plan(q: PlateQuery) -> _Plan:
    if q.plate and q.partial:
        raise InvalidInput("search by plate or by partial plate, not both", code="bad_query")
    if q.since and q.until and q.since > q.until:
        raise InvalidInput("the time window ends before it starts", code="bad_window")
    scan = ReadScan(since=q.since, until=q.until)
    mode = "area"
    if q.plate:
        plate = normalize_plate(q.plate)
        scan = ReadScan(plate_key=lookalike_key(plate), since=q.since, until=q.until) if q.lookalikes else \
            ReadScan(plate=plate, since=q.since, until=q.until)
        mode = "lookalike" if q.lookalikes else "plate"
    elif q.partial:
        pattern = normalize_plate_pattern(q.partial)
        scan = ReadScan(like=pattern.replace(WILDCARD_ANY, "%").replace(WILDCARD_ONE, "_"), since=q.since,
                        until=q.until)
        mode = "partial"
    keep, bbox = _where(q, mode)
    if bbox is not None:
        scan = ReadScan(scan.plate, scan.plate_key, scan.like, bbox, scan.since, scan.until)
    return _Plan(scan, keep, mode)


def _where(q: PlateQuery, mode: str):
    """The area test and its bounding box; an area search without a plate needs a bounded time window."""
    radius = q.lat is not None or q.lon is not None or q.radius_m is not None
    if radius and q.area is not None:
        raise InvalidInput("search a radius or an area, not both", code="bad_query")
    if not radius and q.area is None:
        if mode == "area":
            raise InvalidInput("give a plate, a partial plate, or an area and a time window", code="bad_query")
        return (lambda r: True), None
    if mode == "area" and not (q.since and q.until and q.until - q.since <= MAX_AREA_WINDOW):
        raise InvalidInput(f"an area search needs a time window of at most {MAX_AREA_WINDOW.days} days",
                           code="bad_window")
    if radius:
        if q.lat is None or q.lon is None or q.radius_m is None or not valid_coordinates(q.lat, q.lon):
            raise InvalidInput("a radius search needs lat (-90..90), lon (-180..180) and radius_m",
                               code="bad_coordinates")
        if not 1 <= q.radius_m <= MAX_RADIUS_M:
            raise InvalidInput(f"radius must be between 1 and {MAX_RADIUS_M:.0f} m", code="bad_radius")
        center = Point(q.lat, q.lon)
        return (lambda r: r.lat is not None and distance_m(Point(r.lat, r.lon), center) <= q.radius_m), \
            bbox_around(center, q.radius_m)
    vertices = sum(len(ring) for p in q.area.polygons for ring in (p.ring, *p.holes))
    if vertices > MAX_AREA_VERTICES or has_crossing_edges(q.area):
        raise InvalidInput(f"area: at most {MAX_AREA_VERTICES} vertices, edges that do not cross",
                           code="bad_geometry")
    area = q.area
    return (lambda r: r.lat is not None and area.contains(Point(r.lat, r.lon))), area.bbox


def _cursor(read: PlateRead, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{read.captured_at.isoformat()}|{seq}".encode()).decode()


def _position(cursor: str | None) -> tuple[datetime, int] | None:
    if cursor is None:
        return None
    try:
        at, seq = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor: not a cursor this hub gave out", code="bad_cursor") from None


def _collect(uow, agency_ids: list[str], plan: _Plan, before, want: int) -> list[tuple[PlateRead, int]]:
    """Newest first over the agencies searched, area test applied, until `want` are found or the store runs out.

    seq is global, so (captured_at, seq) orders reads of several agencies and a cursor stays valid across them."""
    found: list[tuple[PlateRead, int]] = []
    for agency_id in agency_ids:
        found += _collect_one(uow, agency_id, plan, before, want)
    found.sort(key=lambda pair: (pair[0].captured_at, pair[1]), reverse=True)
    return found[:want]


def _collect_one(uow, agency_id: str, plan: _Plan, before, want: int) -> list[tuple[PlateRead, int]]:
    found: list[tuple[PlateRead, int]] = []
    while len(found) < want:
        rows = uow.reads.scan(agency_id, plan.scan, before=before, limit=SCAN_CHUNK)
        for read, seq in rows:
            before = (read.captured_at, seq)
            if plan.keep(read):
                found.append((read, seq))
                if len(found) == want:
                    break
        if len(rows) < SCAN_CHUNK:
            break
    return found


def _request(q: PlateQuery, plan: _Plan, purpose: SearchPurpose, action: str) -> SearchRequest:
    scope = None
    if q.area_geojson is not None:
        scope = search_rules.canonical_scope(area=q.area_geojson)
    elif q.radius_m is not None:
        scope = search_rules.canonical_scope(lat=q.lat, lon=q.lon, radius_m=q.radius_m)
    whole = normalize_plate(q.plate) if q.plate and plan.mode in ("plate", "lookalike") else None
    return SearchRequest("area" if plan.mode == "area" else "plate", action, purpose, whole, scope, q.approval_id)


def _cameras_covered(uow, agency_id: str, q: PlateQuery) -> int | None:
    """The agency's registry cameras inside the searched area; None for a search by plate alone."""
    if q.area is not None:
        return len(uow.cameras.within_area(agency_id, q.area, COUNT_CAP))
    if q.radius_m is not None:
        return len(uow.cameras.within_radius(agency_id, Point(q.lat, q.lon), q.radius_m, COUNT_CAP))
    return None


@dataclass(frozen=True, slots=True)
class _Admission:
    camera_count: int | None
    approval_id: str | None
    agencies: list[str]  # this agency first, then those sharing reads with it for this purpose


def _admit(uow, hub: Hub, actor: Actor, q: PlateQuery, req: SearchRequest) -> _Admission:
    gov = search_rules.refuse_prohibited(uow, hub, actor, req)
    count = _cameras_covered(uow, actor.agency_id, q)
    approval = search_rules.require_approval(uow, hub, actor, req, gov, count)
    agencies = [actor.agency_id]
    if q.include_shared:
        shared = sharing.agencies_sharing(uow, actor.agency_id, DataKind.PLATE_READS, req.purpose.purpose,
                                          hub.clock.now())
        agencies += [a for a in shared if a != actor.agency_id]
    return _Admission(count, approval, agencies)


def _audit(uow, actor: Actor, q: PlateQuery, plan: _Plan, req: SearchRequest, adm: _Admission,
           found: list[tuple[PlateRead, int]], **extra) -> None:
    shown = q.plate or q.partial
    where = None
    if plan.scan.bbox is not None:
        b = plan.scan.bbox
        where = [round(v, 3) for v in (b.min_lat, b.min_lon, b.max_lat, b.max_lon)]
    uow.record(actor.entry(req.action, f"agency:{actor.agency_id}", mode=plan.mode,
                           plate=plate_hint(shown.upper()) if shown else None, bbox=where,
                           since=q.since.isoformat() if q.since else None,
                           until=q.until.isoformat() if q.until else None, **req.purpose.audit_details(),
                           count=len(found), cameras=adm.camera_count, approval=adm.approval_id,
                           shared_from=adm.agencies[1:] or None, **extra))
    for source in adm.agencies[1:]:
        sharing.audit_shared_access(uow, actor, source, DataKind.PLATE_READS, req.action,
                                    count=sum(1 for r, _ in found if r.agency_id == source),
                                    **req.purpose.audit_details())


def search_plates(hub: Hub, actor: Actor, q: PlateQuery, *, cursor: str | None = None,
                  page_size: int = 50) -> PlatePage:
    actor.require(Permission.SEARCH_PLATES)
    purpose = search_rules.parse(hub, actor, "plate.search", q.purpose)
    plan = _plan(q)
    req = _request(q, plan, purpose, "plate.search")
    before = _position(cursor)
    with hub.uow() as uow:
        adm = _admit(uow, hub, actor, q, req)
        found = _collect(uow, adm.agencies, plan, before, page_size + 1)
        page = found[:page_size]
        _audit(uow, actor, q, plan, req, adm, page, page=cursor is not None)
        if cursor is None:  # the next pages belong to the same search: logged (and counted) once
            search_rules.record_done(uow, hub, actor, req, adm.camera_count, adm.approval_id)
        uow.commit()
    more = len(found) > page_size
    return PlatePage([r for r, _ in page], _cursor(*page[-1]) if more and page else None)


def export_plates(hub: Hub, actor: Actor, q: PlateQuery, fmt: str) -> tuple[list[PlateRead], bool]:
    """Every matching read up to EXPORT_LIMIT, newest first; True when more were left out."""
    actor.require(Permission.SEARCH_PLATES)
    purpose = search_rules.parse(hub, actor, "plate.export", q.purpose)
    plan = _plan(q)
    req = _request(q, plan, purpose, "plate.export")
    with hub.uow() as uow:
        adm = _admit(uow, hub, actor, q, req)
        found = _collect(uow, adm.agencies, plan, None, EXPORT_LIMIT + 1)
        _audit(uow, actor, q, plan, req, adm, found[:EXPORT_LIMIT], format=fmt)
        search_rules.record_done(uow, hub, actor, req, adm.camera_count, adm.approval_id)
        uow.commit()
    return [r for r, _ in found[:EXPORT_LIMIT]], len(found) > EXPORT_LIMIT
