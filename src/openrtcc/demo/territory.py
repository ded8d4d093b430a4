"""Where Lakeport lies: a local metric frame, the two adjacent jurisdictions, and where people live densely.

Lakeport is fictional. It sits on the west shore of Lake Michigan so that coordinates, distances and a
base map look right; its streets are generated, not copied from the real city underneath.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openrtcc.domain.geo import Area, Point, area_from_geojson

M_PER_DEG_LAT = 111_320.0

# The lake shore, north to south, longitude first. Both jurisdictions end at the water.
SHORELINE = [
    (-87.893, 43.130), (-87.884, 43.100), (-87.880, 43.075), (-87.872, 43.050), (-87.866, 43.030),
    (-87.874, 43.012), (-87.861, 42.990), (-87.868, 42.972), (-87.874, 42.955),
]
CITY_WEST_LON = -87.990
CITY_NORTH_LAT = 43.075
SOUTH_LAT = 42.955
COUNTY_WEST_LON = -88.100
COUNTY_NORTH_LAT = 43.130


@dataclass(frozen=True, slots=True)
class AgencyPlan:
    slug: str
    name: str
    email_domain: str
    case_prefix: str
    jurisdiction: dict  # GeoJSON Polygon, longitude first


def _closed(ring: list[tuple[float, float]]) -> dict:
    coords = [list(p) for p in ring] + [list(ring[0])]
    return {"type": "Polygon", "coordinates": [coords]}


def _city_ring() -> list[tuple[float, float]]:
    shore = [p for p in SHORELINE if p[1] <= CITY_NORTH_LAT]  # from the north edge south to the south edge
    return [(CITY_WEST_LON, SOUTH_LAT), *reversed(shore), (CITY_WEST_LON, CITY_NORTH_LAT)]


def _county_ring() -> list[tuple[float, float]]:
    # An L around the city's west and north sides; it shares the city's west and north edges exactly.
    shore_north = [p for p in SHORELINE if p[1] >= CITY_NORTH_LAT]
    return [(COUNTY_WEST_LON, SOUTH_LAT), (CITY_WEST_LON, SOUTH_LAT), (CITY_WEST_LON, CITY_NORTH_LAT),
            *reversed(shore_north), (COUNTY_WEST_LON, COUNTY_NORTH_LAT)]


CITY = AgencyPlan("lakeport-pd", "Lakeport Police Department", "police.lakeport.example", "LPD", _closed(_city_ring()))
COUNTY = AgencyPlan("harbor-county-so", "Harbor County Sheriff's Office", "sheriff.harborcounty.example", "HCSO",
                    _closed(_county_ring()))
AGENCIES = (CITY, COUNTY)


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """Metres east (x) and north (y) of an origin; flat-earth is exact enough across a county."""

    origin: Point

    @property
    def m_per_deg_lon(self) -> float:
        return M_PER_DEG_LAT * math.cos(math.radians(self.origin.lat))

    def to_point(self, x: float, y: float) -> Point:
        return Point(self.origin.lat + y / M_PER_DEG_LAT, self.origin.lon + x / self.m_per_deg_lon)

    def to_xy(self, p: Point) -> tuple[float, float]:
        return (p.lon - self.origin.lon) * self.m_per_deg_lon, (p.lat - self.origin.lat) * M_PER_DEG_LAT


# Address numbering starts at Main St and Center St; downtown sits by the harbour, east of that.
FRAME = LocalFrame(Point(43.015, -87.925))
DOWNTOWN = (2_600.0, 300.0)


@dataclass(frozen=True, slots=True)
class Territory:
    """The jurisdictions as areas, with the box that holds them, in the local frame."""

    areas: tuple[tuple[AgencyPlan, Area], ...]
    min_x: float
    max_x: float
    min_y: float
    max_y: float

    def agency_at(self, p: Point) -> AgencyPlan | None:
        for plan, area in self.areas:
            if area.contains(p):
                return plan
        return None


def lakeport_territory() -> Territory:
    areas = tuple((plan, area_from_geojson(plan.jurisdiction)) for plan in AGENCIES)
    west, south = FRAME.to_xy(Point(SOUTH_LAT, COUNTY_WEST_LON))
    east = max(FRAME.to_xy(Point(lat, lon))[0] for lon, lat in SHORELINE)
    north = FRAME.to_xy(Point(COUNTY_NORTH_LAT, COUNTY_WEST_LON))[1]
    return Territory(areas, west, east, south, north)


def density(x: float, y: float) -> float:
    """Relative chance, 0..1, that a home or shop with a camera stands here: dense downtown, thin at the edge."""
    d = math.hypot(x - DOWNTOWN[0], y - DOWNTOWN[1])
    return 0.12 + 0.88 * math.exp(-d / 4_500.0)
