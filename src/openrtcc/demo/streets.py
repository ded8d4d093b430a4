"""Lakeport's streets: a named grid, a few diagonal avenues, frontages along them and house numbers.

Everything here works in the local frame (metres east and north of Main St and Center St).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NS_SPACING = 200.0  # metres between north-south streets
EW_SPACING = 300.0  # metres between east-west streets
NS_ARTERIAL_EVERY = 4
EW_ARTERIAL_EVERY = 5

TREES = [
    "Elm", "Oak", "Maple", "Cedar", "Birch", "Walnut", "Chestnut", "Hickory", "Willow", "Aspen", "Spruce",
    "Poplar", "Linden", "Juniper", "Magnolia", "Sycamore", "Laurel", "Hawthorn", "Cypress", "Alder", "Beech",
    "Mulberry", "Hazel", "Sumac", "Tamarack", "Dogwood", "Redbud", "Catalpa", "Buckeye", "Ironwood",
]
NORTH_NAMES = [
    "Washington", "Adams", "Jefferson", "Madison", "Monroe", "Jackson", "Van Buren", "Harrison", "Tyler",
    "Polk", "Taylor", "Fillmore", "Pierce", "Buchanan", "Lincoln", "Grant", "Hayes", "Garfield", "Arthur",
    "Cleveland", "McKinley", "Roosevelt", "Wilson", "Harding", "Coolidge", "Hoover", "Prospect", "Lakeview",
    "Ridge", "Hillcrest", "Fairview", "Meadow", "Orchard", "Highland", "Summit", "Sunset", "Forest Hill",
    "Spring Green", "Deerpath", "Foxglove", "Quarry", "Pheasant Run", "County Line", "Bluff", "Timber Ridge",
]
SOUTH_NAMES = [
    "Market", "Water", "Bridge", "Canal", "Dock", "Ferry", "Union", "Liberty", "Mill", "Church", "School",
    "Michigan", "Superior", "Huron", "Erie", "Ontario", "Wisconsin", "Illinois", "Iowa", "Minnesota", "Ohio",
    "Indiana", "Dakota", "Nebraska", "Kansas", "Missouri",
]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def ns_street_name(k: int) -> str:
    """The k-th north-south street east (k > 0) or west (k < 0) of Main St."""
    if k == 0:
        return "Main St"
    arterial = k % NS_ARTERIAL_EVERY == 0
    if k < 0:
        return f"{_ordinal(-k)} St"
    base = TREES[(k - 1) % len(TREES)]
    return f"{base} {'Ave' if arterial else 'St'}"


def ew_street_name(j: int) -> str:
    """The j-th east-west street north (j > 0) or south (j < 0) of Center St."""
    if j == 0:
        return "Center St"
    names = NORTH_NAMES if j > 0 else SOUTH_NAMES
    base = names[(abs(j) - 1) % len(names)]
    if j % EW_ARTERIAL_EVERY == 0:
        return f"{base} Ave"
    return f"{base} {'Rd' if j > 22 else 'St'}"  # past the city's north edge the grid turns rural


@dataclass(frozen=True, slots=True)
class Avenue:
    """A diagonal avenue: a polyline that cuts across the grid."""

    name: str
    points: tuple[tuple[float, float], ...]


AVENUES = (
    Avenue("Old Plank Rd", ((-13_500.0, -6_000.0), (2_600.0, 300.0))),
    Avenue("Harbor Ave", ((2_600.0, 300.0), (4_200.0, -6_500.0))),
    Avenue("Mill Creek Pkwy", ((-9_000.0, 12_500.0), (2_600.0, 300.0))),
    Avenue("Lake Shore Dr", ((2_600.0, 12_300.0), (3_400.0, 9_500.0), (3_600.0, 6_700.0), (4_200.0, 3_900.0),
                             (3_300.0, -300.0), (4_200.0, -2_700.0), (3_700.0, -4_700.0), (3_200.0, -6_600.0))),
)


@dataclass(frozen=True, slots=True)
class Frontage:
    """A spot on a street's centreline and the side of the street a building stands on."""

    street: str
    x: float
    y: float
    normal: tuple[float, float]  # unit vector from the street towards the building
    numbers_run_north: bool  # house numbers count along y (north-south streets) or along x


def _grid_ns(x: float, y: float, every: int) -> tuple[float, Frontage]:
    k = round(x / (NS_SPACING * every)) * every
    sx = k * NS_SPACING
    side = 1.0 if x >= sx else -1.0
    return abs(x - sx), Frontage(ns_street_name(k), sx, y, (side, 0.0), True)


def _grid_ew(x: float, y: float, every: int) -> tuple[float, Frontage]:
    j = round(y / (EW_SPACING * every)) * every
    sy = j * EW_SPACING
    side = 1.0 if y >= sy else -1.0
    return abs(y - sy), Frontage(ew_street_name(j), x, sy, (0.0, side), False)


def _on_avenue(x: float, y: float, avenue: Avenue) -> tuple[float, Frontage]:
    best: tuple[float, Frontage] | None = None
    for (ax, ay), (bx, by) in zip(avenue.points, avenue.points[1:], strict=False):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length2))
        px, py = ax + t * dx, ay + t * dy
        dist = math.hypot(x - px, y - py)
        if best is None or dist < best[0]:
            length = math.sqrt(length2)
            nx, ny = -dy / length, dx / length
            if (x - px) * nx + (y - py) * ny < 0:
                nx, ny = -nx, -ny
            best = dist, Frontage(avenue.name, px, py, (nx, ny), abs(dy) >= abs(dx))
    return best


def nearest_frontage(x: float, y: float, *, arterial_only: bool = False) -> Frontage:
    """The street frontage nearest to a point; businesses ask for arterials and avenues only."""
    ns_every = NS_ARTERIAL_EVERY if arterial_only else 1
    ew_every = EW_ARTERIAL_EVERY if arterial_only else 1
    candidates = [_grid_ns(x, y, ns_every), _grid_ew(x, y, ew_every)]
    candidates += [_on_avenue(x, y, a) for a in AVENUES]
    return min(candidates, key=lambda c: c[0])[1]


def along(f: Frontage, metres: float) -> Frontage:
    """The same frontage moved along the street (a neighbour, or another camera of the same site)."""
    nx, ny = f.normal
    return Frontage(f.street, f.x - ny * metres, f.y + nx * metres, f.normal, f.numbers_run_north)


def house_number_address(f: Frontage) -> str:
    """'1234 N Elm St': 100 numbers per block from the baselines, even on the north and east sides."""
    if f.numbers_run_north:
        coord, spacing, prefix = f.y, EW_SPACING, "N" if f.y >= 0 else "S"
        even = f.normal[0] >= 0
    else:
        coord, spacing, prefix = f.x, NS_SPACING, "E" if f.x >= 0 else "W"
        even = f.normal[1] >= 0
    number = max(10, int(abs(coord) / spacing * 100))
    if (number % 2 == 0) != even:
        number += 1
    return f"{number} {prefix} {f.street}"
