"""Request and response bodies of live view and edge clips."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class LiveStartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=3, max_length=300, description="Why you need live video; the owner sees it.")
    case_number: str | None = Field(None, max_length=64)
    profile: Literal["full", "tile"] = Field(
        "full", description="full: up to 1280 wide at the camera's rate; tile: a small picture for a video "
                            "wall (640 wide, ~12 fps, ~600 kbit/s)")


class LiveOut(BaseModel):
    id: str
    camera_id: str
    playlist_url: str
    status_url: str


class LiveStatusOut(BaseModel):
    id: str
    camera_id: str
    camera_name: str | None = None
    state: str = Field(description="starting (the box was asked), live (video arriving) or ended")
    purpose: str
    case_number: str | None
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    confirmed_by_box: bool
    segments: int


class ClipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=3, max_length=300)
    case_number: str = Field(min_length=2, max_length=64)
    start: AwareDatetime
    end: AwareDatetime


class ClipOut(BaseModel):
    id: str
    camera_id: str
    camera_name: str
    case_number: str
    purpose: str
    start: datetime
    end: datetime
    status: str = Field(description="requested, ready, refused or failed")
    reason: str | None
    sha256: str | None
    size_bytes: int | None
    requested_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, r) -> ClipOut:
        return cls(id=r.id, camera_id=r.camera_id, camera_name=r.camera_name, case_number=r.case_number,
                   purpose=r.purpose, start=r.start_at, end=r.end_at, status=r.status, reason=r.reason,
                   sha256=r.sha256, size_bytes=r.size_bytes, requested_at=r.requested_at,
                   completed_at=r.completed_at)
