"""Request and response models of the edge endpoints: enrolment, the owner's boxes, emergencies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from openrtcc.domain.cameras import MAX_EMERGENCY_RADIUS_M
from openrtcc.services.edges import BoxView
from openrtcc.web.schemas import Strict

MAX_EMERGENCY_MINUTES = 24 * 60


class CodeIn(Strict):
    name: str | None = Field(None, min_length=1, max_length=120, description="How the box is named in the portal.")


class CodeOut(BaseModel):
    code: str = Field(description="Shown once: type it into `rtcc edge enrol --code`.")
    expires_at: datetime


class EnrolIn(Strict):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field("", max_length=120)
    software_version: str | None = Field(None, max_length=40)


class EnrolOut(BaseModel):
    edge_id: str
    key: str = Field(description="Shown once; the hub keeps only its hash.")
    name: str


class CameraHealthOut(BaseModel):
    id: str
    name: str
    tier: str
    online: bool | None
    fps: float | None
    bitrate_kbps: float | None
    last_frame_at: datetime | None
    error: str | None
    reported_at: datetime | None


class EdgeOut(BaseModel):
    id: str
    name: str
    enrolled_at: datetime
    revoked: bool
    connected: bool
    last_seen_at: datetime | None
    software_version: str | None
    clock_skew_ms: int | None
    clock_skew_alarm: bool
    disk: dict | None
    alarms: list[dict]
    queued_reads: int | None
    cameras: list[CameraHealthOut]

    @classmethod
    def of(cls, v: BoxView) -> EdgeOut:
        b = v.box
        cams = [CameraHealthOut(id=c.id, name=c.name, tier=c.tier.value, online=h.online if h else None,
                                fps=h.fps if h else None, bitrate_kbps=h.bitrate_kbps if h else None,
                                last_frame_at=h.last_frame_at if h else None, error=h.error if h else None,
                                reported_at=h.reported_at if h else None) for c, h in v.cameras]
        return cls(id=b.id, name=b.name, enrolled_at=b.enrolled_at, revoked=b.revoked_at is not None,
                   connected=v.linked and b.revoked_at is None, last_seen_at=b.last_seen_at,
                   software_version=b.software_version, clock_skew_ms=b.clock_skew_ms,
                   clock_skew_alarm=b.clock_skew_alarm, disk=b.status.get("disk"), alarms=b.status.get("alarms", []),
                   queued_reads=b.status.get("queued_reads"), cameras=cams)


class CameraEdgeIn(Strict):
    edge_id: str | None = Field(None, max_length=36, description="One of your boxes; null unlinks the camera.")


class EmergencyIn(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(gt=0, le=MAX_EMERGENCY_RADIUS_M)
    reason: str = Field(min_length=3, max_length=300)
    case_number: str | None = Field(None, max_length=64)
    expires_in_minutes: int = Field(ge=1, le=MAX_EMERGENCY_MINUTES)


class EmergencyOut(BaseModel):
    id: str
    lat: float
    lon: float
    radius_m: float
    reason: str
    case_number: str | None
    declared_by: str | None = Field(description="The supervisor who declared it; null when a CAD call declared it.")
    declared_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    active: bool
