"""Per-audience words for a notice: police units get all of it; the public, vendors and partners get a
PublicNotice, a type whose fields cannot carry a plate, an image, a name, a phone, an email or an exact address.

Webhook, MQTT and WebSocket subscribers get the same content as a Frigate-style envelope document
`{type: new|update|end, before, after}`; public emails carry RFC 8058 one-click unsubscribe headers."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from urllib.parse import urlsplit

from openrtcc.domain.dissemination import (
    Audience,
    ChannelKind,
    Notice,
    NoticeKind,
    OutboundMessage,
    Subscriber,
)
from openrtcc.domain.public_links import unsubscribe_token

AREA_STEP_DEG = 0.005  # public locations are rounded to about 500 m
SMS_MAX = 320
DEFAULT_TOPIC_PREFIX = "rtcc"
_ADVICE = {
    "burglary": "Lock doors and windows, and report anything suspicious.",
    "robbery": "Avoid the area if you can, and report what you saw.",
    "shooting": "Stay indoors and away from windows; follow officers' directions.",
    "shots_fired": "Stay indoors and away from windows; follow officers' directions.",
    "gunshot": "Stay indoors and away from windows; follow officers' directions.",
    "fire": "Keep clear of the area so that crews can work.",
    "hazard": "Keep clear of the area and follow officers' directions.",
    "traffic": "Expect delays; use another route if you can.",
    "missing_person": "If you have information, call the non-emergency line.",
    "suspicious_activity": "Report anything unusual; do not approach.",
}
_DEFAULT_ADVICE = "Follow officers' directions. In an emergency, call 911."
_HEADLINE = {"new": "reported", "update": "update", "end": "cleared"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_PLATE_LIKE = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{5,8}\b")
_STREET_ADDRESS = re.compile(r"\b(\d{1,6})[A-Za-z]?\s+((?:[A-Z][\w'-]*\s+){1,4}(?:St|Street|Rd|Road|Ave|Avenue|"
                             r"Blvd|Boulevard|Dr|Drive|Ln|Lane|Ct|Court|Way|Pl|Place|Hwy|Highway|Pkwy|Ter|Cir)\b\.?)")
_HOUSE_NUMBER = re.compile(r"^\s*(\d+)[A-Za-z]?\s+(.+)$")
_CATEGORY = re.compile(r"[^a-z0-9_ -]")


@dataclass(frozen=True, slots=True)
class PublicNotice:
    """All that a public, vendor or partner message is built from: a category, a general area, a time, fixed
    advice, and an operator's public text with contact details and plate-like tokens struck out."""

    ref: str | None  # the incident or bulletin id, for receivers to join new, update and end
    kind: str  # incident | bulletin
    change: str  # new | update | end
    category: str
    priority: int
    area: str  # "the 100 block of Main St" or "near 43.000, -87.920": never a house
    lat: float | None  # rounded to AREA_STEP_DEG
    lon: float | None
    occurred_at: str
    headline: str
    advice: str
    message: str | None = None

    def document(self) -> dict:
        return asdict(self)


def scrub(text: str) -> str:
    """Strike emails, phone numbers and plate-like tokens out of free text meant for the public, and turn street
    addresses into blocks. Names cannot be recognised: an operator's public text is shown to them in the
    bulletin composer's preview exactly as it will go out."""
    text = _EMAIL.sub("[removed]", text)
    text = _PHONE.sub("[removed]", text)
    text = _STREET_ADDRESS.sub(lambda m: f"the {int(m.group(1)) // 100 * 100} block of {m.group(2)}", text)
    return _PLATE_LIKE.sub("[removed]", text)


def general_area(address: str | None, lat: float | None, lon: float | None) -> str:
    """A block, a street or a rounded place, never a house number."""
    street = (address or "").split(",")[0].strip()
    m = _HOUSE_NUMBER.match(street)
    if m:
        return f"the {int(m.group(1)) // 100 * 100} block of {scrub(m.group(2))[:80]}"
    if street and not any(ch.isdigit() for ch in street):
        return scrub(street)[:80]
    if lat is None or lon is None:
        return "the agency's area"
    rlat, rlon = _round(lat), _round(lon)
    return f"near {rlat:.3f}, {rlon:.3f}"


