"""Sharing between agencies: deny by default; one-to-one grants per kind of data and purpose, with an expiry.

A source agency's administrator grants, lists and revokes; every grant, revocation and access to another
agency's data is audited twice: in the acting agency's trail and in the source agency's."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from openrtcc.domain.accounts import Permission, Role, has_permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.erasures import ErasureKind
from openrtcc.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from openrtcc.domain.governance import DataKind
from openrtcc.domain.search_purposes import PURPOSES
from openrtcc.domain.sharing import GrantDraft, SharingGrant, decide_share, validate_grant
from openrtcc.services import erasures
from openrtcc.services.admin import SLUG_RE
from openrtcc.services.hotlist_index import hotlist_index
from openrtcc.services.hotlists import SYSTEM_PREFIX
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)
DIRECTIONS = ("given", "received")


@dataclass(frozen=True, slots=True)
class GrantRequest:
    to_agency: str  # the recipient's slug
    data_kind: str
    purposes: Sequence[str]
    expires_at: datetime | None
    federal_one_to_one: bool = False
    note: str | None = None


@dataclass(frozen=True, slots=True)
class GrantView:
    grant: SharingGrant
    direction: str  # given | received, seen from the asking agency
    from_agency: tuple[str, str]  # (slug, name)
    to_agency: tuple[str, str]
    status: str  # live | expired | revoked


def user_or_none(actor: Actor) -> str | None:
    """The user id to store in a row, None for a named system actor (the CLI)."""
    return None if actor.user_id.startswith(SYSTEM_PREFIX) else actor.user_id


def mirror_entry(actor: Actor, action: str, agency_id: str, target: str | None, **details) -> AuditEntry:
    """The same action as written in the other agency's trail: the actor is the one who acted."""
    return AuditEntry(action, "success", actor.user_id, agency_id, target, actor.source,
                      {"acting_agency": actor.agency_id, **details})


@contextmanager
def refusals_audited(hub: Hub, actor: Actor, action: str, target: str | None, **details) -> Iterator[None]:
    """Run an action; if it is refused, the refusal gets its own audit record (the action's was rolled back)."""
    try:
        yield
    except DomainError as exc:
        try:
            with hub.uow() as uow:
                uow.record(actor.entry(action, target, outcome="denied", error=exc.code, **details))
                uow.commit()
        except DomainError:
            log.warning("refusal of %s could not be audited", action)
        raise


def create_grant(hub: Hub, actor: Actor, req: GrantRequest) -> GrantView:
    """Let one other agency see one kind of this agency's data for the named purposes, until the expiry."""
    slug = (req.to_agency or "").strip()
    with refusals_audited(hub, actor, "sharing.grant_create", f"agency:{actor.agency_id}",
                          to_agency=slug if SLUG_RE.match(slug) else "(not a slug)",
                          data_kind=req.data_kind if req.data_kind in set(DataKind) else "(unknown)"):
        actor.require(Permission.MANAGE_SHARING)
        now = hub.clock.now()
        with hub.uow() as uow:
            to = uow.accounts.agency_by_slug(slug) if SLUG_RE.match(slug) else None
            if to is None:
                raise NotFound("no agency with that name (slug)", code="unknown_agency")
            draft = GrantDraft(actor.agency_id, to.id, req.data_kind, req.purposes, req.expires_at,
                               req.federal_one_to_one, req.note)
            valid = validate_grant(draft, now, uow.governance.get(to.id).kind,
                                   uow.governance.get(actor.agency_id).prohibited_purposes)
            if any(g.live(now) for g in uow.sharing.grants_between(actor.agency_id, to.id, valid.data_kind)):
                raise Conflict(f"{to.slug} already holds a live grant of {valid.data_kind.value}: revoke it to "
                               "replace it", code="grant_exists")
            grant = SharingGrant(hub.ids.new_id(), actor.agency_id, to.id, valid.data_kind, valid.purposes, now,
                                 valid.expires_at, valid.federal_one_to_one, None, valid.note, user_or_none(actor))
            uow.sharing.add_grant(grant)
            details = _grant_details(grant)
            if grant.data_kind is DataKind.HOT_LISTS:  # a renewal: the recipient's opt-ins now rest on it
                details["opt_ins_renewed"] = uow.sharing.move_subscriptions(actor.agency_id, to.id, grant.id)
            uow.record(actor.entry("sharing.grant_create", f"sharing_grant:{grant.id}", **details))
            uow.record(mirror_entry(actor, "sharing.grant_create", to.id, f"sharing_grant:{grant.id}", **details))
            names = uow.sharing.agency_names({actor.agency_id, to.id})
            _tell_recipient(uow, hub, grant, names, revoked=False)
            uow.commit()
    log.info("sharing grant %s: agency %s to %s, %s", grant.id, actor.agency_id, to.id, grant.data_kind.value)
    _refresh_matching(hub, grant)
    return _view(grant, actor.agency_id, names, now)


