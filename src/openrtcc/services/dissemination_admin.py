"""The agency's dissemination admin: subscribers it manages (police units, vendors, partners), the public
ones it may only see masked, bulletins, the delivery log and the dead letters. Every change is audited."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from openrtcc.domain.accounts import Permission
from openrtcc.domain.dissemination import (
    Audience,
    ChannelKind,
    DeliveryStatus,
    Notice,
    Subscriber,
    SubscriberStatus,
)
from openrtcc.domain.errors import InvalidInput, NotFound
from openrtcc.domain.notice_templates import LinkKeys, render
from openrtcc.domain.subscriber_index import SubscriberIndex, geofence_document, parse_geofence
from openrtcc.services import dissemination
from openrtcc.services.dissemination import BulletinDraft, bulletin_notice, notice_row
from openrtcc.services.dissemination_worker import Pending
from openrtcc.services.hub import Actor, Hub

MANAGED = frozenset({Audience.POLICE_UNIT, Audience.PRIVATE_SECURITY, Audience.PARTNER_BUSINESS})
MAX_CATEGORIES = 30
MAX_LIST = 500
_CATEGORY = re.compile(r"^[a-z0-9_]{1,40}$")


@dataclass(frozen=True, slots=True)
class SubscriberDraft:
    audience: str
    channel: str
    name: str
    address: str = ""
    categories: tuple[str, ...] = ()
    geofence: dict | None = None


def _enum(kind, value: str, code: str):
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{code.split('_', 1)[1]} must be one of {', '.join(k.value for k in kind)}",
                           code=code) from None


def check_categories(categories) -> list[str]:
    cats = sorted(set(categories))
    if len(cats) > MAX_CATEGORIES or not all(isinstance(c, str) and _CATEGORY.match(c) for c in cats):
        raise InvalidInput(f"categories: at most {MAX_CATEGORIES} names of a-z, 0-9 and _", code="bad_categories")
    return cats


def check_address(hub: Hub, channel: ChannelKind, address: str) -> str:
    """A channel's address as it will be used, refused with a clear reason when it cannot be one or when it
    reaches inside the network (webhook and broker URLs: SSRF); the check is the channel adapters' own."""
    if channel is ChannelKind.WEBSOCKET:
        if (address or "").strip():
            raise InvalidInput("a websocket subscriber has no address: its screen connects to /ws/notices",
                               code="bad_address")
        return ""
    return hub.extras["address_check"](channel, address)


def _new_secret(channel: ChannelKind) -> tuple[str | None, str | None]:
    """(stored, shown once): a webhook keeps its signing secret; a websocket keeps only its token's hash."""
    if channel is ChannelKind.WEBHOOK:
        s = secrets.token_urlsafe(32)
        return s, s
    if channel is ChannelKind.WEBSOCKET:
        token = secrets.token_urlsafe(32)
        return hashlib.sha256(token.encode()).hexdigest(), token
    return None, None


def create_subscriber(hub: Hub, actor: Actor, d: SubscriberDraft) -> tuple[Subscriber, str | None]:
    """A police unit, vendor or partner; returns it with its secret (shown this once) for webhooks/sockets."""
    actor.require(Permission.MANAGE_DISSEMINATION)
    audience = _enum(Audience, d.audience, "bad_audience")
    if audience not in MANAGED:
        raise InvalidInput("public subscribers sign up themselves (double opt-in at /subscribe)",
                           code="bad_audience")
    channel = _enum(ChannelKind, d.channel, "bad_channel")
    name = (d.name or "").strip()
    if not 0 < len(name) <= 120:
        raise InvalidInput("a name of 1 to 120 characters", code="bad_name")
    address = check_address(hub, channel, d.address)
    fence = geofence_document(parse_geofence(d.geofence))
    cats = check_categories(d.categories)
    stored, shown = _new_secret(channel)
    with hub.uow() as uow:
        now, sid = hub.clock.now(), hub.ids.new_id()
        uow.dissemination.add_subscriber(dict(
            id=sid, agency_id=actor.agency_id, audience=audience.value, channel=channel.value, address=address,
            name=name, categories=cats, geofence=fence, secret=stored, status=SubscriberStatus.ACTIVE.value,
            created_by=actor.user_id, created_at=now, confirmed_at=now))
        uow.record(actor.entry("dissemination.subscriber.create", f"subscriber:{sid}", audience=audience.value,
                               channel=channel.value))
        sub = uow.dissemination.get_subscriber(actor.agency_id, sid)
        uow.commit()
    dissemination.subscribers_changed(hub)
    return sub, shown


def _own(uow, actor: Actor, subscriber_id: str) -> Subscriber:
    sub = uow.dissemination.get_subscriber(actor.agency_id, subscriber_id)
    if sub is None:
        raise NotFound("no such subscriber in this agency", code="subscriber_not_found")
    return sub


