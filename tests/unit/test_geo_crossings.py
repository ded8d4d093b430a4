"""Which search polygons have crossing edges: a bow tie has no agreed inside, so it is refused."""

import pytest

from openrtcc.domain.geo import area_from_geojson, has_crossing_edges


def polygon(*rings):
    return area_from_geojson({"type": "Polygon", "coordinates": [[list(p) for p in (*r, r[0])] for r in rings]})


SQUARE = ((0, 0), (4, 0), (4, 4), (0, 4))


@pytest.mark.parametrize("rings, crossing", [
    ((SQUARE,), False),
    ((((0, 0), (4, 0), (4, 4), (3, 4), (3, 1), (1, 1), (1, 4), (0, 4)),), False),  # a U shape
    ((((0, 0), (2, 0), (4, 0), (4, 4), (0, 4)),), False),  # three vertices in a row
    ((((0, 0), (4, 4), (4, 0), (0, 4)),), True),  # bow tie
    ((((0, 0), (4, 0), (4, 4), (0, 4), (0, 2), (5, 2)),), True),  # later edges cut an earlier one
    ((((0, 0), (4, 0), (2, 0), (2, 3)),), True),  # runs back along its own edge
    ((SQUARE, ((1, 1), (3, 1), (3, 3), (1, 3))), False),  # a hole inside
    ((SQUARE, ((1, 1), (5, 1), (5, 3), (1, 3))), True),  # a hole that crosses the shell
    ((SQUARE, ((0, 0), (2, 1), (1, 2))), False),  # a hole touching the shell at one vertex
    ((((0, 0), (4, 0), (4, 4), (2, 2), (0, 4)),), False),  # concave, with a reflex vertex
])
def test_crossing_edges(rings, crossing):
    assert has_crossing_edges(polygon(*rings)) is crossing
