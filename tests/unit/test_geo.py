"""Geometry on WGS84: distances, bearings, destinations, boxes, polygons and GeoJSON parsing."""

from __future__ import annotations

import math
import re

import pytest

from openrtcc.domain.geo import (
    EARTH_RADIUS_M,
    MAX_POLYGON_VERTICES,
    Point,
    angle_between_deg,
    area_from_geojson,
    area_to_geojson,
    bbox_around,
    bearing_deg,
    destination,
    distance_m,
    valid_coordinates,
)

ONE_DEGREE_M = EARTH_RADIUS_M * math.pi / 180  # about 111,195 m along a meridian
LAKEPORT = Point(43.0, -87.92)


@pytest.mark.parametrize("a, b, expected", [
    (Point(0, 0), Point(0, 0), 0.0),
    (Point(0, 0), Point(1, 0), ONE_DEGREE_M),
    (Point(0, 0), Point(0, 1), ONE_DEGREE_M),  # on the equator a degree of longitude is as long
    (Point(60, 0), Point(60, 1), ONE_DEGREE_M * 0.5),  # ... and half as long at 60 degrees (approximately)
    (Point(0, 0), Point(0, 180), math.pi * EARTH_RADIUS_M),  # antipodes
    (Point(90, 0), Point(-90, 0), math.pi * EARTH_RADIUS_M),
    (Point(0, 179.5), Point(0, -179.5), ONE_DEGREE_M),  # across the antimeridian, the short way
])
def test_distance(a, b, expected):
    assert distance_m(a, b) == pytest.approx(expected, rel=2e-3, abs=1e-6)
    assert distance_m(b, a) == pytest.approx(distance_m(a, b))


@pytest.mark.parametrize("target, expected", [
    (Point(43.001, -87.92), 0.0),
    (Point(43.0, -87.919), 90.0),
    (Point(42.999, -87.92), 180.0),
    (Point(43.0, -87.921), 270.0),
    (Point(43.001, -87.92 - 0.001 / math.cos(math.radians(43.0))), 315.0),  # a degree of longitude is shorter
])
def test_bearing_compass_points(target, expected):
    got = bearing_deg(LAKEPORT, target)
    assert 0.0 <= got < 360.0
    assert angle_between_deg(got, expected) < 0.5


@pytest.mark.parametrize("a, b, expected", [
    (0, 0, 0), (90, 90, 0), (350, 10, 20), (10, 350, 20), (0, 180, 180), (90, 270, 180),
    (359, 0, 1), (-10, 10, 20), (720, 0, 0), (45, 315, 90),
])
def test_angle_between(a, b, expected):
    assert angle_between_deg(a, b) == pytest.approx(expected)


@pytest.mark.parametrize("bearing", [0, 45, 90, 135, 180, 225, 270, 315, 359.5])
@pytest.mark.parametrize("dist", [1.0, 40.0, 499.0, 5000.0])
def test_destination_round_trip(bearing, dist):
    p = destination(LAKEPORT, bearing, dist)
    assert distance_m(LAKEPORT, p) == pytest.approx(dist, rel=1e-6)
    assert angle_between_deg(bearing_deg(LAKEPORT, p), bearing) < 1e-3


def test_destination_wraps_longitude_across_the_antimeridian():
    p = destination(Point(0.0, 179.9), 90.0, 2 * ONE_DEGREE_M * 0.1)
    assert -180.0 <= p.lon < 180.0
    assert p.lon == pytest.approx(-179.9, abs=1e-6)


@pytest.mark.parametrize("center", [LAKEPORT, Point(0, 0), Point(-33.9, 151.2), Point(70.0, 25.0)])
@pytest.mark.parametrize("radius", [1.0, 300.0, 5000.0])
def test_bbox_around_contains_every_point_at_the_radius(center, radius):
    box = bbox_around(center, radius)
    for b in range(0, 360, 15):
        assert box.contains(destination(center, b, radius * 0.999999))
    assert box.contains(center)
    assert not box.contains(destination(center, 0, radius * 1.5))


@pytest.mark.parametrize("lat, lon, ok", [
    (0, 0, True), (90, 180, True), (-90, -180, True), (43.0, -87.9, True),
    (90.0001, 0, False), (-90.0001, 0, False), (0, 180.0001, False), (0, -180.0001, False),
    (math.nan, 0, False), (0, math.nan, False), (math.inf, 0, False), (0, -math.inf, False),
])
def test_valid_coordinates(lat, lon, ok):
    assert valid_coordinates(lat, lon) is ok


# --- polygons -----------------------------------------------------------------------------------

def square(lon0, lat0, lon1, lat1):
    return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]


OUTER = square(-88.0, 42.9, -87.8, 43.1)
HOLE = square(-87.95, 42.95, -87.85, 43.05)
ISLAND = square(-87.5, 42.9, -87.4, 43.0)
POLY_WITH_HOLE = {"type": "Polygon", "coordinates": [OUTER, HOLE]}
MULTI = {"type": "MultiPolygon", "coordinates": [[OUTER, HOLE], [ISLAND]]}
# An L shape: the notch (upper right) is outside though it lies inside the bounding box.
L_SHAPE = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]]]}


