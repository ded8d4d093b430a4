"""Request and response models of the public forms and the command center's tip queue."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from openrtcc.domain.public_forms import TipView
from openrtcc.web.schemas import Strict


class SignupIn(Strict):
    agency_id: str = Field(min_length=1, max_length=36)
    channel: str = Field(max_length=16, description="email, sms or push")
    address: str = Field(max_length=500, description="Email address, mobile number (E.164) or push topic.")
    categories: list[str] = Field(default_factory=list, max_length=20, description="Empty: every category.")
    lat: float | None = Field(None, description="Centre of the circle; leave out for the whole jurisdiction.")
    lon: float | None = None
    radius_m: float | None = None


class AnswerOut(BaseModel):
    message: str


class ConfirmIn(Strict):
    s: str = Field(min_length=1, max_length=64, description="The subscriber id from the link.")
    t: str = Field(min_length=1, max_length=80, description="The token from the link.")


class LinkOut(BaseModel):
    agency_name: str
    channel: str
    address_hint: str | None
    status: str


class TipOut(BaseModel):
    """The queue's shape (GET /api/tips), shared with the command-center page."""

    id: str
    created_at: datetime
    excerpt: str
    text: str
    has_media: bool
    media_type: str | None
    media_bytes: int | None
    lat: float | None
    lon: float | None
    location_text: str | None
    status: str
    incident_id: str | None
    reviewed_by: str | None
    reviewer_name: str | None
    reviewed_at: datetime | None

    @classmethod
    def of(cls, t: TipView) -> TipOut:
        return cls(id=t.id, created_at=t.created_at, excerpt=t.excerpt, text=t.text, has_media=t.has_media,
                   media_type=t.media_type, media_bytes=t.media_bytes, lat=t.lat, lon=t.lon,
                   location_text=t.location_text, status=t.status.value, incident_id=t.incident_id,
                   reviewed_by=t.reviewed_by, reviewer_name=t.reviewer_name, reviewed_at=t.reviewed_at)


class TipDetailOut(TipOut):
    contact: str | None  # only in the single-tip view, which is audited

    @classmethod
    def of(cls, t: TipView) -> TipDetailOut:
        return cls(**TipOut.of(t).model_dump(), contact=t.contact)


class DismissIn(Strict):
    note: str | None = Field(None, max_length=500)


class PromoteIn(Strict):
    category: str = Field(min_length=2, max_length=40)
    priority: int = Field(3, ge=1, le=5)
    title: str = Field(min_length=1, max_length=200)
    lat: float | None = Field(None, description="Needed when the tip has no location of its own.")
    lon: float | None = None
    address: str | None = Field(None, max_length=200)


class PromotedOut(BaseModel):
    tip: TipOut
    incident_id: str
    incident_title: str
