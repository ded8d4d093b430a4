"""Public alert sign-up: double opt-in through the subscriber's own channel, confirmation, one-click unsubscribe.

Every answer to a sign-up is the same whether or not the address is already known, so the form cannot be
used to learn who has signed up. Links are signed (domain.public_links), never stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.dissemination import ChannelKind
from openrtcc.domain.errors import Gone, InvalidInput, NotFound
from openrtcc.domain.geo import area_from_geojson
from openrtcc.domain.public_forms import (
    CONFIRM_TTL,
    MAX_RADIUS_M,
    MAX_TIP_CHARS,
    MIN_RADIUS_M,
    PUBLIC_CATEGORIES,
    PUBLIC_CHANNELS,
    RESEND_GAP,
    TIP_MEDIA_TYPES,
    BadLink,
    address_hint,
    check_categories,
    circle_geofence,
    client_hash,
    normalise_address,
    retry_after_s,
)
from openrtcc.domain.public_links import confirm_token, unsubscribe_token, verify_confirm_token, verify_unsubscribe_token
from openrtcc.services import dissemination, tips
from openrtcc.services.hub import Hub
from openrtcc.services.public_forms_guard import LINK_BUCKET, check_rate, count_request, limits, refuse, source

SIGNUP_BUCKET = "signup"
MESSAGE_BUCKET = "signup_message"  # per subscriber: confirmation messages sent
ANSWER = ("Thank you. If this address can receive alerts, a message to confirm the sign-up is on its way; "
          "open its link within 24 hours. Nothing is sent until you confirm.")
PENDING_ERASED_AFTER = timedelta(days=7)  # an unconfirmed sign-up's address is erased a week after its link expired
_EPOCH = datetime(1970, 1, 2, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SignupForm:
    agency_id: str
    channel: str
    address: str
    categories: list[str]
    lat: float | None = None  # a circle's centre; None: the whole jurisdiction
    lon: float | None = None
    radius_m: float | None = None


@dataclass(frozen=True, slots=True)
class LinkView:
    """What a confirmation or unsubscribe page may show: never the whole address."""

    agency_name: str
    channel: str
    address_hint: str | None
    status: str


def offered_channels(hub: Hub) -> list[str]:
    """The public channels this deployment can send on (an unset SMTP relay or SMS URL turns one off)."""
    on = limits(hub).channels
    return [c.value for c in PUBLIC_CHANNELS if c.value in on]


def options(hub: Hub, client: str | None) -> dict:
    """What the sign-up page offers: the agencies' programs and areas, channels, categories, radius bounds."""
    lim = limits(hub)
    with hub.uow() as uow:
        programs = [{"agency_id": a.id, "name": a.name, "jurisdiction": a.jurisdiction}
                    for a in uow.accounts.agencies()]
        uow.record(AuditEntry("public.options", "success", None, None, None, source(hub, client), {}))
        uow.commit()
    return {"programs": programs, "channels": offered_channels(hub),
            "categories": [{"id": k, "label": v} for k, v in PUBLIC_CATEGORIES.items()],
            "confirm_hours": int(CONFIRM_TTL.total_seconds() // 3600),
            "min_radius_m": MIN_RADIUS_M, "max_radius_m": MAX_RADIUS_M, "tip_max_bytes": lim.tip_max_bytes,
            "tip_max_chars": MAX_TIP_CHARS, "tip_media_types": list(TIP_MEDIA_TYPES)}


def sign_up(hub: Hub, form: SignupForm, client: str | None) -> str:
    """Store a pending subscription and send its confirmation; the answer is the same for every address."""
    lim = limits(hub)
    channel = _channel(hub, form.channel)
    address = normalise_address(channel, form.address)
    sender_check = hub.extras.get("address_check")  # the channel sender's own rule, so what we store it can send
    if sender_check is not None:
        address = sender_check(channel, address)
    categories = check_categories(form.categories)
    with hub.uow() as uow:
        agency = uow.accounts.agency(form.agency_id)
        if agency is None:
            raise NotFound("no such program: choose one from the list", code="no_such_program")
        geofence = None
        if form.lat is not None or form.lon is not None or form.radius_m is not None:
            if form.lat is None or form.lon is None or form.radius_m is None:
                raise InvalidInput("a circle needs a centre and a radius", code="bad_area")
            geofence = circle_geofence(form.lat, form.lon, form.radius_m, area_from_geojson(agency.jurisdiction))
        count_request(hub, uow, SIGNUP_BUCKET, client, lim.signups_per_hour, "sign-ups")
        sid, outcome = _record_signup(hub, uow, agency, channel, address, categories, geofence)
        uow.record(AuditEntry("public.signup", "success", None, agency.id, f"subscriber:{sid}", source(hub, client),
                              {"channel": channel.value, "outcome": outcome, "categories": len(categories),
                               "area": "circle" if geofence else "jurisdiction"}))
        uow.commit()
    return ANSWER


def _channel(hub: Hub, raw: str) -> ChannelKind:
    try:
        channel = ChannelKind(raw)
    except ValueError:
        raise InvalidInput("sign up by email, SMS or push", code="bad_channel") from None
    if channel not in PUBLIC_CHANNELS:
        raise InvalidInput("sign up by email, SMS or push", code="bad_channel")
    if channel.value not in offered_channels(hub):
        raise InvalidInput(f"this deployment does not send alerts by {channel.value}", code="channel_off")
    return channel


def _record_signup(hub: Hub, uow, agency, channel: ChannelKind, address: str, categories: list[str],
                   geofence: dict | None) -> tuple[str, str]:
    """(subscriber id, what happened): new, renewed (pending or unsubscribed again), already_active, disabled."""
    repo = uow.public_subscribers
    now = hub.clock.now()
    row = repo.find(agency.id, channel.value, address)
    if row is not None and row.status == "disabled":
        return row.id, "disabled"  # an administrator stopped it: nothing is sent, and the answer says nothing
    if row is not None and row.status == "active":
        # Choices of an active subscription are not changed by an anonymous form; its owner hears of the attempt.
        if _may_message(hub, uow, row.id, now):
            dissemination.send_direct(hub, uow, row.id, *_already_message(hub, agency.name, channel, row.id))
        return row.id, "already_active"
    keep = row is not None and row.confirm_expires_at is not None and _aware(row.confirm_expires_at) > now
    expires = _aware(row.confirm_expires_at) if keep else _whole_second(now + CONFIRM_TTL)
    sid = row.id if row is not None else hub.ids.new_id()
    token = confirm_token(hub.secret_key, sid, expires)  # the same link again while the first one is valid
    if row is None:
        repo.add_pending(id=sid, agency_id=agency.id, channel=channel.value, address=address, categories=categories,
                         geofence=geofence, confirm_hash=_hash(token), confirm_expires_at=expires, at=now)
    else:
        repo.renew_pending(sid, categories=categories, geofence=geofence, confirm_hash=_hash(token),
                           confirm_expires_at=expires)
    if _may_message(hub, uow, sid, now):
        dissemination.send_direct(hub, uow, sid, *_confirm_message(hub, agency.name, channel, sid, token))
    return sid, "new" if row is None else "renewed"


def _may_message(hub: Hub, uow, subscriber_id: str, now: datetime) -> bool:
    """At most one sign-up message per subscriber per RESEND_GAP, whichever client asks."""
    key = client_hash(hub.secret_key, f"subscriber:{subscriber_id}")
    if retry_after_s(uow.tips.hits(MESSAGE_BUCKET, key, now - RESEND_GAP), 1, now, RESEND_GAP) is not None:
        return False
    uow.tips.add_hit(MESSAGE_BUCKET, key, now)
    return True


def confirm_link(hub: Hub, subscriber_id: str, token: str) -> str:
    return f"{hub.base_url}/subscribe/confirm?s={subscriber_id}&t={token}"


def unsubscribe_link(hub: Hub, subscriber_id: str) -> str:
    return f"{hub.base_url}/unsubscribe?s={subscriber_id}&t={unsubscribe_token(hub.secret_key, subscriber_id)}"


def _confirm_message(hub: Hub, agency_name: str, channel: ChannelKind, sid: str, token: str) -> tuple[str, str]:
    link = confirm_link(hub, sid, token)
    if channel is not ChannelKind.EMAIL:
        return (f"Confirm {agency_name} alerts",
                f"{agency_name} alerts: confirm your sign-up within 24 h: {link} Not you? Ignore this message.")
    return (f"Confirm your sign-up for {agency_name} alerts",
            f"Someone, we hope you, asked {hub.deployment_name} to send public-safety alerts from {agency_name} "
            f"to this address.\n\nTo confirm, open this link within 24 hours:\n{link}\n\n"
            "If you did not ask for this, ignore this message: nothing more will be sent, and the address is "
            "erased a week after the link expires.\n\nAlerts never carry licence plates, images or anyone's "
            "personal details.")


def _already_message(hub: Hub, agency_name: str, channel: ChannelKind, sid: str) -> tuple[str, str]:
    link = unsubscribe_link(hub, sid)
    return (f"You already receive {agency_name} alerts",
            f"Someone asked to sign this address up for {agency_name} alerts, and it already receives them. "
            f"Nothing was changed. To change your area or categories, unsubscribe and sign up again: {link}")


def confirm(hub: Hub, subscriber_id: str, token: str, client: str | None) -> LinkView:
    """Activate a pending subscription from its emailed (or texted) link; forged and stale links are refused."""
    lim = limits(hub)
    check_rate(hub, LINK_BUCKET, client, lim.link_checks_per_hour, "link checks")
    now = hub.clock.now()
    if not verify_confirm_token(hub.secret_key, subscriber_id, token, now):
        expired = verify_confirm_token(hub.secret_key, subscriber_id, token, _EPOCH)
        refuse(hub, "public.confirm", f"subscriber:{subscriber_id}"[:200], client, None,
               reason="expired" if expired else "bad_signature")
        if expired:
            raise Gone("this link has expired (links work for 24 hours): sign up again for a new one",
                       code="link_expired")
        raise _bad_link()
    with hub.uow() as uow:
        row = uow.public_subscribers.get(subscriber_id)
        if row is not None and row.status == "active":
            uow.record(AuditEntry("public.confirm", "success", None, row.agency_id, f"subscriber:{row.id}",
                                  source(hub, client), {"outcome": "already_active"}))
            uow.commit()
            return _view(row, "active")
        if row is None or row.status != "pending" or row.confirm_hash != _hash(token):
            uow.rollback()
            refuse(hub, "public.confirm", f"subscriber:{subscriber_id}", client, row.agency_id if row else None,
                   reason="superseded")
            raise Gone("this link is no longer valid: a newer one was sent, or the sign-up was withdrawn",
                       code="link_superseded")
        uow.public_subscribers.activate(row.id, now)
        uow.record(AuditEntry("public.confirm", "success", None, row.agency_id, f"subscriber:{row.id}",
                              source(hub, client), {"channel": row.channel}))
        uow.commit()
    dissemination.subscribers_changed(hub)
    return _view(row, "active")


def unsubscribe_view(hub: Hub, subscriber_id: str, token: str, client: str | None) -> LinkView:
    """What the unsubscribe page shows before its button is pressed (the link itself changes nothing)."""
    row = _checked_unsubscribe(hub, subscriber_id, token, client)
    return _view(row, row.status)


def unsubscribe(hub: Hub, subscriber_id: str, token: str, client: str | None, via: str) -> LinkView:
    """Stop every message to this subscriber at once and erase its address; doing it twice is harmless."""
    row = _checked_unsubscribe(hub, subscriber_id, token, client)
    with hub.uow() as uow:
        done = uow.public_subscribers.unsubscribe(row.id, hub.clock.now())
        uow.record(AuditEntry("public.unsubscribe", "success", None, row.agency_id, f"subscriber:{row.id}",
                              source(hub, client), {"via": via, "outcome": "unsubscribed" if done else "already"}))
        uow.commit()
    dissemination.subscribers_changed(hub)
    return LinkView(row.agency_name, row.channel, None, "unsubscribed")


def _checked_unsubscribe(hub: Hub, subscriber_id: str, token: str, client: str | None):
    lim = limits(hub)
    check_rate(hub, LINK_BUCKET, client, lim.link_checks_per_hour, "link checks")
    if not verify_unsubscribe_token(hub.secret_key, subscriber_id, token):
        refuse(hub, "public.unsubscribe", f"subscriber:{subscriber_id}"[:200], client, None, reason="bad_signature")
        raise _bad_link()
    with hub.uow() as uow:
        row = uow.public_subscribers.get(subscriber_id)
        uow.rollback()
    if row is None:
        raise Gone("this subscription no longer exists: nothing will be sent to you", code="subscription_gone")
    return row


def _view(row, status: str) -> LinkView:
    hint = address_hint(row.channel, row.address) if row.address and status != "unsubscribed" else None
    return LinkView(row.agency_name, row.channel, hint, status)


def _bad_link() -> BadLink:
    return BadLink("this link is not valid: it was altered or cut short. Open the link exactly as it was sent to "
                   "you, or copy the whole of it into the address bar", code="bad_link")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _whole_second(t: datetime) -> datetime:
    return t.replace(microsecond=0)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def keep_public_forms(hub: Hub) -> None:
    """Periodic upkeep: rate-limit counts older than every window are deleted, sign-ups left unconfirmed a
    week after their link expired lose their address, tips past their keeping time are deleted."""
    while tips.forget_old_tips(hub):
        pass
    now = hub.clock.now()
    with hub.uow() as uow:
        forgotten = uow.tips.forget_hits(now - timedelta(hours=2))
        lapsed = uow.public_subscribers.lapse_unconfirmed(now - PENDING_ERASED_AFTER, now)
        if not lapsed:
            uow.commit_bookkeeping()
            return
        uow.record(AuditEntry("public.signup_lapse", "success", None, None, None, None,
                              {"lapsed": lapsed, "rate_counts_deleted": forgotten}))
        uow.commit()
    dissemination.subscribers_changed(hub)
