"""API models for dissemination: subscribers, bulletins, the delivery log and dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from openrtcc.domain.dissemination import Audience, ChannelKind, Subscriber
from openrtcc.services.dissemination_admin import display_address
from openrtcc.web.schemas import Strict

AudienceName = Literal["police_unit", "public", "private_security", "partner_business"]


class SubscriberIn(Strict):
    audience: Literal["police_unit", "private_security", "partner_business"]
    channel: Literal["email", "sms", "push", "webhook", "mqtt", "websocket"]
    name: str = Field(min_length=1, max_length=120)
    address: str = Field("", max_length=500, description="Email, E.164 phone, push target, http(s) URL, "
                                                          "mqtt://[user:pass@]host:port/prefix, or empty (websocket).")
    categories: list[str] = Field(default_factory=list, max_length=30, description="Empty: every category.")
    geofence: dict | None = Field(None, description='GeoJSON Polygon, or {"type": "Circle", "center": [lon, lat], '
                                                    '"radius_m": r}; null: anywhere.')


class SubscriberPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=120)
    categories: list[str] | None = Field(None, max_length=30)
    geofence: dict | None = None
    status: Literal["active", "disabled"] | None = None


class SubscriberOut(BaseModel):
    id: str
    audience: str
    channel: str
    name: str | None
    address: str = Field(description="Masked for public subscribers; URLs without credentials or query.")
    categories: list[str]
    geofence: dict | None
    status: str
    created_at: datetime | None

    @classmethod
    def of(cls, s: Subscriber) -> SubscriberOut:
        return cls(id=s.id, audience=s.audience.value, channel=s.channel.value, name=s.name,
                   address=display_address(s), categories=sorted(s.categories), geofence=s.geofence,
                   status=s.status.value, created_at=s.created_at)


class SubscriberCreatedOut(SubscriberOut):
    secret: str | None = Field(None, description="Webhook signing secret or websocket token: shown this once.")


class SecretOut(BaseModel):
    secret: str


class BulletinIn(Strict):
    title: str = Field(min_length=1, max_length=120)
    text: str = Field(min_length=1, max_length=2000)
    category: str = Field("bulletin", pattern=r"^[a-z0-9_]{1,40}$")
    audiences: list[AudienceName] = Field(min_length=1, max_length=4)
    lat: float | None = None
    lon: float | None = None
    radius_m: float = Field(0.0, ge=0, le=100_000)
    priority: int = Field(3, ge=1, le=5)


class BulletinOut(BaseModel):
    notice_id: str
    deliveries: dict[str, int] = Field(description="Deliveries by audience/channel.")


class DeliveryOut(BaseModel):
    id: int
    notice_id: str
    kind: str
    change: str
    category: str
    title: str | None
    subscriber_id: str
    subscriber_name: str | None
    audience: str
    channel: str
    address: str
    status: str
    attempts: int
    next_at: datetime | None
    last_error: str | None
    created_at: datetime
    handed_at: datetime | None

    @classmethod
    def of(cls, r) -> DeliveryOut:
        masked = display_address(_AddressOf(r))
        return cls(id=r.id, notice_id=r.notice_id, kind=r.kind, change=r.change, category=r.category,
                   title=(r.document or {}).get("title"), subscriber_id=r.subscriber_id,
                   subscriber_name=r.subscriber_name, audience=r.audience, channel=r.channel, address=masked,
                   status=r.status, attempts=r.attempts, next_at=r.next_at, last_error=r.last_error,
                   created_at=r.created_at, handed_at=r.handed_at)


class _AddressOf:
    """Just enough of a subscriber, from a log row, for display_address."""

    def __init__(self, r):
        self.address, self.audience, self.channel = r.address, Audience(r.audience), ChannelKind(r.channel)


MAX_DELIVERY_ID = 2**31 - 1  # delivery.id is a 32-bit integer: a larger id is no delivery, not a database error


class DeliveryIdsIn(Strict):
    ids: list[Annotated[int, Field(ge=1, le=MAX_DELIVERY_ID)]] = Field(min_length=1, max_length=500)
