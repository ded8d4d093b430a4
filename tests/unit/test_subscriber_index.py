"""Matching subscribers to notices: circles, polygons, categories, audiences, channels, agencies, status."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openrtcc.domain.dissemination import (
    Audience,
    ChannelKind,
    Notice,
    NoticeKind,
    Subscriber,
    SubscriberStatus,
)
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import Point
from openrtcc.domain.subscriber_index import SubscriberIndex, parse_geofence

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SQUARE = {"type": "Polygon", "coordinates": [[[-87.95, 42.98], [-87.90, 42.98], [-87.90, 43.02],
                                              [-87.95, 43.02], [-87.95, 42.98]]]}


def sub(sid: str, fence=None, *, audience=Audience.PUBLIC, channel=ChannelKind.EMAIL, cats=(),
        status=SubscriberStatus.ACTIVE, agency="a1") -> Subscriber:
    return Subscriber(sid, agency, audience, channel, f"{sid}@example.org", frozenset(cats), fence, status)


def circle(lon: float, lat: float, r: float) -> dict:
    return {"type": "Circle", "center": [lon, lat], "radius_m": r}


def notice(lat=43.0, lon=-87.92, *, kind=NoticeKind.INCIDENT, change="new", category="burglary", agency="a1",
           audiences=None, radius_m=0.0) -> Notice:
    return Notice("n1", agency, kind, change, "i1", category, 2, lat, lon, AT, "Burglary", audiences=audiences,
                  radius_m=radius_m)


def ids(subs) -> set[str]:
    return {s.id for s in subs}


def test_circles_and_polygons_hold_the_point_or_not():
    index = SubscriberIndex([
        sub("near", circle(-87.92, 43.0, 500)), sub("far", circle(-87.80, 43.0, 500)),
        sub("square", SQUARE), sub("anywhere"), sub("county", circle(-87.5, 43.0, 99_000)),
    ])
    assert ids(index.matching(notice())) == {"near", "square", "anywhere", "county"}
    assert ids(index.matching(notice(43.1, -87.92))) == {"anywhere", "county"}
    # just outside the 500 m circle (about 560 m east)
    assert "near" not in ids(index.matching(notice(43.0, -87.913)))


def test_categories_audiences_channels_status_and_agency():
    index = SubscriberIndex([
        sub("burglary-only", cats={"burglary"}), sub("fire-only", cats={"fire"}),
        sub("unit", audience=Audience.POLICE_UNIT), sub("hook", channel=ChannelKind.WEBHOOK),
        sub("pending", status=SubscriberStatus.PENDING), sub("gone", status=SubscriberStatus.UNSUBSCRIBED),
        sub("other-agency", agency="a2"), sub("vendor", audience=Audience.PRIVATE_SECURITY),
    ])
    assert ids(index.matching(notice())) == {"burglary-only", "unit", "hook", "vendor"}
    # updates go to data channels only; email, SMS and push carry news
    assert ids(index.matching(notice(change="update"))) == {"hook"}
    # plate hits go to police units whatever else subscribed
    assert ids(index.matching(notice(kind=NoticeKind.ALERT, category="plate_alert"))) == {"unit"}
    bulletin = notice(kind=NoticeKind.BULLETIN, audiences=frozenset({Audience.PRIVATE_SECURITY}))
    assert ids(index.matching(bulletin)) == {"vendor"}
    assert index.matching(notice(agency="nobody")) == []


def test_a_bulletin_circle_reaches_fences_it_overlaps():
    index = SubscriberIndex([sub("east", circle(-87.90, 43.0, 1000)), sub("square", SQUARE),
                             sub("away", circle(-87.70, 43.0, 1000))])
    wide = notice(43.0, -87.88, kind=NoticeKind.BULLETIN, radius_m=1700)  # the square's east edge is ~1.63 km west
    assert ids(index.matching(wide)) == {"east", "square"}
    assert ids(index.matching(notice(43.0, -87.88, kind=NoticeKind.BULLETIN))) == set()
    everywhere = notice(None, None, kind=NoticeKind.BULLETIN)
    assert ids(index.matching(everywhere)) == {"east", "square", "away"}


def test_many_subscribers_match_by_cell():
    subs = [sub(f"s{i}", circle(-87.99 + (i % 100) * 0.0014, 42.95 + (i // 100) * 0.0012, 300)) for i in range(10_000)]
    index = SubscriberIndex(subs)
    found = index.matching(notice(43.0, -87.92))
    assert found and all(s.geofence for s in found)
    brute = {s.id for s in subs if parse_geofence(s.geofence).contains(Point(43.0, -87.92))}
    assert ids(found) == brute


@pytest.mark.parametrize("bad", [
    {"type": "Circle", "center": [-87.9], "radius_m": 100},
    {"type": "Circle", "center": [-87.9, 95], "radius_m": 100},
    {"type": "Circle", "center": [-87.9, 43], "radius_m": 10},
    {"type": "Circle", "center": [-87.9, 43], "radius_m": float("nan")},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},  # a bow tie
    {"type": "Point", "coordinates": [0, 0]}, "circle",
])
def test_bad_geofences_are_refused(bad):
    with pytest.raises(InvalidInput) as err:
        parse_geofence(bad)
    assert err.value.code == "bad_geofence"
