"""Cameras: view-cone coverage at the edges, view validation, jurisdiction, duplicates, schedules."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time

import pytest

from openrtcc.domain.cameras import (
    MAX_RANGE_M,
    Camera,
    CameraStatus,
    ScheduleWindow,
    SharingPolicy,
    Tier,
    ViewCone,
    cameras_seeing,
    check_in_jurisdiction,
    find_likely_duplicate,
    validate_view,
)
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import Point, area_from_geojson, destination

CAM = Point(43.0, -87.92)
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def at(bearing: float, dist: float) -> Point:
    return destination(CAM, bearing, dist)


# (cone, bearing to target, distance to target, covered)
@pytest.mark.parametrize("cone, bearing, dist, covered", [
    (ViewCone(90, 90, 40), 90, 20, True),        # straight ahead
    (ViewCone(90, 90, 40), 45.1, 20, True),      # just inside the left edge of the angle
    (ViewCone(90, 90, 40), 44.9, 20, False),     # just outside it
    (ViewCone(90, 90, 40), 134.9, 20, True),     # right edge
    (ViewCone(90, 90, 40), 135.1, 20, False),
    (ViewCone(90, 90, 40), 90, 39.9, True),      # at the end of the range
    (ViewCone(90, 90, 40), 90, 40.1, False),
    (ViewCone(90, 90, 40), 270, 20, False),      # behind the camera
    (ViewCone(0, 90, 40), 315.1, 20, True),      # a cone across north wraps around 0/360
    (ViewCone(0, 90, 40), 314.9, 20, False),
    (ViewCone(0, 90, 40), 44.9, 20, True),
    (ViewCone(0, 90, 40), 45.1, 20, False),
    (ViewCone(350, 40, 40), 5, 20, True),
    (ViewCone(350, 40, 40), 11, 20, False),
    (ViewCone(90, 1, 100), 90.4, 50, True),      # the narrowest cone
    (ViewCone(90, 1, 100), 90.6, 50, False),
    (ViewCone(90, 360, 40), 270, 39.9, True),    # 360-degree camera: every direction ...
    (ViewCone(90, 360, 40), 0, 39.9, True),
    (ViewCone(90, 360, 40), 180, 40.1, False),   # ... but never beyond its range
    (ViewCone(90, 90, 40), 270, 0.5, True),      # a target at the camera itself is seen
    (ViewCone(90, 90, MAX_RANGE_M), 90, MAX_RANGE_M - 0.5, True),
])
def test_view_cone_coverage(cone, bearing, dist, covered):
    assert cone.covers(CAM, at(bearing, dist)) is covered


def _camera(id_: str, location: Point, bearing: float = 90, *, fov: float = 90, range_m: float = 40,
            status: CameraStatus = CameraStatus.ACTIVE, owner: str = "owner-1") -> Camera:
    return Camera(id_, "agency-1", owner, id_, location, "1 Main St", ViewCone(bearing, fov, range_m),
                  Tier.REGISTERED, SharingPolicy(), True, None, None, 7, status, T0, T0)


def test_cameras_seeing_lists_only_covering_cameras_nearest_first():
    target = CAM
    far = _camera("far", destination(target, 270, 30), bearing=90)          # west of it, facing east
    near = _camera("near", destination(target, 90, 10), bearing=270)        # east of it, facing west
    away = _camera("away", destination(target, 180, 10), bearing=180)       # south, facing further south
    short = _camera("short", destination(target, 0, 50), bearing=180, range_m=40)  # facing it, too short
    assert [c.id for c in cameras_seeing(target, [far, away, short, near])] == ["near", "far"]
    assert cameras_seeing(target, []) == []


@pytest.mark.parametrize("bearing, fov, range_m, code", [
    (-1, 90, 40, "bearing_out_of_range"),
    (359.5, 90, 40, "bearing_out_of_range"),
    (360, 90, 40, "bearing_out_of_range"),
    (math.nan, 90, 40, "bearing_out_of_range"),
    (math.inf, 90, 40, "bearing_out_of_range"),
    (90, 0, 40, "fov_out_of_range"),
    (90, 0.5, 40, "fov_out_of_range"),
    (90, 361, 40, "fov_out_of_range"),
    (90, math.nan, 40, "fov_out_of_range"),
    (90, 90, 0, "range_out_of_range"),
    (90, 90, 0.99, "range_out_of_range"),
    (90, 90, MAX_RANGE_M + 0.01, "range_out_of_range"),
    (90, 90, math.nan, "range_out_of_range"),
    (90, 90, math.inf, "range_out_of_range"),
])
def test_validate_view_refuses(bearing, fov, range_m, code):
    with pytest.raises(InvalidInput) as err:
        validate_view(bearing, fov, range_m)
    assert err.value.code == code


@pytest.mark.parametrize("bearing, fov, range_m", [(0, 1, 1), (359, 360, MAX_RANGE_M), (180.5, 90, 30)])
def test_validate_view_accepts_the_limits(bearing, fov, range_m):
    assert validate_view(bearing, fov, range_m) == ViewCone(float(bearing), float(fov), float(range_m))


def test_check_in_jurisdiction():
    square = {"type": "Polygon", "coordinates": [[[-88, 42.9], [-87.8, 42.9], [-87.8, 43.1], [-88, 43.1],
                                                  [-88, 42.9]]]}
    area = area_from_geojson(square)
    check_in_jurisdiction(CAM, area, "Lakeport Police")  # no error
    with pytest.raises(InvalidInput) as err:
        check_in_jurisdiction(Point(44.0, -87.92), area, "Lakeport Police")
    assert err.value.code == "outside_jurisdiction"
    assert "Lakeport Police" in err.value.message


# (existing camera: distance from the candidate, its bearing, its status; candidate bearing; duplicate?)
@pytest.mark.parametrize("dist, existing_bearing, status, candidate_bearing, duplicate", [
    (0, 90, CameraStatus.ACTIVE, 90, True),
    (14.5, 90, CameraStatus.ACTIVE, 90, True),
    (15.5, 90, CameraStatus.ACTIVE, 90, False),            # far enough apart
    (5, 90, CameraStatus.ACTIVE, 119.5, True),             # bearings within 30 degrees
    (5, 90, CameraStatus.ACTIVE, 120.5, False),
    (5, 355, CameraStatus.ACTIVE, 10, True),               # 15 degrees apart across north
    (5, 90, CameraStatus.ACTIVE, 270, False),              # the other side of the same pole
    (5, 90, CameraStatus.WITHDRAWN, 90, False),            # a withdrawn camera may be registered again
])
def test_find_likely_duplicate(dist, existing_bearing, status, candidate_bearing, duplicate):
    existing = _camera("existing", destination(CAM, 45, dist), bearing=existing_bearing, status=status)
    found = find_likely_duplicate(CAM, ViewCone(candidate_bearing, 90, 40), [existing])
    assert (found is existing) if duplicate else (found is None)


def test_find_likely_duplicate_skips_withdrawn_and_finds_the_active_one():
    gone = _camera("gone", CAM, status=CameraStatus.WITHDRAWN)
    live = _camera("live", destination(CAM, 0, 3))
    assert find_likely_duplicate(CAM, ViewCone(90, 90, 40), [gone, live]) is live


@pytest.mark.parametrize("window, local, covered", [
    (ScheduleWindow(4, time(8), time(10)), datetime(2026, 11, 20, 8, 0), True),     # Friday, start inclusive
    (ScheduleWindow(4, time(8), time(10)), datetime(2026, 11, 20, 9, 59, 59), True),
    (ScheduleWindow(4, time(8), time(10)), datetime(2026, 11, 20, 10, 0), False),   # end exclusive
    (ScheduleWindow(4, time(8), time(10)), datetime(2026, 11, 20, 7, 59, 59), False),
    (ScheduleWindow(3, time(8), time(10)), datetime(2026, 11, 20, 9, 0), False),    # Thursday window
    (ScheduleWindow(5, time(0), time(23, 59)), datetime(2026, 11, 21, 12, 0), True),  # Saturday
])
def test_schedule_window(window, local, covered):
    assert window.covers(local) is covered

