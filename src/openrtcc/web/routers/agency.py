"""The agency side: the camera map, searches with a stated purpose, incident pins."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import area_from_geojson
from openrtcc.services import search
from openrtcc.services.search import Purpose
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.map_columns_json import map_columns_json
from openrtcc.web.schemas import AreaSearchIn, CameraAgencyOut, IncidentIn, PointSearchIn, RadiusSearchIn

router = APIRouter(prefix="/api/agency", tags=["agency"])
MAP_FORMATS = ("rows (default): {fields, points: [[id, lat, lon, tier, sharing_mode], ...]}; columns (what the map "
               "page loads): {count, ids: 'id,id,...', lat: [...], lon: [...] in millionths of a degree, tier: "
               "'0101...' and sharing: '0213...' one code digit per camera, indexing tier_codes and sharing_codes}")


@router.get("/map/points")
def map_points(actor: AgencyActor, hub: HubDep,
               shape: Literal["rows", "columns"] = Query("rows", alias="format", description=MAP_FORMATS)) -> Response:
    """All active cameras as `[id, lat, lon, tier, sharing_mode]` rows: compact for 40,000 points."""
    import json

    if shape == "columns":
        return Response(map_columns_json(search.map_columns(hub, actor)), media_type="application/json")
    rows = search.map_points(hub, actor)
    body = json.dumps({"fields": ["id", "lat", "lon", "tier", "sharing_mode"],
                       "points": rows},  # tuples, coordinates already rounded by the repository
                      separators=(",", ":"))
    return Response(body, media_type="application/json")


@router.post("/search/radius", response_model=list[CameraAgencyOut])
def radius(body: RadiusSearchIn, actor: AgencyActor, hub: HubDep) -> Response:
    hits = search.search_radius(hub, actor, body.lat, body.lon, body.radius_m, body.given(),
                                approval_id=body.approval_id, include_shared=body.include_shared)
    return Response(CameraAgencyOut.json_list([(h.camera, h.distance_m) for h in hits]),
                    media_type="application/json")


@router.post("/search/area")
def area(body: AreaSearchIn, actor: AgencyActor, hub: HubDep) -> list[CameraAgencyOut]:
    try:
        parsed = area_from_geojson(body.area)
    except ValueError as exc:
        raise InvalidInput(f"area: {exc}", code="bad_geometry") from exc
    hits = search.search_area(hub, actor, parsed, body.given(), area_geojson=body.area, approval_id=body.approval_id,
                              include_shared=body.include_shared)
    return [CameraAgencyOut.of(h.camera) for h in hits]


@router.post("/search/view")
def view(body: PointSearchIn, actor: AgencyActor, hub: HubDep) -> list[CameraAgencyOut]:
    """Which cameras could have seen this point: their field of view covers it."""
    hits = search.cameras_that_could_see(hub, actor, body.lat, body.lon, body.given(), approval_id=body.approval_id,
                                         include_shared=body.include_shared)
    return [CameraAgencyOut.of(h.camera, h.distance_m) for h in hits]


@router.post("/incident-pin")
def incident_pin(body: IncidentIn, actor: AgencyActor, hub: HubDep) -> list[CameraAgencyOut]:
    hits = search.incident_cameras(hub, actor, body.lat, body.lon, body.radius_m, body.given(),
                                   approval_id=body.approval_id)
    return [CameraAgencyOut.of(h.camera, h.distance_m, h.contact) for h in hits]


@router.get("/cameras/{camera_id}")
def camera(camera_id: str, actor: AgencyActor, hub: HubDep,
           purpose: str = Query(min_length=3, max_length=300), case_number: str | None = Query(None, max_length=64),
           ) -> CameraAgencyOut:
    hit = search.camera_detail(hub, actor, camera_id, Purpose(purpose, case_number))
    return CameraAgencyOut.of(hit.camera)
