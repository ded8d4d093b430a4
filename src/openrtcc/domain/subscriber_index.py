"""Which subscribers hear about a notice: an in-memory grid of active subscribers' geofences, by agency.

A notice at a point looks up one grid cell and tests only the fences that overlap it, so matching stays a few
microseconds per candidate however many subscribers the agency has. The index is immutable: it is rebuilt
whole when subscribers change and swapped in by its owner."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from openrtcc.domain.dissemination import Audience, ChannelKind, Notice, NoticeKind, Subscriber, SubscriberStatus
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import (
    EARTH_RADIUS_M,
    Area,
    BBox,
    Point,
    area_from_geojson,
    area_to_geojson,
    bbox_around,
    distance_m,
    has_crossing_edges,
    valid_coordinates,
)

CELL_DEG = 0.01  # about 1.1 km north-south: a neighbourhood fence covers tens of cells, a street one to four
MAX_CELLS = 4000  # a fence wider than this many cells is tested for every notice instead (a whole county)
MAX_RADIUS_M = 100_000.0
MIN_RADIUS_M = 50.0
# Email, SMS and push are for news: they carry a new incident (and a bulletin), never each later update.
MESSAGE_CHANNELS = frozenset({ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.PUSH})


@dataclass(frozen=True, slots=True)
class Circle:
    center: Point
    radius_m: float

    @property
    def bbox(self) -> BBox:
        return bbox_around(self.center, self.radius_m)

    def contains(self, p: Point) -> bool:
        return distance_m(self.center, p) <= self.radius_m


Fence = Circle | Area


def parse_geofence(doc: dict | None) -> Fence | None:
    """A subscriber's area: None (anywhere), a circle, or a GeoJSON Polygon/MultiPolygon; refuses bad ones."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise InvalidInput("geofence must be a JSON object", code="bad_geofence")
    if doc.get("type") == "Circle":
        center, radius = doc.get("center"), doc.get("radius_m")
        if (not isinstance(center, list | tuple) or len(center) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in center)):
            raise InvalidInput("a circle's center is [longitude, latitude]", code="bad_geofence")
        if not valid_coordinates(float(center[1]), float(center[0])):
            raise InvalidInput("a circle's center is out of range", code="bad_geofence")
        if (not isinstance(radius, int | float) or isinstance(radius, bool) or not math.isfinite(radius)
                or not MIN_RADIUS_M <= radius <= MAX_RADIUS_M):
            raise InvalidInput(f"radius_m must be between {MIN_RADIUS_M:.0f} and {MAX_RADIUS_M:.0f}",
                               code="bad_geofence")
        return Circle(Point(float(center[1]), float(center[0])), float(radius))
    try:
        area = area_from_geojson(doc)
    except ValueError as exc:
        raise InvalidInput(f"geofence: {exc}", code="bad_geofence") from None
    if has_crossing_edges(area):
        raise InvalidInput("geofence: the polygon's edges cross each other", code="bad_geofence")
    return area


def geofence_document(fence: Fence | None) -> dict | None:
    """The stored form of a parsed fence (normalised: a Polygon is kept as a MultiPolygon)."""
    if fence is None:
        return None
    if isinstance(fence, Circle):
        return {"type": "Circle", "center": [fence.center.lon, fence.center.lat], "radius_m": fence.radius_m}
    return area_to_geojson(fence)


def wants(subscriber: Subscriber, notice: Notice) -> bool:
    """Audience, channel and category rules, apart from where the notice is."""
    if subscriber.status is not SubscriberStatus.ACTIVE:
        return False
    if notice.kind is NoticeKind.ALERT:
        if subscriber.audience is not Audience.POLICE_UNIT:
            return False  # plate hits are for police units alone, whatever anyone subscribed to
    elif notice.kind is NoticeKind.BULLETIN:
        if notice.audiences is not None and subscriber.audience not in notice.audiences:
            return False
    elif notice.kind is NoticeKind.CONFIRMATION:
        return False  # sent to one subscriber directly, never matched
    if notice.change != "new" and subscriber.channel in MESSAGE_CHANNELS:
        return False
    return not subscriber.categories or notice.category in subscriber.categories


@dataclass(frozen=True, slots=True)
class _Entry:
    subscriber: Subscriber
    fence: Fence | None


