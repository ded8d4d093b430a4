"""The video wall: the integrated cameras nearest a place that the owners' policies let this agency watch now."""

from __future__ import annotations

from fastapi import APIRouter, Query

from openrtcc.services import video_wall
from openrtcc.services.search import Purpose
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.schemas import CameraAgencyOut

router = APIRouter(prefix="/api/wall", tags=["command center"])


class WallCameraOut(CameraAgencyOut):
    live_reason: str  # why the owner's policy allows live view now


@router.get("/nearest")
def nearest(actor: AgencyActor, hub: HubDep, lat: float, lon: float,
            purpose: str = Query(min_length=3, max_length=300, description="Why the wall is filled: the incident."),
            case_number: str | None = Query(None, max_length=64),
            limit: int = Query(video_wall.MAX_TILES, ge=1, le=video_wall.MAX_TILES),
            radius_m: float = Query(video_wall.DEFAULT_RADIUS_M, ge=1, le=5000)) -> list[WallCameraOut]:
    """Nearest first, with the distance; only cameras a tile may play now (policy, emergencies, box online)."""
    picked = video_wall.nearest_live(hub, actor, lat, lon, Purpose(purpose, case_number), limit=limit,
                                     radius_m=radius_m)
    return [WallCameraOut(**CameraAgencyOut.of(w.camera, w.distance_m).model_dump(), live_reason=w.reason)
            for w in picked]