def update_subscriber(hub: Hub, actor: Actor, subscriber_id: str, changes: dict) -> Subscriber:
    """Name, categories, area, or status (active/disabled); a public subscriber's only its status."""
    actor.require(Permission.MANAGE_DISSEMINATION)
    values: dict = {}
    if "status" in changes:
        status = _enum(SubscriberStatus, changes["status"], "bad_status")
        if status not in (SubscriberStatus.ACTIVE, SubscriberStatus.DISABLED):
            raise InvalidInput("status may be set to active or disabled", code="bad_status")
        values["status"] = status.value
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not 0 < len(name) <= 120:
            raise InvalidInput("a name of 1 to 120 characters", code="bad_name")
        values["name"] = name
    if "categories" in changes:
        values["categories"] = check_categories(changes["categories"] or [])
    if "geofence" in changes:
        values["geofence"] = geofence_document(parse_geofence(changes["geofence"]))
    with hub.uow() as uow:
        sub = _own(uow, actor, subscriber_id)
        if sub.audience not in MANAGED and set(values) - {"status"}:
            raise InvalidInput("a public subscriber's choices are their own; only its status can be set",
                               code="public_subscriber")
        if sub.audience not in MANAGED and values.get("status") == "active" \
                and sub.status is not SubscriberStatus.DISABLED:
            raise InvalidInput("only a disabled public subscriber can be enabled again", code="bad_status")
        if values:
            uow.dissemination.update_subscriber(actor.agency_id, subscriber_id, values)
        uow.record(actor.entry("dissemination.subscriber.update", f"subscriber:{subscriber_id}",
                               fields=sorted(values)))
        sub = _own(uow, actor, subscriber_id)
        uow.commit()
    dissemination.subscribers_changed(hub)
    return sub


def rotate_secret(hub: Hub, actor: Actor, subscriber_id: str) -> str:
    """A new webhook signing secret or websocket token (shown once); the old one stops working."""
    actor.require(Permission.MANAGE_DISSEMINATION)
    with hub.uow() as uow:
        sub = _own(uow, actor, subscriber_id)
        stored, shown = _new_secret(sub.channel)
        if shown is None:
            raise InvalidInput("only webhook and websocket subscribers have a secret", code="no_secret")
        uow.dissemination.update_subscriber(actor.agency_id, subscriber_id, {"secret": stored})
        uow.record(actor.entry("dissemination.subscriber.rotate_secret", f"subscriber:{subscriber_id}"))
        uow.commit()
    dissemination.subscribers_changed(hub)
    return shown


def list_subscribers(hub: Hub, actor: Actor, audience: str | None, limit: int) -> list[Subscriber]:
    actor.require(Permission.MANAGE_DISSEMINATION)
    if audience:
        _enum(Audience, audience, "bad_audience")
    with hub.uow() as uow:
        subs = uow.dissemination.list_subscribers(actor.agency_id, audience, min(limit, MAX_LIST))
        uow.record(actor.entry("dissemination.subscriber.list", None, audience=audience, count=len(subs)))
        uow.commit()
    return subs


def display_address(sub: Subscriber) -> str:
    """What the admin page shows: a public subscriber's address masked; no credentials or query in URLs."""
    a = sub.address
    if sub.channel in (ChannelKind.WEBHOOK, ChannelKind.MQTT):
        parts = urlsplit(a)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"
    if sub.audience not in MANAGED:
        if sub.channel is ChannelKind.EMAIL and "@" in a:
            local, domain = a.split("@", 1)
            return f"{local[:1]}***@{domain}"
        return f"{a[:2]}{'*' * max(0, len(a) - 6)}{a[-4:]}" if len(a) > 6 else "***"
    return a


# --- bulletins ---
def preview_bulletin(hub: Hub, actor: Actor, d: BulletinDraft) -> dict:
    """Per chosen audience: how many subscribers it would reach, and its words (an email, a data document)."""
    n = bulletin_notice(hub, actor, d)
    subs = dissemination.worker(hub).index(fresh=True).matching(n) if "dissemination" in hub.extras else []
    links = LinkKeys(hub.base_url, hub.secret_key)
    out = {}
    for audience in sorted(d.audiences):
        sample = Subscriber("preview", actor.agency_id, audience, ChannelKind.EMAIL, "preview@example.invalid",
                            frozenset(), None, SubscriberStatus.ACTIVE)
        msg = render(n, sample, 0, links)
        out[audience.value] = {"subscribers": sum(1 for s in subs if s.audience is audience),
                               "subject": msg.subject, "text": msg.text, "document": msg.data}
    return out


def post_bulletin(hub: Hub, actor: Actor, d: BulletinDraft) -> tuple[Notice, dict]:
    """Store the bulletin and its deliveries with the operator's audit record, then send them."""
    n = bulletin_notice(hub, actor, d)
    w = dissemination.worker(hub)
    subs = w.index(fresh=True).matching(n)
    with hub.uow() as uow:
        now = hub.clock.now()
        uow.dissemination.add_notices([notice_row(n, None, now, actor.user_id)])
        rows = w.delivery_rows(n, subs, now)
        ids = uow.dissemination.add_deliveries(rows)
        counts = dict(Counter(f"{s.audience.value}/{s.channel.value}" for s in subs))
        suppressed = sum(1 for r in rows if r["status"] == DeliveryStatus.SUPPRESSED.value)
        uow.record(actor.entry("dissemination.bulletin", f"notice:{n.id}", title=n.title[:120], category=n.category,
                               audiences=sorted(a.value for a in d.audiences), deliveries=counts,
                               suppressed=suppressed))
        uow.commit()
    w.send_stored([Pending(i, 0, n, s) for i, s, r in zip(ids, subs, rows, strict=True)
                   if r["status"] == DeliveryStatus.QUEUED.value])
    return n, counts
