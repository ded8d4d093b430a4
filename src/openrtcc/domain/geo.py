"""Plane-free geometry on WGS84 coordinates: distances, bearings, polygons, bounding boxes."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class BBox:
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def contains(self, p: Point) -> bool:
        return self.min_lat <= p.lat <= self.max_lat and self.min_lon <= p.lon <= self.max_lon


def valid_coordinates(lat: float, lon: float) -> bool:
    return (
        math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0
    )


def distance_m(a: Point, b: Point) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp = p2 - p1
    dl = math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(a: Point, b: Point) -> float:
    """Initial compass bearing from a to b, 0 = north, clockwise, in [0, 360)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dl = math.radians(b.lon - a.lon)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(x, y)) % 360.0


def angle_between_deg(a: float, b: float) -> float:
    """Smallest absolute difference between two compass bearings, in [0, 180]."""
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d


def destination(origin: Point, bearing: float, distance: float) -> Point:
    """The point `distance` metres from `origin` along `bearing`."""
    d = distance / EARTH_RADIUS_M
    b = math.radians(bearing)
    p1, l1 = math.radians(origin.lat), math.radians(origin.lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return Point(math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0)


def bbox_around(center: Point, radius_m: float) -> BBox:
    """A box that surely contains every point within `radius_m` of `center`."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    coslat = max(math.cos(math.radians(center.lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * coslat)))
    return BBox(center.lat - dlat, center.lon - dlon, center.lat + dlat, center.lon + dlon)


@dataclass(frozen=True, slots=True)
class Polygon:
    """A simple polygon ring (lat/lon points, not closed) with optional holes."""

    ring: tuple[Point, ...]
    holes: tuple[tuple[Point, ...], ...] = ()

    @property
    def bbox(self) -> BBox:
        lats = [p.lat for p in self.ring]
        lons = [p.lon for p in self.ring]
        return BBox(min(lats), min(lons), max(lats), max(lons))

    def contains(self, p: Point) -> bool:
        if not self.bbox.contains(p) or not _ring_contains(self.ring, p):
            return False
        return not any(_ring_contains(h, p) for h in self.holes)


def _ring_contains(ring: tuple[Point, ...], p: Point) -> bool:
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        a, b = ring[i], ring[j]
        if (a.lat > p.lat) != (b.lat > p.lat):
            cross_lon = (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon
            if p.lon < cross_lon:
                inside = not inside
        j = i
    return inside


@dataclass(frozen=True, slots=True)
class Area:
    """A jurisdiction or search area: one or more polygons (a GeoJSON MultiPolygon)."""

    polygons: tuple[Polygon, ...]

    def contains(self, p: Point) -> bool:
        return any(poly.contains(p) for poly in self.polygons)

    @property
    def bbox(self) -> BBox:
        boxes = [poly.bbox for poly in self.polygons]
        return BBox(
            min(b.min_lat for b in boxes),
            min(b.min_lon for b in boxes),
            max(b.max_lat for b in boxes),
            max(b.max_lon for b in boxes),
        )


MAX_POLYGON_VERTICES = 10_000


def area_from_geojson(geometry: dict) -> Area:
    """Parse a GeoJSON Polygon or MultiPolygon (longitude first) into an Area.

    Raises ValueError with a precise reason on anything malformed.
    """
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        # Unwrapped once, not recursively: a Feature's geometry is never a Feature, and nesting
        # thousands deep must not exhaust the stack.
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict):
        raise ValueError("geometry must be a GeoJSON object")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        polys = [coords] if isinstance(coords, list) and coords else None
    elif kind == "MultiPolygon":
        polys = coords if isinstance(coords, list) else None
    else:
        raise ValueError("geometry type must be Polygon or MultiPolygon")
    if not isinstance(polys, list) or not polys:
        raise ValueError("coordinates must be a non-empty list")
    total = 0
    parsed: list[Polygon] = []
    for rings in polys:
        if not isinstance(rings, list) or not rings:
            raise ValueError("each polygon needs at least one ring")
        parsed_rings = []
        for ring in rings:
            pts = _parse_ring(ring)
            total += len(pts)
            if total > MAX_POLYGON_VERTICES:
                raise ValueError(f"polygon has more than {MAX_POLYGON_VERTICES} vertices")
            parsed_rings.append(pts)
        parsed.append(Polygon(parsed_rings[0], tuple(parsed_rings[1:])))
    return Area(tuple(parsed))


def _parse_ring(ring: object) -> tuple[Point, ...]:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ValueError("a ring needs at least 4 positions (closed)")
    pts = []
    for pos in ring:
        if (
            not isinstance(pos, list | tuple)
            or len(pos) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2])
        ):
            raise ValueError("each position must be [longitude, latitude]")
        lon, lat = float(pos[0]), float(pos[1])
        if not valid_coordinates(lat, lon):
            raise ValueError(f"position out of range: [{lon}, {lat}]")
        pts.append(Point(lat, lon))
    if pts[0] != pts[-1]:
        raise ValueError("a ring must be closed (first position equals last)")
    return tuple(pts[:-1])


def has_crossing_edges(area: Area) -> bool:
    """Whether two edges of one polygon cross or run over each other (touching at a vertex is allowed).

    Such a polygon has no agreed inside: PostGIS and the ray test answer differently for it.
    A sweep along longitude compares only edges whose longitude spans overlap.
    """
    for poly in area.polygons:
        edges = []
        for ring in (poly.ring, *poly.holes):
            for i, a in enumerate(ring):
                b = ring[(i + 1) % len(ring)]
                edges.append((min(a.lon, b.lon), max(a.lon, b.lon), a, b))
        edges.sort(key=lambda e: e[0])
        active: list[tuple] = []
        for e in edges:
            active = [o for o in active if o[1] >= e[0]]
            for o in active:
                if _edges_cross(e[2], e[3], o[2], o[3]):
                    return True
            active.append(e)
    return False


def _orient(p: Point, q: Point, r: Point) -> float:
    return (q.lon - p.lon) * (r.lat - p.lat) - (q.lat - p.lat) * (r.lon - p.lon)


def _edges_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """A proper crossing, or a collinear overlap longer than a point (neighbours share only their vertex)."""
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if o1 * o2 < 0 and o3 * o4 < 0:
        return True
    if o1 == o2 == o3 == o4 == 0:  # collinear: crossing only if they share more than a point
        if a.lon == b.lon and c.lon == d.lon:
            lo, hi = max(min(a.lat, b.lat), min(c.lat, d.lat)), min(max(a.lat, b.lat), max(c.lat, d.lat))
        else:
            lo, hi = max(min(a.lon, b.lon), min(c.lon, d.lon)), min(max(a.lon, b.lon), max(c.lon, d.lon))
        return hi > lo
    return False


def area_to_geojson(area: Area) -> dict:
    def ring(points: tuple[Point, ...]) -> list[list[float]]:
        closed = list(points) + [points[0]]
        return [[p.lon, p.lat] for p in closed]

    return {
        "type": "MultiPolygon",
        "coordinates": [[ring(p.ring), *[ring(h) for h in p.holes]] for p in area.polygons],
    }
