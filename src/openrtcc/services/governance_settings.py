"""An agency's governance settings: its staff read them (the public portal shows them too); only its
administrator, or the operator's `rtcc governance set`, changes them; every change is validated and audited."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from openrtcc.domain.accounts import AGENCY_ROLES, Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from openrtcc.domain.governance import AgencyGovernance, AgencyKind, validate_governance
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.public_cache import cache_of


@dataclass(frozen=True, slots=True)
class GovernanceChanges:
    """The settings to change; None leaves a setting as it is."""

    kind: str | None = None
    retention_days: int | None = None
    prohibited_purposes: list[str] | None = None
    search_camera_limit: int | None = None
    repeat_search_threshold: int | None = None
    repeat_search_window_hours: int | None = None
    policy_text: str | None = None

    def given(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def show(hub: Hub, actor: Actor) -> AgencyGovernance:
    if actor.role not in AGENCY_ROLES or actor.agency_id is None:
        raise Forbidden("this is for agency staff", code="agency_only")
    with hub.uow() as uow:
        g = uow.governance.get(actor.agency_id)
        uow.record(actor.entry("governance.read", f"agency:{actor.agency_id}"))
        uow.commit()
    return g


def update(hub: Hub, actor: Actor, changes: GovernanceChanges) -> AgencyGovernance:
    actor.require(Permission.MANAGE_GOVERNANCE)
    return _update(hub, actor.agency_id, changes, actor.user_id, actor.source)


def show_for_agency(hub: Hub, slug: str) -> tuple[str, AgencyGovernance]:
    """The operator's path (`rtcc governance show`): audited as the command line."""
    with hub.uow() as uow:
        ag = _agency(uow, slug)
        g = uow.governance.get(ag.id)
        uow.record(AuditEntry("governance.read", "success", None, ag.id, f"agency:{ag.id}", "cli", {}))
        uow.commit()
    return ag.name, g


def update_for_agency(hub: Hub, slug: str, changes: GovernanceChanges) -> AgencyGovernance:
    with hub.uow() as uow:
        ag = _agency(uow, slug)
        uow.rollback()
    return _update(hub, ag.id, changes, None, "cli")


def _agency(uow, slug: str):
    ag = uow.accounts.agency_by_slug(slug)
    if ag is None:
        raise NotFound(f"no agency {slug!r}", code="agency_not_found")
    return ag


def _update(hub: Hub, agency_id: str, changes: GovernanceChanges, by: str | None, client: str | None
            ) -> AgencyGovernance:
    refused = None
    with hub.uow() as uow:
        before = uow.governance.get(agency_id)
        try:
            after = validate_governance(_applied(before, changes))
        except DomainError as problem:
            uow.rollback()
            refused = problem
        else:
            uow.governance.save(after, by, hub.clock.now())
            uow.record(AuditEntry("governance.update", "success", by, agency_id, f"agency:{agency_id}", client,
                                  {"changed": _differences(before, after)}))
            uow.commit()
    if refused is not None:
        _refused(hub, agency_id, by, client, refused)
        raise refused
    cache_of(hub).forget()  # the portal shows the new settings at once, not after its cache expires
    return after


def _applied(g: AgencyGovernance, c: GovernanceChanges) -> AgencyGovernance:
    if not c.given():
        raise InvalidInput("nothing to change", code="no_changes")
    try:
        kind = AgencyKind(c.kind) if c.kind is not None else g.kind
    except ValueError:
        raise InvalidInput(f"agency kind: one of {', '.join(k.value for k in AgencyKind)}", code="bad_kind",
                           details={"field": "kind"}) from None
    if c.policy_text is not None and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in c.policy_text):
        raise InvalidInput("policy text: control characters are not allowed", code="bad_policy_text",
                           details={"field": "policy_text"})
    try:
        window = (timedelta(hours=c.repeat_search_window_hours) if c.repeat_search_window_hours is not None
                  else g.repeat_search_window)
    except OverflowError:  # the command line takes any integer
        raise InvalidInput("repeat-search window: 1 hour to 90 days", code="bad_limit",
                           details={"field": "repeat_search_window_hours"}) from None
    return dataclasses.replace(
        g, kind=kind, retention_days=_pick(c.retention_days, g.retention_days),
        prohibited_purposes=frozenset(c.prohibited_purposes) if c.prohibited_purposes is not None
        else g.prohibited_purposes,
        search_camera_limit=_pick(c.search_camera_limit, g.search_camera_limit),
        repeat_search_threshold=_pick(c.repeat_search_threshold, g.repeat_search_threshold),
        repeat_search_window=window, policy_text=_pick(c.policy_text, g.policy_text))


def _pick(value, current):
    return current if value is None else value


def _differences(before: AgencyGovernance, after: AgencyGovernance) -> dict:
    """Old and new value of each changed setting; the policy text by its digest (it is published in full)."""
    out = {}
    for name in ("kind", "retention_days", "search_camera_limit", "repeat_search_threshold"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            out[name] = [str(old), str(new)] if name == "kind" else [old, new]
    if before.repeat_search_window != after.repeat_search_window:
        out["repeat_search_window_hours"] = [int(w / timedelta(hours=1))
                                             for w in (before.repeat_search_window, after.repeat_search_window)]
    if before.prohibited_purposes != after.prohibited_purposes:
        out["prohibited_purposes"] = {"added": sorted(after.prohibited_purposes - before.prohibited_purposes),
                                      "removed": sorted(before.prohibited_purposes - after.prohibited_purposes)}
    if before.policy_text != after.policy_text:
        out["policy_text_sha256"] = hashlib.sha256(after.policy_text.encode()).hexdigest()
    return out


def _refused(hub: Hub, agency_id: str, by: str | None, client: str | None, refused: DomainError) -> None:
    """A refused change is evidence too; recorded in its own transaction, nothing of the change is saved."""
    with hub.uow() as uow:
        uow.record(AuditEntry("governance.update", "failed", by, agency_id, f"agency:{agency_id}", client,
                              {"code": refused.code, **({"field": refused.details["field"]}
                                                        if "field" in refused.details else {})}))
        uow.commit()
