"""The public forms' rules: alert sign-up (address, area, categories), tips (text, place, media), rate limits.

Nothing here knows who the client is beyond a keyed hash of its address: the raw IP is never stored."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from openrtcc.domain.dissemination import ChannelKind
from openrtcc.domain.errors import Conflict, DomainError, InvalidInput, RateLimited
from openrtcc.domain.footage import sniff_media_type
from openrtcc.domain.geo import Area, Point, valid_coordinates

CONFIRM_TTL = timedelta(hours=24)
RATE_WINDOW = timedelta(hours=1)
# One confirmation message per subscriber per quarter hour, whoever asks: sign-ups from many addresses
# cannot flood one inbox or phone.
RESEND_GAP = timedelta(minutes=15)
PUBLIC_CHANNELS = (ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.PUSH)
MIN_RADIUS_M = 100.0
MAX_RADIUS_M = 20_000.0
MAX_TIP_CHARS = 4000
EXCERPT_CHARS = 140
MAX_CONTACT_CHARS = 200
MAX_PLACE_CHARS = 200
TIP_KEEP_DAYS = 365  # said on the tip page; tips that became incidents follow the incident's records schedule

# What a public subscriber can choose to hear about: incident categories (the slugs operators, the CAD code map
# and gunshot detection give incidents, with the dissemination templates' advice), never plate alerts.
PUBLIC_CATEGORIES: dict[str, str] = {
    "burglary": "Burglary",
    "robbery": "Robbery",
    "shots_fired": "Shots fired",
    "gunshot": "Gunshots detected",
    "missing_person": "Missing person",
    "suspicious_activity": "Suspicious activity",
    "traffic": "Traffic and road closures",
    "fire": "Fire",
    "hazard": "Hazards",
}

# Tips accept photos and clips only; sniffed from the bytes, never taken from the file name or header.
TIP_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "video/mp4", "video/webm", "video/quicktime")
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_PUSH_TOPIC = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class BadLink(DomainError):
    """A confirmation or unsubscribe link that was altered, cut short or made up."""

    code = "bad_link"


def client_hash(key: bytes, address: str | None) -> str:
    """A keyed hash of the client's address: counts a client's requests without keeping its IP."""
    return hmac.new(key, f"client:{address or 'unknown'}".encode(), hashlib.sha256).hexdigest()


def audit_source(key: bytes, address: str | None) -> str:
    """What the audit trail records as the source of an anonymous request (fits its 64 characters)."""
    return "anon:" + client_hash(key, address)[:32]


def retry_after_s(hits: list[datetime], limit: int, now: datetime, window: timedelta = RATE_WINDOW) -> int | None:
    """None when one more request fits in the window; else the seconds until the oldest hit leaves it."""
    recent = sorted(t for t in hits if t > now - window)
    if len(recent) < limit:
        return None
    return max(1, math.ceil((recent[-limit] + window - now).total_seconds()))


def refuse_over_limit(what: str, wait_s: int) -> RateLimited:
    minutes = max(1, math.ceil(wait_s / 60))
    return RateLimited(f"too many {what} from this connection: try again in {minutes} minute{'s' * (minutes > 1)}",
                       details={"retry_after_s": wait_s})


# --- sign-up ---

def normalise_address(channel: ChannelKind, raw: str) -> str:
    """The address as stored and compared: email lower-cased, phone in E.164, push topic as given."""
    text = (raw or "").strip()
    if channel is ChannelKind.EMAIL:
        if len(text) > 254 or not _EMAIL.match(text):
            raise InvalidInput("enter an email address such as name@example.org", code="bad_address")
        return text.lower()
    if channel is ChannelKind.SMS:
        phone = _PHONE_SEPARATORS.sub("", text)
        if phone.startswith("00"):
            phone = "+" + phone[2:]
        if not _E164.match(phone):
            raise InvalidInput("enter a mobile number with its country code, such as +1 414 555 0100",
                               code="bad_address")
        return phone
    if channel is ChannelKind.PUSH:
        if not _PUSH_TOPIC.match(text):
            raise InvalidInput("a push topic is 8 to 64 letters, digits, - or _ (choose one only you know)",
                               code="bad_address")
        return text
    raise InvalidInput("sign up by email, SMS or push", code="bad_channel")


def address_hint(channel: ChannelKind | str, address: str) -> str:
    """Enough of the address for its owner to recognise it, not enough to learn it (shown on public pages)."""
    if channel == ChannelKind.EMAIL:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if channel == ChannelKind.SMS:
        return f"{address[:2]}*** ***{address[-2:]}"
    return f"{address[:2]}***"


def circle_geofence(lat: float, lon: float, radius_m: float, jurisdiction: Area) -> dict:
    """A subscriber's circle, checked: its centre inside the agency's jurisdiction, a sensible radius."""
    if not valid_coordinates(lat, lon):
        raise InvalidInput("the circle's centre is not a valid position", code="bad_area")
    if not (MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M) or not math.isfinite(radius_m):
        raise InvalidInput(f"the circle's radius must be between {MIN_RADIUS_M:.0f} m and {MAX_RADIUS_M / 1000:.0f} km",
                           code="bad_area")
    if not jurisdiction.contains(Point(lat, lon)):
        raise InvalidInput("the circle's centre is outside the agency's area: pick a place inside it",
                           code="outside_jurisdiction")
    return {"type": "Circle", "center": [round(lon, 6), round(lat, 6)], "radius_m": round(radius_m)}


def check_categories(chosen: list[str]) -> list[str]:
    """Known public categories, each once, in the list's order; empty means every category."""
    unknown = sorted(set(chosen) - PUBLIC_CATEGORIES.keys())
    if unknown:
        raise InvalidInput(f"unknown categor{'ies' if len(unknown) > 1 else 'y'}: {', '.join(unknown)}",
                           code="bad_category")
    return [c for c in PUBLIC_CATEGORIES if c in set(chosen)]


