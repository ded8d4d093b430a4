"""The demo city's layout, without storage: deterministic, a believable mix, cameras facing the street."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from openrtcc.demo.city import DEMO_OWNERS
from openrtcc.demo.population import build_population
from openrtcc.demo.streets import house_number_address, nearest_frontage
from openrtcc.demo.territory import FRAME, lakeport_territory
from openrtcc.domain.cameras import SharingMode, Tier

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
AGENCY_IDS = {"lakeport-pd": "city", "harbor-county-so": "county"}
ADDRESS = re.compile(r"^\d+ [NSEW] [A-Z0-9][\w' .]+ (St|Ave|Rd|Dr|Pkwy)$")


class CountingIds:
    def __init__(self):
        self._n = itertools.count(1)

    def new_id(self) -> str:
        return f"id-{next(self._n)}"


def _city(seed: int = 42, cameras: int = 6000):
    return build_population(seed, cameras, CountingIds(), NOW, lakeport_territory(), AGENCY_IDS, DEMO_OWNERS, None)


@pytest.fixture(scope="module")
def city():
    return _city()


def _layout(population) -> list[tuple]:
    return [(c.location, c.address, c.view, c.tier, c.policy.mode) for c in population.cameras]


def test_the_same_seed_gives_the_same_city_and_another_seed_another():
    assert _layout(_city(cameras=400)) == _layout(_city(cameras=400))
    assert _layout(_city(seed=7, cameras=400)) != _layout(_city(cameras=400))


def test_a_quarter_to_a_third_is_integrated_with_every_sharing_mode(city):
    cams = city.cameras
    assert len(cams) == 6000
    integrated = [c for c in cams if c.tier is Tier.INTEGRATED]
    assert 0.25 <= len(integrated) / len(cams) <= 0.35
    assert {c.policy.mode for c in integrated} == set(SharingMode)
    assert all(c.policy.mode is SharingMode.PAUSED for c in cams if c.tier is Tier.REGISTERED)
    assert all(c.policy.schedule for c in integrated if c.policy.mode is SharingMode.SCHEDULE)


def test_owners_of_every_kind_and_associations_hold_many_cameras(city):
    kinds = {o.user.id: o.kind for o in city.owners}
    per_owner = Counter(c.owner_id for c in city.cameras)
    hoa_counts = [n for owner, n in per_owner.items() if kinds[owner] == "hoa"]
    resident_counts = [n for owner, n in per_owner.items() if kinds[owner] == "resident"]
    assert set(kinds.values()) == {"resident", "business", "hoa"}
    assert min(hoa_counts) >= 10 and max(resident_counts) <= 3
    assert all(o.user.password_hash is None for o in city.owners)  # no hash was given for anyone here


def test_addresses_read_like_a_us_street_address(city):
    bad = [c.address for c in city.cameras if not ADDRESS.match(c.address)]
    assert bad == []
    assert len({c.address for c in city.cameras}) > 1000


def test_cameras_face_the_street_they_stand_on(city):
    seeing = 0
    for cam in city.cameras:
        x, y = FRAME.to_xy(cam.location)
        street = nearest_frontage(x, y)
        seeing += cam.view.covers(cam.location, FRAME.to_point(street.x, street.y))
    # At corners the nearest street can be the cross street; nearly every camera sees its own street.
    assert seeing / len(city.cameras) >= 0.9


def test_house_numbers_are_even_on_the_north_and_east_sides():
    east = nearest_frontage(1_610.0, 1_550.0)  # just east of a north-south street, 1.55 km north
    west = nearest_frontage(1_590.0, 1_550.0)
    assert house_number_address(east) == "516 N Hickory Ave"
    assert house_number_address(west) == "517 N Hickory Ave"
    south = nearest_frontage(-2_050.0, -310.0)  # just south of an east-west street, 2 km west
    north = nearest_frontage(-2_050.0, -290.0)
    assert house_number_address(south) == "1025 W Market St"
    assert house_number_address(north) == "1026 W Market St"