@pytest.mark.parametrize("geometry, lat, lon, inside", [
    (POLY_WITH_HOLE, 42.92, -87.98, True),     # in the ring, outside the hole
    (POLY_WITH_HOLE, 43.0, -87.9, False),      # in the hole
    (POLY_WITH_HOLE, 43.2, -87.9, False),      # north of everything
    (POLY_WITH_HOLE, 43.0, -88.1, False),      # west of everything
    (MULTI, 42.95, -87.45, True),              # in the second polygon
    (MULTI, 43.0, -87.9, False),               # still in the first polygon's hole
    (MULTI, 42.95, -87.6, False),              # between the two polygons
    (MULTI, 42.92, -87.98, True),
    (L_SHAPE, 0.5, 0.5, True),
    (L_SHAPE, 1.5, 0.5, True),
    (L_SHAPE, 0.5, 1.5, True),
    (L_SHAPE, 1.5, 1.5, False),                # the notch
    ({"type": "Feature", "properties": {}, "geometry": POLY_WITH_HOLE}, 42.92, -87.98, True),
    ({"type": "Feature", "properties": {}, "geometry": POLY_WITH_HOLE}, 43.0, -87.9, False),
])
def test_area_contains(geometry, lat, lon, inside):
    assert area_from_geojson(geometry).contains(Point(lat, lon)) is inside


def test_area_bbox_spans_every_polygon():
    b = area_from_geojson(MULTI).bbox
    assert (b.min_lat, b.min_lon, b.max_lat, b.max_lon) == (42.9, -88.0, 43.1, -87.4)


def test_geojson_round_trip_keeps_holes_and_polygons():
    area = area_from_geojson(MULTI)
    again = area_from_geojson(area_to_geojson(area))
    assert again == area
    assert len(again.polygons) == 2 and len(again.polygons[0].holes) == 1


EMPTY = "non-empty list|at least one ring"  # a Polygon without rings


def _nested_features(depth: int) -> dict:
    g = POLY_WITH_HOLE
    for _ in range(depth):
        g = {"type": "Feature", "geometry": g}
    return g


@pytest.mark.parametrize("geometry, reason", [
    ("POLYGON((0 0, 1 0, 1 1, 0 0))", "GeoJSON object"),
    (None, "GeoJSON object"),
    ([OUTER], "GeoJSON object"),
    ({"type": "Point", "coordinates": [-87.9, 43.0]}, "Polygon or MultiPolygon"),
    ({"type": "LineString", "coordinates": OUTER}, "Polygon or MultiPolygon"),
    ({"coordinates": [OUTER]}, "Polygon or MultiPolygon"),
    ({"type": "Feature", "geometry": None}, "GeoJSON object"),
    ({"type": "Feature", "geometry": {"type": "Feature", "geometry": POLY_WITH_HOLE}}, "Polygon or MultiPolygon"),
    (_nested_features(5000), "Polygon or MultiPolygon"),  # no recursion without end
    ({"type": "Polygon", "coordinates": []}, EMPTY),
    ({"type": "Polygon"}, EMPTY),
    ({"type": "Polygon", "coordinates": "abc"}, EMPTY),
    ({"type": "MultiPolygon", "coordinates": []}, "non-empty list"),
    ({"type": "MultiPolygon", "coordinates": {"a": 1}}, "non-empty list"),
    ({"type": "MultiPolygon", "coordinates": [[]]}, "at least one ring"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4 positions"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "closed"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.5]]]}, "closed"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, "1"], [0, 0]]]}, r"\[longitude, latitude\]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [True, 1], [0, 0]]]}, r"\[longitude, latitude\]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]]}, r"\[longitude, latitude\]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], None, [1, 1], [0, 0]]]}, r"\[longitude, latitude\]"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 91], [0, 0]]]}, "out of range"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [181, 0], [1, 1], [0, 0]]]}, "out of range"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [math.nan, 0], [1, 1], [0, 0]]]}, "out of range"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, math.inf], [0, 0]]]}, "out of range"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]], "hole"]}, "at least 4 positions"),
])
def test_malformed_geojson_is_refused_with_a_reason(geometry, reason):
    with pytest.raises(ValueError) as err:
        area_from_geojson(geometry)
    assert re.search(reason, str(err.value)), str(err.value)


def test_too_many_vertices_is_refused():
    n = MAX_POLYGON_VERTICES + 1
    ring = [[math.cos(2 * math.pi * i / n) * 0.01, math.sin(2 * math.pi * i / n) * 0.01] for i in range(n)]
    ring.append(ring[0])
    with pytest.raises(ValueError, match="more than"):
        area_from_geojson({"type": "Polygon", "coordinates": [ring]})
    ring = ring[:MAX_POLYGON_VERTICES - 1] + [ring[0]]
    assert area_from_geojson({"type": "Polygon", "coordinates": [ring]}).contains(Point(0.0, 0.0))