class ConfirmState(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY = "already_confirmed"


# --- tips ---

class TipStatus(StrEnum):
    NEW = "new"
    REVIEWED = "reviewed"  # an operator has read it; it stays in the queue
    PROMOTED = "promoted"  # an incident was opened from it
    DISMISSED = "dismissed"


_TIP_NEXT = {
    TipStatus.NEW: {TipStatus.REVIEWED, TipStatus.PROMOTED, TipStatus.DISMISSED},
    TipStatus.REVIEWED: {TipStatus.PROMOTED, TipStatus.DISMISSED},
    TipStatus.PROMOTED: set(),
    TipStatus.DISMISSED: set(),
}


def next_tip_status(current: TipStatus, wanted: TipStatus) -> TipStatus:
    if wanted not in _TIP_NEXT[current]:
        raise Conflict(f"a {current} tip cannot be marked {wanted}", code="tip_closed")
    return wanted


@dataclass(frozen=True, slots=True)
class TipPlace:
    lat: float | None
    lon: float | None
    text: str | None


def check_tip_text(text: str | None) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInput("say what you saw: the tip's text is empty", code="empty_tip")
    if len(cleaned) > MAX_TIP_CHARS:
        raise InvalidInput(f"a tip has at most {MAX_TIP_CHARS:,} characters (this one has {len(cleaned):,})",
                           code="tip_too_long")
    return cleaned


def check_tip_place(lat: float | None, lon: float | None, text: str | None, jurisdiction: Area) -> TipPlace:
    """Optional: a point inside the jurisdiction, a description of the place, both, or neither."""
    place = (text or "").strip() or None
    if place and len(place) > MAX_PLACE_CHARS:
        raise InvalidInput(f"describe the place in at most {MAX_PLACE_CHARS} characters", code="bad_location")
    if (lat is None) != (lon is None):
        raise InvalidInput("a location needs both latitude and longitude", code="bad_location")
    if lat is not None:
        if not valid_coordinates(lat, lon) or not jurisdiction.contains(Point(lat, lon)):
            raise InvalidInput("the location is outside the agency's area: pick a place inside it, or describe it",
                               code="outside_jurisdiction")
        lat, lon = round(lat, 6), round(lon, 6)
    return TipPlace(lat, lon, place)


def check_contact(contact: str | None) -> str | None:
    cleaned = (contact or "").strip() or None
    if cleaned and len(cleaned) > MAX_CONTACT_CHARS:
        raise InvalidInput(f"contact details have at most {MAX_CONTACT_CHARS} characters", code="bad_contact")
    return cleaned


def sniff_tip_media(head: bytes) -> tuple[str, str]:
    """(media type, extension) of a tip's photo or clip, from its first bytes; anything else is refused."""
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    kind = sniff_media_type(head)
    if kind is None or kind[0] not in TIP_MEDIA_TYPES:
        raise InvalidInput("attach a photo (JPEG, PNG or WebP) or a clip (MP4, WebM or MOV); this file is none of "
                           "those", code="unsupported_media")
    return kind


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class PublicFormLimits:
    """The deployment's settings for the public forms (RTCC_PUBLIC_SIGNUP, RTCC_TIPS_PER_HOUR, ...)."""

    enabled: bool = True
    signups_per_hour: int = 5
    tips_per_hour: int = 5
    tip_max_bytes: int = 25 * 1024 * 1024
    # Confirmation and unsubscribe links tried per client and hour: a wrong link is refused and audited,
    # and one client cannot try links in bulk.
    link_checks_per_hour: int = 30
    channels: tuple[str, ...] = ()  # the public channels this deployment sends on (SMTP, SMS, push configured)


@dataclass(frozen=True, slots=True)
class TipView:
    """A tip as the command center sees it (the contact only in the single-tip view, which is audited)."""

    id: str
    agency_id: str
    created_at: datetime
    text: str
    lat: float | None
    lon: float | None
    location_text: str | None
    contact: str | None
    media_type: str | None
    media_bytes: int | None
    status: TipStatus
    incident_id: str | None
    reviewed_by: str | None
    reviewer_name: str | None
    reviewed_at: datetime | None

    @property
    def has_media(self) -> bool:
        return self.media_type is not None

    @property
    def excerpt(self) -> str:
        return excerpt(self.text)