def revoke_grant(hub: Hub, actor: Actor, grant_id: str) -> GrantView:
    """End a grant this agency gave, now; the recipient's searches and matching stop using it at once."""
    with refusals_audited(hub, actor, "sharing.grant_revoke", f"sharing_grant:{str(grant_id)[:40]}"):
        actor.require(Permission.MANAGE_SHARING)
        now = hub.clock.now()
        with hub.uow() as uow:
            grant = uow.sharing.grant(actor.agency_id, grant_id, for_update=True)
            if grant is None or grant.from_agency_id != actor.agency_id:
                raise NotFound("no such grant given by your agency")
            if not uow.sharing.revoke(grant.id, user_or_none(actor), now):
                raise Conflict("this grant is already revoked", code="already_revoked")
            details = _grant_details(grant)
            uow.record(actor.entry("sharing.grant_revoke", f"sharing_grant:{grant.id}", **details))
            uow.record(mirror_entry(actor, "sharing.grant_revoke", grant.to_agency_id,
                                    f"sharing_grant:{grant.id}", **details))
            names = uow.sharing.agency_names({grant.from_agency_id, grant.to_agency_id})
            _tell_recipient(uow, hub, grant, names, revoked=True)
            erasures.note(hub, ErasureKind.GRANT_REVOKED, target=grant.id, agency_id=actor.agency_id,
                          by=user_or_none(actor))
            uow.commit()
    _refresh_matching(hub, grant)
    revoked = replace(grant, revoked_at=now, revoked_by=user_or_none(actor))
    return _view(revoked, actor.agency_id, names, now)


def list_grants(hub: Hub, actor: Actor, direction: str | None = None) -> list[GrantView]:
    """The grants this agency gave and received (administrators manage them; auditors read them)."""
    with refusals_audited(hub, actor, "sharing.grant_list", f"agency:{actor.agency_id}"):
        if not has_permission(actor.role, Permission.MANAGE_SHARING):
            actor.require(Permission.READ_AUDIT)
        if direction is not None and direction not in DIRECTIONS:
            raise InvalidInput("direction is given or received", code="bad_direction")
    now = hub.clock.now()
    with hub.uow() as uow:
        grants = uow.sharing.grants_of(actor.agency_id)
        names = uow.sharing.agency_names({a for g in grants for a in (g.from_agency_id, g.to_agency_id)})
        views = [_view(g, actor.agency_id, names, now) for g in grants]
        views = [v for v in views if direction is None or v.direction == direction]
        uow.record(actor.entry("sharing.grant_list", f"agency:{actor.agency_id}", direction=direction,
                               count=len(views)))
        uow.commit()
    return views


def other_agencies(hub: Hub, actor: Actor) -> list[tuple[str, str, str]]:
    """(slug, name, kind) of every other agency: whom a grant may name."""
    with refusals_audited(hub, actor, "sharing.agency_list", f"agency:{actor.agency_id}"):
        actor.require(Permission.MANAGE_SHARING)
    with hub.uow() as uow:
        rows = uow.sharing.other_agencies(actor.agency_id)
        found = [(r.slug, r.name, uow.governance.get(r.id).kind.value) for r in rows]
        uow.record(actor.entry("sharing.agency_list", f"agency:{actor.agency_id}", count=len(found)))
        uow.commit()
    return found


