"""API models for read sources, alerts and plate search: strict in, explicit out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from openrtcc.domain.alerts import AlertView
from openrtcc.services.read_sources import ReadSource
from openrtcc.web.schemas import PurposeIn, Strict

# --- read sources -------------------------------------------------------------------------------


class ReadSourceIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    kind: Literal["edge", "lpr_camera", "integration"] = "lpr_camera"
    default_state: str | None = Field(None, max_length=5, description="Where its reads are from, e.g. CA.")


class ReadSourceOut(BaseModel):
    id: str
    name: str
    kind: str
    default_state: str | None
    created_at: datetime
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, s: ReadSource) -> ReadSourceOut:
        return cls(id=s.id, name=s.name, kind=s.kind, default_state=s.default_state, created_at=s.created_at,
                   revoked_at=s.revoked_at, active=s.active)


class ReadSourceCreatedOut(ReadSourceOut):
    key: str = Field(description="The ingest key. Shown this once: the hub keeps only its SHA-256.")


# --- ingest -------------------------------------------------------------------------------------


class ReadAckOut(BaseModel):
    read_id: str
    status: Literal["stored", "duplicate"]
    id: str


class IngestOut(BaseModel):
    version: int = 1
    stored: int
    duplicate: int
    results: list[ReadAckOut]


# --- alerts -------------------------------------------------------------------------------------


class DispositionIn(Strict):
    disposition: Literal["confirmed", "misread", "wrong_state", "resolved"]
    note: str | None = Field(None, max_length=500)


class ReadFieldsOut(BaseModel):
    """What a plate read says, as alerts and search results both show it."""

    plate: str
    state: str | None
    region: str | None
    confidence: float
    camera_id: str | None
    lat: float | None
    lon: float | None
    heading_deg: float | None
    vehicle_make: str | None
    vehicle_colour: str | None
    vehicle_type: str | None
    captured_at: datetime


class AlertOut(ReadFieldsOut):
    id: str
    status: str
    match_kind: str
    created_at: datetime
    list_id: str
    list_name: str | None
    record: dict = Field(description="The hot-list entry as it stood when the hit was made.")
    crop_url: str | None
    snapshot_url: str | None
    disposition_by: str | None
    disposition_at: datetime | None
    disposition_note: str | None
    acknowledged_at: datetime | None = None
    assigned_to: str | None = Field(None, description="The user the alert is assigned to.")
    assigned_name: str | None = None
    escalated_at: datetime | None = None

    @classmethod
    def of(cls, a: AlertView) -> AlertOut:
        base = f"/api/agency/alerts/{a.id}"
        return cls(
            id=a.id, status=a.status.value, match_kind=a.match_kind, plate=a.plate, state=a.state, region=a.region,
            confidence=a.confidence, camera_id=a.camera_id, lat=a.lat, lon=a.lon, heading_deg=a.heading_deg,
            vehicle_make=a.vehicle_make, vehicle_colour=a.vehicle_colour, vehicle_type=a.vehicle_type,
            captured_at=a.captured_at, created_at=a.created_at, list_id=a.list_id, list_name=a.list_name,
            record=a.entry, crop_url=f"{base}/crop" if a.has_crop else None,
            snapshot_url=f"{base}/snapshot" if a.has_snapshot else None, disposition_by=a.disposition_by,
            disposition_at=a.disposition_at, disposition_note=a.disposition_note, acknowledged_at=a.acknowledged_at,
            assigned_to=a.assigned_to, assigned_name=a.assigned_name, escalated_at=a.escalated_at,
        )


# --- plate search -------------------------------------------------------------------------------


class PlateSearchIn(PurposeIn):
    include_shared: bool = Field(False, description="Also reads other agencies share with yours for this purpose "
                                 "(each access audited on both sides).")
    plate: str | None = Field(None, max_length=32, description="A whole plate.")
    partial: str | None = Field(None, max_length=32, description="A partial plate: * any run, ? one character.")
    lookalikes: bool = Field(False, description="With `plate`: also plates that differ only in look-alikes.")
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = Field(None, description="With lat/lon: reads within this many metres.")
    area: dict | None = Field(None, description="GeoJSON Polygon or MultiPolygon: reads inside it.")
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    cursor: str | None = Field(None, max_length=200, description="`next_cursor` of the previous page.")
    page_size: int = Field(50, ge=1, le=200)


class PlateReadOut(ReadFieldsOut):
    id: str
    source_id: str
    agency_id: str = Field(description="The agency whose read this is (another one's only in a shared search).")


class PlateSearchOut(BaseModel):
    results: list[PlateReadOut]
    next_cursor: str | None
