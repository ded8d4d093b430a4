"""Dissemination: who hears about what, over which channel, in which words.

The types here are the contract between the dissemination service, the channel senders (adapters) and the
public sign-up; the rules (matching subscribers, audience templates, retries, rate limits) live beside them in
the domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Audience(StrEnum):
    POLICE_UNIT = "police_unit"  # sworn units and staff: the full alert, plate and all
    PUBLIC = "public"  # residents who signed up: never a plate, an image or personal data
    PRIVATE_SECURITY = "private_security"  # vendors in the network: no plate, image or personal data either
    PARTNER_BUSINESS = "partner_business"  # businesses in the network: likewise


class ChannelKind(StrEnum):
    EMAIL = "email"  # SMTP
    SMS = "sms"  # apprise (Twilio among others)
    PUSH = "push"  # apprise (ntfy, Gotify, ...)
    WEBHOOK = "webhook"  # HTTP POST signed with HMAC-SHA256
    MQTT = "mqtt"  # Frigate-style envelopes {type, before, after} under a topic prefix
    WEBSOCKET = "websocket"  # /ws/notices, for a subscriber's own screen


class SubscriberStatus(StrEnum):
    PENDING = "pending"  # signed up, not yet confirmed (double opt-in)
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    DISABLED = "disabled"  # by an administrator, or after its deliveries kept failing


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"  # handed to the channel: the relay, broker or receiver accepted it
    FAILED = "failed"  # will be retried at next_at
    DEAD = "dead"  # out of attempts, or refused for good: the dead-letter list
    SUPPRESSED = "suppressed"  # over the subscriber's or channel's rate limit: not sent, logged
    DISCARDED = "discarded"  # a dead letter an administrator chose not to send again (audited)


class NoticeKind(StrEnum):
    ALERT = "alert"  # a plate hit (police units only)
    INCIDENT = "incident"
    BULLETIN = "bulletin"  # written by an operator for chosen audiences
    CONFIRMATION = "confirmation"  # a sign-up's double opt-in message, to one subscriber


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: str
    agency_id: str
    audience: Audience
    channel: ChannelKind
    address: str  # email, E.164 phone, push target, webhook URL, mqtt:// URL, or "" for websocket
    categories: frozenset[str]  # empty: every category
    geofence: dict | None  # GeoJSON Polygon, or {"type": "Circle", "center": [lon, lat], "radius_m": r}; None: anywhere
    status: SubscriberStatus
    name: str | None = None
    secret: str | None = None  # webhook signing secret, websocket token hash
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to disseminate, before any audience's template has been applied to it."""

    id: str
    agency_id: str
    kind: NoticeKind
    change: str  # new | update | end (MQTT and webhooks carry all three; email, SMS and push only new)
    source_id: str | None  # the alert's or incident's id
    category: str
    priority: int
    lat: float | None
    lon: float | None
    occurred_at: datetime
    title: str
    body: str | None = None  # an operator's bulletin text, or the incident description (police units only)
    police: dict = field(default_factory=dict)  # what only police units may see: plate, list, camera, crop link
    before: dict | None = None  # the previous state, for update and end envelopes
    audiences: frozenset[Audience] | None = None  # a bulletin's chosen audiences; None: by subscription
    radius_m: float = 0.0  # a bulletin's area: the circle of this radius around lat/lon; 0: the point itself


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One delivery as a channel sender gets it: already rendered for its audience."""

    delivery_id: int
    channel: ChannelKind
    address: str
    subject: str
    text: str
    data: dict  # the JSON document for webhook, MQTT and WebSocket channels
    secret: str | None = None  # webhook: the subscriber's signing secret
    headers: dict = field(default_factory=dict)  # email: List-Unsubscribe and List-Unsubscribe-Post
    topic: str | None = None  # MQTT: the topic under the subscriber's prefix


@dataclass(frozen=True, slots=True)
class SendOutcome:
    delivery_id: int
    ok: bool
    error: str | None = None  # short, never the message body or a secret
    retryable: bool = True  # False: refused for good (bad address): straight to the dead-letter list
