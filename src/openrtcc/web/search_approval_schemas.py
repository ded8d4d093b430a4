"""Request and response bodies of supervisor approvals of wide searches and of the search-purpose list."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from openrtcc.services.search_approvals import Approval, PurposeChoices
from openrtcc.web.schemas import PurposeIn

TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # free text: lines and tabs, no other control characters


class ApprovalIn(PurposeIn):
    """The search to approve, exactly as it will be made: kind, purpose, offence, case and area."""

    kind: Literal["camera", "plate", "area"] = Field(description="camera: a camera search; plate: a plate search "
                                                     "in an area; area: reads in an area without a plate.")
    justification: str = Field("", max_length=2000, pattern=TEXT,
                               description="Why so many cameras: 10 to 500 characters.")
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = Field(None, description="With lat/lon; left out for a view-cone search.")
    area: dict | None = Field(None, description="GeoJSON Polygon or MultiPolygon, as the search will send it.")


class DecisionIn(BaseModel):
    note: str | None = Field(None, max_length=2000, pattern=TEXT,
                             description="Required to deny; at most 500 characters.")


class ApprovalOut(BaseModel):
    id: str
    requested_by: str
    requester_name: str | None
    kind: str
    purpose: str
    offence: str
    case_number: str
    justification: str
    scope: dict
    camera_count: int
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, a: Approval) -> ApprovalOut:
        return cls(**dataclasses.asdict(a))


class PurposeOut(BaseModel):
    code: str
    label: str
    needs_offence: bool
    prohibited: bool = Field(description="Your agency prohibits searches for this purpose.")


class OffenceOut(BaseModel):
    code: str
    label: str


class PurposeChoicesOut(BaseModel):
    purposes: list[PurposeOut]
    offences: list[OffenceOut]
    camera_limit: int = Field(description="A search over more cameras needs a supervisor's approval.")
    repeat_threshold: int

    @classmethod
    def of(cls, c: PurposeChoices) -> PurposeChoicesOut:
        return cls(purposes=[PurposeOut(code=p[0], label=p[1], needs_offence=p[2], prohibited=p[3])
                             for p in c.purposes],
                   offences=[OffenceOut(code=o[0], label=o[1]) for o in c.offences],
                   camera_limit=c.camera_limit, repeat_threshold=c.repeat_threshold)


class SearchNoticeOut(BaseModel):
    id: str
    kind: str = Field(description="search_prohibited | search_repeat | search_approval")
    subject: str
    body: str
    link: str | None
    created_at: datetime