class _AgencyGrid:
    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[_Entry]] = defaultdict(list)
        self.everywhere: list[_Entry] = []  # no fence, or one too wide to grid

    def add(self, entry: _Entry) -> None:
        if entry.fence is None:
            self.everywhere.append(entry)
            return
        box = entry.fence.bbox
        rows = range(_cell(box.min_lat), _cell(box.max_lat) + 1)
        cols = range(_cell(box.min_lon), _cell(box.max_lon) + 1)
        if len(rows) * len(cols) > MAX_CELLS:
            self.everywhere.append(entry)
            return
        for r in rows:
            for c in cols:
                self.cells[(r, c)].append(entry)

    def near(self, p: Point) -> Iterable[_Entry]:
        yield from self.everywhere
        yield from self.cells.get((_cell(p.lat), _cell(p.lon)), ())

    def all(self) -> Iterable[_Entry]:
        seen: set[str] = set()
        for entry in self.everywhere:
            yield entry
        for entries in self.cells.values():
            for entry in entries:
                if entry.subscriber.id not in seen:
                    seen.add(entry.subscriber.id)
                    yield entry


def _cell(deg: float) -> int:
    return math.floor(deg / CELL_DEG)


class SubscriberIndex:
    """Active subscribers by agency, audience and grid cell; `matching(notice)` answers who should get it."""

    def __init__(self, subscribers: Iterable[Subscriber]):
        self._grids: dict[tuple[str, Audience], _AgencyGrid] = {}
        self.size = 0
        for s in subscribers:
            if s.status is not SubscriberStatus.ACTIVE:
                continue
            try:
                fence = parse_geofence(s.geofence)
            except InvalidInput:
                continue  # checked when stored; a row edited by hand must not stop everyone else's notices
            self._grids.setdefault((s.agency_id, s.audience), _AgencyGrid()).add(_Entry(s, fence))
            self.size += 1

    def matching(self, notice: Notice) -> list[Subscriber]:
        """Subscribers of the notice's agency who want it and whose area holds its place. A notice without a
        place reaches every area; one with a radius (a bulletin's circle) reaches fences that overlap it."""
        found: dict[str, Subscriber] = {}
        for audience in _audiences(notice):
            grid = self._grids.get((notice.agency_id, audience))
            if grid is not None:
                _match_grid(grid, notice, found)
        return list(found.values())


def _audiences(notice: Notice) -> Iterable[Audience]:
    """The grids worth looking in: a plate hit is never looked for beyond police units."""
    if notice.kind is NoticeKind.ALERT:
        return (Audience.POLICE_UNIT,)
    if notice.kind is NoticeKind.BULLETIN and notice.audiences is not None:
        return tuple(notice.audiences)
    return tuple(Audience)


def _match_grid(grid: _AgencyGrid, notice: Notice, found: dict[str, Subscriber]) -> None:
    if notice.lat is None or notice.lon is None:
        for e in grid.all():
            if wants(e.subscriber, notice):
                found[e.subscriber.id] = e.subscriber
        return
    p = Point(notice.lat, notice.lon)
    radius_m = notice.radius_m
    for e in grid.near(p) if radius_m <= 0 else grid.all():
        if e.subscriber.id in found or not wants(e.subscriber, notice):
            continue
        if e.fence is None or _reaches(e.fence, p, radius_m):
            found[e.subscriber.id] = e.subscriber


def _reaches(fence: Fence, p: Point, radius_m: float) -> bool:
    if radius_m <= 0:
        return fence.contains(p)
    if isinstance(fence, Circle):
        return distance_m(fence.center, p) <= fence.radius_m + radius_m
    if fence.contains(p):
        return True
    return any(_segment_distance_m(p, poly.ring[i - 1], poly.ring[i]) <= radius_m
               for poly in fence.polygons for i in range(len(poly.ring)))


def _segment_distance_m(p: Point, a: Point, b: Point) -> float:
    """Distance from p to the segment a-b on a local flat projection around p (fine at city scale)."""
    k = math.radians(1) * EARTH_RADIUS_M
    cos = math.cos(math.radians(p.lat))
    ax, ay = (a.lon - p.lon) * k * cos, (a.lat - p.lat) * k
    bx, by = (b.lon - p.lon) * k * cos, (b.lat - p.lat) * k
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy)