def _round(v: float) -> float:
    return round(round(v / AREA_STEP_DEG) * AREA_STEP_DEG, 3)


def category_label(category: str) -> str:
    clean = _CATEGORY.sub("", category.lower())[:40].strip()
    return clean.replace("_", " ").capitalize() or "Incident"


def public_notice(notice: Notice, state: dict | None = None) -> PublicNotice:
    """The public view of a notice, or of its previous state (`state`: Notice fields as a dict)."""
    src = state if state is not None else {"category": notice.category, "priority": notice.priority,
                                           "lat": notice.lat, "lon": notice.lon, "police": notice.police}
    category = str(src.get("category") or notice.category)
    lat, lon = src.get("lat"), src.get("lon")
    police = src.get("police") or {}
    message = scrub(notice.body)[:2000] if notice.kind is NoticeKind.BULLETIN and notice.body else None
    headline = (scrub(notice.title)[:120] if notice.kind is NoticeKind.BULLETIN
                else f"{category_label(category)} {_HEADLINE.get(notice.change, 'update')}")
    return PublicNotice(
        ref=notice.source_id, kind=notice.kind.value, change=notice.change, category=category_label(category),
        priority=int(src.get("priority") or notice.priority), area=general_area(police.get("address"), lat, lon),
        lat=_round(lat) if lat is not None else None, lon=_round(lon) if lon is not None else None,
        occurred_at=notice.occurred_at.isoformat(), headline=headline,
        advice=_ADVICE.get(category.lower(), _DEFAULT_ADVICE), message=message)


def police_document(notice: Notice, base_url: str, state: dict | None = None) -> dict:
    src = state if state is not None else {"category": notice.category, "priority": notice.priority,
                                           "lat": notice.lat, "lon": notice.lon, "title": notice.title,
                                           "body": notice.body, "police": notice.police}
    doc = {"ref": notice.source_id, "kind": notice.kind.value, "change": notice.change,
           "category": src.get("category"), "priority": src.get("priority"), "title": src.get("title"),
           "body": src.get("body"), "lat": src.get("lat"), "lon": src.get("lon"),
           "occurred_at": notice.occurred_at.isoformat(), **(src.get("police") or {})}
    for key in ("link", "crop_url"):
        if isinstance(doc.get(key), str) and doc[key].startswith("/"):
            doc[key] = base_url + doc[key]
    return doc


def envelope(notice: Notice, audience: Audience, base_url: str) -> dict:
    """Frigate-style `{type, before, after}`: `before` is the previous state (updates and ends only)."""
    if audience is Audience.POLICE_UNIT:
        after = police_document(notice, base_url)
        before = police_document(notice, base_url, notice.before) if notice.before else None
    else:
        after = public_notice(notice).document()
        before = public_notice(notice, notice.before).document() if notice.before else None
    return {"type": notice.change, "before": before, "after": after}


@dataclass(frozen=True, slots=True)
class LinkKeys:
    """What links in messages are made with: the hub's address and its secret key (unsubscribe tokens)."""

    base_url: str
    secret_key: bytes