def grant_purposes(hub: Hub, actor: Actor) -> list[tuple[str, str, bool]]:
    """(code, label, prohibited by my agency) of each purpose of the taxonomy: what a grant may name."""
    with refusals_audited(hub, actor, "sharing.purpose_list", f"agency:{actor.agency_id}"):
        actor.require(Permission.MANAGE_SHARING)
    with hub.uow() as uow:
        prohibited = uow.governance.get(actor.agency_id).prohibited_purposes
        uow.record(actor.entry("sharing.purpose_list", f"agency:{actor.agency_id}", prohibited=len(prohibited)))
        uow.commit()
    return [(p.code, p.label, p.code in prohibited) for p in PURPOSES]


def agencies_sharing(uow, to_agency_id: str, kind: DataKind, purpose, now: datetime) -> list[str]:
    """The agencies whose live grants let `to_agency_id` see `kind` for `purpose` now (never itself)."""
    code = getattr(purpose, "purpose", purpose)  # a SearchPurpose or its code
    grants = uow.sharing.grants_to(to_agency_id, kind, now)
    if not grants:
        return []
    recipient_kind = uow.governance.get(to_agency_id).kind
    sources = sorted({g.from_agency_id for g in grants} - {to_agency_id})
    return [s for s in sources
            if decide_share(grants, s, to_agency_id, kind, code, now, recipient_kind,
                            uow.governance.get(s).prohibited_purposes).allowed]


def audit_shared_access(uow, actor: Actor, source_agency_id: str, kind: DataKind, action: str, **details) -> None:
    """Audit one access to another agency's data on both sides: in the actor's agency and in the source's."""
    kind_value = getattr(kind, "value", kind)
    uow.record(actor.entry(action, f"agency:{source_agency_id}", data_kind=kind_value,
                           source_agency=source_agency_id, **details))
    uow.record(mirror_entry(actor, action, source_agency_id, f"agency:{actor.agency_id}", data_kind=kind_value,
                            **details))


_KIND_WORDS = {DataKind.PLATE_READS: "plate reads", DataKind.HOT_LISTS: "hot lists",
               DataKind.CAMERA_LOCATIONS: "camera locations"}


def _tell_recipient(uow, hub: Hub, g: SharingGrant, names: dict, *, revoked: bool) -> None:
    """A portal notification to each administrator of the recipient agency, and an email when the hub sends mail."""
    source, what = names.get(g.from_agency_id, ("?", "?"))[1], _KIND_WORDS[g.data_kind]
    if revoked:
        subject = f"{source} no longer shares {what} with your agency"
        body = f"{source} revoked its grant of {what} to your agency; searches and matching stopped using it at once."
    else:
        subject = f"{source} shares {what} with your agency"
        body = (f"{source} granted your agency {what} for {', '.join(sorted(g.purposes))} until "
                f"{g.expires_at:%Y-%m-%d %H:%M} UTC.")
    now = hub.clock.now()
    for user in uow.accounts.list_agency(g.to_agency_id):
        if user.role != Role.ADMIN or user.disabled:
            continue
        uow.activity.notify(id=hub.ids.new_id(), user_id=user.id, kind="sharing", subject=subject[:200], body=body,
                            link="/sharing", created_at=now, read_at=None)
        if hub.mailer is not None:
            uow.activity.enqueue("email", {"user_id": user.id, "subject": subject[:200], "body": body}, now)


def _refresh_matching(hub: Hub, g: SharingGrant) -> None:
    """A hot-list grant made or ended changes which opted-in lists the recipient's index holds: rebuild it."""
    if g.data_kind is DataKind.HOT_LISTS:
        hotlist_index(hub).reload(g.to_agency_id)
        hotlist_index(hub).announce(g.to_agency_id)


def _grant_details(g: SharingGrant) -> dict:
    return {"grant": g.id, "from_agency": g.from_agency_id, "to_agency": g.to_agency_id,
            "data_kind": g.data_kind.value, "purposes": sorted(g.purposes), "expires_at": g.expires_at.isoformat(),
            "federal_one_to_one": g.federal_one_to_one}


def _view(g: SharingGrant, agency_id: str, names: dict[str, tuple[str, str]], now: datetime) -> GrantView:
    unknown = ("?", "?")
    return GrantView(g, "given" if g.from_agency_id == agency_id else "received",
                     names.get(g.from_agency_id, unknown), names.get(g.to_agency_id, unknown), g.status(now))
