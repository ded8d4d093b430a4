"""Hot lists shared in by other agencies: listed for the receiving agency's administrator, applied to its
reads only after an opt-in and only while a hot-list grant lives; every opt-in, opt-out and hit audited on
both sides."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import Conflict, NotFound
from openrtcc.domain.governance import DataKind
from openrtcc.domain.sharing import HOTLIST_MATCH_PURPOSE, ShareDecision, decide_share
from openrtcc.services.hotlist_backcheck import BackCheck, back_check
from openrtcc.services.hotlist_index import hotlist_index
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.sharing import mirror_entry, refusals_audited, user_or_none

log = logging.getLogger(__name__)
NOT_SHARED = "no such hot list shared with your agency"


@dataclass(frozen=True, slots=True)
class SharedHotListView:
    list_id: str
    name: str
    format: str
    entry_count: int
    version: int
    refreshed_at: datetime | None
    stale: bool
    source: tuple[str, str]  # (slug, name) of the agency that keeps the list
    grant_expires_at: datetime | None  # None: no grant in force any more
    opted_in_at: datetime | None  # None: not opted in
    applies: bool  # opted in and the grant lives: the list matches this agency's reads now


def _decision(uow, source_id: str, to_id: str, now: datetime) -> ShareDecision:
    return decide_share(uow.sharing.grants_between(source_id, to_id, DataKind.HOT_LISTS), source_id, to_id,
                        DataKind.HOT_LISTS, HOTLIST_MATCH_PURPOSE, now, uow.governance.get(to_id).kind,
                        uow.governance.get(source_id).prohibited_purposes)


def list_shared_in(hub: Hub, actor: Actor) -> list[SharedHotListView]:
    """The lists other agencies share with mine now, and those I opted in to whose grant has ended."""
    with refusals_audited(hub, actor, "sharing.hotlist_list", f"agency:{actor.agency_id}"):
        actor.require(Permission.MANAGE_SHARING)
    now = hub.clock.now()
    me = actor.agency_id
    with hub.uow() as uow:
        grants = uow.sharing.grants_to(me, DataKind.HOT_LISTS, now)
        subs = {s.list_id: s for s in uow.sharing.subscriptions(me)}
        candidates = {g.from_agency_id for g in grants} | set(uow.sharing.list_owners(set(subs)).values())
        expiry = {}
        for source in candidates - {me}:
            decision = _decision(uow, source, me, now)
            if decision.allowed:
                expiry[source] = next(g.expires_at for g in grants if g.id == decision.grant_id)
        rows = [r for r in uow.sharing.hot_lists_of(sorted(candidates - {me}))
                if r.agency_id in expiry or r.id in subs]
        names = uow.sharing.agency_names({r.agency_id for r in rows})
        views = [_view(r, names, expiry.get(r.agency_id), subs.get(r.id)) for r in rows]
        uow.record(actor.entry("sharing.hotlist_list", f"agency:{me}", count=len(views),
                               opted_in=sum(v.opted_in_at is not None for v in views)))
        uow.commit()
    return views


def _view(r, names: dict, expires_at: datetime | None, sub) -> SharedHotListView:
    opted = sub.opted_in_at if sub is not None else None
    return SharedHotListView(r.id, r.name, r.format, r.entry_count, r.version, r.refreshed_at,
                             r.stale_alarm_at is not None, names.get(r.agency_id, ("?", "?")), expires_at, opted,
                             opted is not None and expires_at is not None)


@dataclass(frozen=True, slots=True)
class OptIn:
    list: SharedHotListView
    back_check: BackCheck


def opt_in(hub: Hub, actor: Actor, list_id: str) -> OptIn:
    """Apply a list shared in to my agency's reads from now on, and back-check the reads of the window."""
    with refusals_audited(hub, actor, "sharing.hotlist_opt_in", f"hot_list:{str(list_id)[:40]}"):
        actor.require(Permission.MANAGE_SHARING)
        now = hub.clock.now()
        me = actor.agency_id
        with hub.uow() as uow:
            source = uow.sharing.list_owners({list_id}).get(list_id)
            decision = _decision(uow, source, me, now) if source not in (None, me) else None
            if decision is None or not decision.allowed:
                raise NotFound(NOT_SHARED)
            if uow.sharing.subscription(me, list_id) is not None:
                raise Conflict("your agency already applies this list", code="already_opted_in")
            uow.sharing.subscribe(id=hub.ids.new_id(), agency_id=me, list_id=list_id, grant_id=decision.grant_id,
                                  opted_in_by=user_or_none(actor), opted_in_at=now)
            details = {"list": list_id, "grant": decision.grant_id, "source_agency": source}
            uow.record(actor.entry("sharing.hotlist_opt_in", f"hot_list:{list_id}", **details))
            uow.record(mirror_entry(actor, "sharing.hotlist_opt_in", source, f"hot_list:{list_id}", **details))
            uow.commit()
            entries = list(uow.hotlists.entries(source, list_id))
    hotlist_index(hub).reload(me)
    hotlist_index(hub).announce(me)
    checked = back_check(hub, actor, list_id, entries)
    view = next(v for v in list_shared_in(hub, actor) if v.list_id == list_id)
    return OptIn(view, checked)


def opt_out(hub: Hub, actor: Actor, list_id: str) -> None:
    """Stop applying a list shared in; alerts it raised stay with their dispositions."""
    with refusals_audited(hub, actor, "sharing.hotlist_opt_out", f"hot_list:{str(list_id)[:40]}"):
        actor.require(Permission.MANAGE_SHARING)
        me = actor.agency_id
        with hub.uow() as uow:
            sub = uow.sharing.subscription(me, list_id)
            if sub is None:
                raise NotFound("your agency does not apply this list")
            source = uow.sharing.list_owners({list_id}).get(list_id)
            uow.sharing.unsubscribe(sub.id, hub.clock.now())
            details = {"list": list_id, "source_agency": source}
            uow.record(actor.entry("sharing.hotlist_opt_out", f"hot_list:{list_id}", **details))
            uow.record(mirror_entry(actor, "sharing.hotlist_opt_out", source, f"hot_list:{list_id}", **details))
            uow.commit()
    hotlist_index(hub).reload(me)
    hotlist_index(hub).announce(me)


def audit_shared_hits(uow, agency_id: str, read_id: str, alerts: Sequence[tuple[str, str, str]]) -> int:
    """For each (alert id, list id, match kind) raised on another agency's list: one record in my agency and
    one in the list's keeper's. No plate: the alert holds it, in my agency only."""
    owners = uow.sharing.list_owners({list_id for _a, list_id, _k in alerts})
    shared = 0
    for alert_id, list_id, kind in alerts:
        source = owners.get(list_id)
        if source is None or source == agency_id:
            continue
        details = {"list": list_id, "alert": alert_id, "read": read_id, "match_kind": kind}
        uow.record(AuditEntry("sharing.hotlist_hit", "success", None, agency_id, f"alert:{alert_id}", None,
                              {"source_agency": source, **details}))
        uow.record(AuditEntry("sharing.hotlist_hit", "success", None, source, f"hot_list:{list_id}", None,
                              {"acting_agency": agency_id, **details}))
        shared += 1
    return shared