def render(notice: Notice, subscriber: Subscriber, delivery_id: int, links: LinkKeys,
           cache: dict | None = None) -> OutboundMessage:
    """One delivery as its channel sends it, in its audience's words. `cache` (one dict per batch) keeps each
    notice's words per audience, so a notice going to thousands is worded twice, not thousands of times; the
    messages then share one document, which senders only read."""
    if notice.kind is NoticeKind.CONFIRMATION:
        return _direct(notice, subscriber, delivery_id)
    police = subscriber.audience is Audience.POLICE_UNIT
    words = cache.get((notice.id, police)) if cache is not None else None
    if words is None:
        words = (*(_police_words(notice, links.base_url) if police else _public_words(public_notice(notice))),
                 envelope(notice, subscriber.audience, links.base_url))
        if cache is not None:
            cache[(notice.id, police)] = words
    subject, text, doc = words
    headers: dict = {}
    if subscriber.audience is Audience.PUBLIC and subscriber.channel in (ChannelKind.EMAIL, ChannelKind.SMS,
                                                                         ChannelKind.PUSH):
        page, one_click = unsubscribe_urls(links, subscriber.id)
        text = f"{text}\n\nStop these alerts: {page}"
        if subscriber.channel is ChannelKind.EMAIL:
            headers = {"List-Unsubscribe": f"<{one_click}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    if subscriber.channel is ChannelKind.SMS:
        text = text if len(text) <= SMS_MAX else text[:SMS_MAX - 1] + "…"
    return OutboundMessage(delivery_id, subscriber.channel, _address(subscriber), subject, text, doc,
                           secret=subscriber.secret if subscriber.channel is ChannelKind.WEBHOOK else None,
                           headers=headers, topic=mqtt_topic(subscriber))


def _address(subscriber: Subscriber) -> str:
    """Where the channel sends it: a WebSocket subscriber's screens are found by its id."""
    return subscriber.id if subscriber.channel is ChannelKind.WEBSOCKET else subscriber.address


def unsubscribe_urls(links: LinkKeys, subscriber_id: str) -> tuple[str, str]:
    """The page a person clicks, and the RFC 8058 one-click endpoint a mail client posts to."""
    query = f"s={subscriber_id}&t={unsubscribe_token(links.secret_key, subscriber_id)}"
    return f"{links.base_url}/unsubscribe?{query}", f"{links.base_url}/api/public/unsubscribe?{query}"


def mqtt_topic(subscriber: Subscriber) -> str | None:
    """`<prefix>/events`, the prefix being the path of the subscriber's mqtt:// URL (default `rtcc`)."""
    if subscriber.channel is not ChannelKind.MQTT:
        return None
    prefix = urlsplit(subscriber.address).path.strip("/") or DEFAULT_TOPIC_PREFIX
    return f"{prefix}/events"


def _direct(notice: Notice, subscriber: Subscriber, delivery_id: int) -> OutboundMessage:
    text = notice.body or ""
    doc = {"type": "confirmation", "subject": notice.title, "text": text}
    return OutboundMessage(delivery_id, subscriber.channel, _address(subscriber), notice.title, text, doc,
                           secret=subscriber.secret if subscriber.channel is ChannelKind.WEBHOOK else None,
                           topic=mqtt_topic(subscriber))


def _police_words(notice: Notice, base_url: str) -> tuple[str, str]:
    doc = police_document(notice, base_url)
    if notice.kind is NoticeKind.ALERT:
        plate = f"{doc.get('plate', '')} ({doc.get('state') or 'any state'})"
        subject = f"Hot-list hit: {plate} on {doc.get('list_name') or 'a hot list'}"
        lines = [subject, f"Match: {doc.get('match_kind')}, confidence {doc.get('confidence')}",
                 f"Camera: {doc.get('camera_id') or 'unknown'} at {_place(doc)}",
                 f"Seen: {notice.occurred_at:%Y-%m-%d %H:%M:%S} UTC", f"Record: {doc.get('reason') or '-'}",
                 f"Open: {doc.get('link')}"]
    else:
        word = {"new": "New", "update": "Update", "end": "Closed"}.get(notice.change, "Update")
        subject = f"{word} {notice.kind.value}: {notice.title} (P{notice.priority})"
        lines = [subject, f"Category: {notice.category}", f"Where: {doc.get('address') or _place(doc)}",
                 f"When: {notice.occurred_at:%Y-%m-%d %H:%M:%S} UTC"]
        if notice.body:
            lines.append(notice.body)
        if doc.get("link"):
            lines.append(f"Open: {doc['link']}")
    return subject[:200], "\n".join(lines)


def _place(doc: dict) -> str:
    lat, lon = doc.get("lat"), doc.get("lon")
    return f"{lat:.5f}, {lon:.5f}" if isinstance(lat, float) and isinstance(lon, float) else "unknown place"


def _public_words(p: PublicNotice) -> tuple[str, str]:
    when = datetime.fromisoformat(p.occurred_at)
    subject = f"{p.headline}: {p.area}"[:200]
    lines = [subject, f"Time: {when:%Y-%m-%d %H:%M} UTC"]
    if p.message:
        lines.append(p.message)
    lines.append(p.advice)
    return subject, "\n".join(lines)
