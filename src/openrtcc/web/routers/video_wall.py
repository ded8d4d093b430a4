"""The video wall: the integrated cameras nearest a place that the owners' policies let this agency watch now."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from openrtcc.services import video_wall
from openrtcc.services.search import Purpose
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.schemas import CameraAgencyOut

router = APIRouter(prefix="/api/wall", tags=["command center"])
Limit = Query(video_wall.MAX_TILES, ge=1, le=video_wall.MAX_TILES, description="Tiles to fill: 1, 4, 9 or 16.")
Radius = Query(video_wall.DEFAULT_RADIUS_M, ge=1, le=5000, description="How far from the place, in metres.")


class WallCameraOut(CameraAgencyOut):
    live_reason: str  # why the owner's policy allows live view now


class IncidentWallOut(BaseModel):
    purpose: str  # what the tiles' live sessions state: the incident
    case_number: str | None
    cameras: list[WallCameraOut]


def _out(picked: list[video_wall.WallCamera]) -> list[WallCameraOut]:
    return [WallCameraOut(**CameraAgencyOut.of(w.camera, w.distance_m).model_dump(), live_reason=w.reason)
            for w in picked]


@router.get("/nearest")
def nearest(actor: AgencyActor, hub: HubDep, lat: float, lon: float,
            purpose: str = Query(min_length=3, max_length=300, description="Why the wall is filled."),
            case_number: str | None = Query(None, max_length=64),
            limit: int = Limit, radius_m: float = Radius) -> list[WallCameraOut]:
    """Nearest first, with the distance; only cameras a tile may play now (policy, emergencies, box online)."""
    return _out(video_wall.nearest_live(hub, actor, lat, lon, Purpose(purpose, case_number), limit=limit,
                                        radius_m=radius_m))


@router.get("/incident/{incident_id}")
def for_incident(incident_id: str, actor: AgencyActor, hub: HubDep, limit: int = Limit,
                 radius_m: float = Radius) -> IncidentWallOut:
    """The wall for an incident of the agency: the search, and the tiles after it, state the incident."""
    purpose, picked = video_wall.nearest_for_incident(hub, actor, incident_id, limit=limit, radius_m=radius_m)
    return IncidentWallOut(purpose=purpose.text, case_number=purpose.case_number, cameras=_out(picked))
