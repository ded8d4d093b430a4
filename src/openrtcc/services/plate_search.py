"""Plate search: by plate, partial plate, or area and time window; each search has a purpose and a case."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from openrtcc.domain.accounts import Permission
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import Area, Point, bbox_around, distance_m, has_crossing_edges, valid_coordinates
from openrtcc.domain.plates import WILDCARD_ANY, WILDCARD_ONE, lookalike_key, normalize_plate, normalize_plate_pattern
from openrtcc.domain.reads import PlateRead, ReadScan
from openrtcc.services.hub import Actor, Hub

MAX_RADIUS_M = 5_000.0
MAX_AREA_WINDOW = timedelta(days=31)  # an area search without a plate reads every car: keep it to a month
MAX_AREA_VERTICES = 1_000
EXPORT_LIMIT = 10_000
SCAN_CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class PlateQuery:
    purpose: str
    case_number: str
    plate: str | None = None
    partial: str | None = None
    lookalikes: bool = False
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    area: Area | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlatePage:
    reads: list[PlateRead]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class _Plan:
    scan: ReadScan
    keep: Callable[[PlateRead], bool]
    mode: str


def plate_hint(plate: str) -> str:
    """What the audit trail keeps of a searched plate: its first three characters, the rest masked."""
    return plate[:3] + "#" * max(0, len(plate) - 3)


def _plan(q: PlateQuery) -> _Plan:
    if len(q.purpose.strip()) < 3:
        raise InvalidInput("state the purpose of this search", code="purpose_required")
    if not q.case_number.strip():
        raise InvalidInput("a plate search belongs to a case: give its number", code="case_number_required")
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


def _collect(uow, agency_id: str, plan: _Plan, before, want: int) -> list[tuple[PlateRead, int]]:
    """Newest first, area test applied, until `want` are found or the store runs out."""
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


def _audit(uow, actor: Actor, q: PlateQuery, plan: _Plan, action: str, count: int, **extra) -> None:
    shown = q.plate or q.partial
    where = None
    if plan.scan.bbox is not None:
        b = plan.scan.bbox
        where = [round(v, 3) for v in (b.min_lat, b.min_lon, b.max_lat, b.max_lon)]
    uow.record(actor.entry(action, f"agency:{actor.agency_id}", mode=plan.mode,
                           plate=plate_hint(shown.upper()) if shown else None, bbox=where,
                           since=q.since.isoformat() if q.since else None,
                           until=q.until.isoformat() if q.until else None,
                           purpose=q.purpose.strip(), case=q.case_number.strip(), count=count, **extra))


def search_plates(hub: Hub, actor: Actor, q: PlateQuery, *, cursor: str | None = None,
                  page_size: int = 50) -> PlatePage:
    actor.require(Permission.SEARCH_PLATES)
    plan = _plan(q)
    before = _position(cursor)
    with hub.uow() as uow:
        found = _collect(uow, actor.agency_id, plan, before, page_size + 1)
        page = found[:page_size]
        _audit(uow, actor, q, plan, "plate.search", len(page), page=cursor is not None)
        uow.commit()
    more = len(found) > page_size
    return PlatePage([r for r, _ in page], _cursor(*page[-1]) if more and page else None)


def export_plates(hub: Hub, actor: Actor, q: PlateQuery, fmt: str) -> tuple[list[PlateRead], bool]:
    """Every matching read up to EXPORT_LIMIT, newest first; True when more were left out."""
    actor.require(Permission.SEARCH_PLATES)
    plan = _plan(q)
    with hub.uow() as uow:
        found = _collect(uow, actor.agency_id, plan, None, EXPORT_LIMIT + 1)
        _audit(uow, actor, q, plan, "plate.export", min(len(found), EXPORT_LIMIT), format=fmt)
        uow.commit()
    return [r for r, _ in found[:EXPORT_LIMIT]], len(found) > EXPORT_LIMIT
