"""A search result written as JSON by hand is byte for byte what FastAPI writes from the response models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from openrtcc.domain.cameras import Camera, CameraStatus, SharingMode, SharingPolicy, Tier, ViewCone
from openrtcc.domain.geo import Point
from openrtcc.web.schemas import CameraAgencyOut

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _camera(name: str, *, lat: float = 43.0, lon: float = -87.92, make: str | None = None, bearing: float = 90,
            retention: int = 7, tier: Tier = Tier.REGISTERED, mode: SharingMode = SharingMode.PAUSED) -> Camera:
    return Camera(f"cam-{name}", "agency-1", "owner-1", name, Point(lat, lon), "1 Main St \"rear\"",
                  ViewCone(bearing, 90, 40), tier, SharingPolicy(mode), True, make, None, retention,
                  CameraStatus.ACTIVE, T0, T0)


def _fastapi_body(found: list[tuple[Camera, float | None]]) -> bytes:
    """What a route returning list[CameraAgencyOut] sends."""
    return JSONResponse(jsonable_encoder([CameraAgencyOut.of(c, d) for c, d in found])).body


@pytest.mark.parametrize("found", [
    [],
    [(_camera("plain"), 12.345)],
    [(_camera("Café Ünter den Linden ☂", make="Ubiquiti"), 0.0), (_camera("b", bearing=0, retention=30), 99.95)],
    [(_camera("edge", lat=-89.999999, lon=179.9999999, tier=Tier.INTEGRATED, mode=SharingMode.EMERGENCY_ONLY), None)],
    [(_camera("tab\tand\nnewline\\"), 1e-7), (_camera("x", lat=42.123456789012345), 4999.99)],
])
def test_radius_result_json_matches_the_models(found):
    assert CameraAgencyOut.json_list(found) == _fastapi_body(found)


def test_an_impossible_distance_is_refused_as_the_models_refuse_it():
    """NaN is not JSON: neither path writes it."""
    found = [(_camera("nan"), float("nan"))]
    with pytest.raises(ValueError):
        _fastapi_body(found)
    with pytest.raises(ValueError):
        CameraAgencyOut.json_list(found)
