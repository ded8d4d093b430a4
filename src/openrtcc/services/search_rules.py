"""The checks every plate and camera search passes: a structured purpose, the agency's prohibited purposes, a
supervisor's approval over the agency's camera limit, a row in the search log, and the repeat-search alarm.

Each refusal is committed (audit record denied + search-log row refused) before the error is raised, so a
refused search leaves evidence and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from openrtcc.domain.errors import DomainError, Forbidden, InvalidInput
from openrtcc.domain.governance import AgencyGovernance
from openrtcc.domain.search_purposes import SearchPurpose, parse_purpose, refuse_if_prohibited
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)

KINDS = ("plate", "area", "camera")  # a plate (whole or partial); reads in an area; the camera registry


@dataclass(frozen=True, slots=True)
class PurposeIn:
    """The purpose as the caller gave it, before parsing: three codes and an optional note."""

    purpose: str | None
    offence: str | None
    case_number: str | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SearchRequest:
    kind: str  # one of KINDS
    action: str  # the audit action of the search ("plate.search", "camera.search_radius", ...)
    purpose: SearchPurpose
    plate: str | None = None  # the normalised whole plate searched, for the repeat alarm
    scope: dict | None = None  # the area covered (canonical_scope); None: a plate-only search covers no area
    approval_id: str | None = None


def canonical_scope(*, lat: float | None = None, lon: float | None = None, radius_m: float | None = None,
                    area: dict | None = None) -> dict:
    """The area a search covers, as an approval names it: equal searches give equal dicts."""
    if area is not None:
        return {"area": json.loads(json.dumps(area, sort_keys=True))}
    scope = {"lat": round(float(lat), 6), "lon": round(float(lon), 6)}
    if radius_m is not None:
        scope["radius_m"] = round(float(radius_m), 1)
    return scope


def plate_hash(hub: Hub, plate: str) -> str:
    """The search log's name for a plate: a keyed hash, so the log itself never holds a plate."""
    return hmac.new(hub.secret_key, b"plate:" + plate.encode(), hashlib.sha256).hexdigest()


def plate_hint(plate: str) -> str:
    """What notifications and the audit trail keep of a searched plate: its first three characters."""
    return plate[:3] + "#" * max(0, len(plate) - 3)


def parse(hub: Hub, actor: Actor, action: str, given: PurposeIn) -> SearchPurpose:
    """The structured purpose, or a refusal that is audited (free text alone is refused as unknown_purpose)."""
    try:
        return parse_purpose(given.purpose, given.offence, given.case_number, given.note)
    except InvalidInput as exc:
        with hub.uow() as uow:
            # Only the code: what was typed may hold a plate or a name.
            uow.record(actor.entry(action, f"agency:{actor.agency_id}", outcome="denied", code=exc.code,
                                   field=exc.details.get("field")))
            uow.commit()
        raise


def refuse_prohibited(uow, hub: Hub, actor: Actor, req: SearchRequest) -> AgencyGovernance:
    """The agency's governance; a prohibited purpose is refused, logged and told to every supervisor."""
    gov = uow.governance.get(actor.agency_id)
    try:
        refuse_if_prohibited(req.purpose, gov.prohibited_purposes)
    except Forbidden as exc:
        _notify_supervisors(uow, hub, actor, "search_prohibited",
                            f"A search for a prohibited purpose was refused (case {req.purpose.case_number})",
                            f"{_who(uow, actor)} tried a {req.kind} search for the purpose "
                            f"“{req.purpose.label}”, which your agency prohibits. The search was refused and "
                            f"recorded.\nCase: {req.purpose.case_number}\nOffence: {req.purpose.offence}")
        refuse(uow, hub, actor, req, exc)
    return gov


def require_approval(uow, hub: Hub, actor: Actor, req: SearchRequest, gov: AgencyGovernance,
                     camera_count: int | None) -> str | None:
    """The approval that lets a search over the agency's camera limit go ahead (its id), or a refusal."""
    if camera_count is None or camera_count <= gov.search_camera_limit:
        return None
    details = {"camera_count": camera_count, "limit": gov.search_camera_limit}
    if req.approval_id is None:
        refuse(uow, hub, actor, req, Forbidden(
            f"this search covers {camera_count} cameras, more than your agency's limit of "
            f"{gov.search_camera_limit}: ask a supervisor to approve it", code="approval_required",
            details=details), camera_count)
    row = uow.searches.approval(actor.agency_id, req.approval_id)
    problem = _approval_problem(row, actor, req, hub.clock.now())
    if problem is not None:
        refuse(uow, hub, actor, req, Forbidden(problem, code="approval_invalid",
                                               details={**details, "approval_id": req.approval_id}), camera_count)
    return row.id


def _approval_problem(row, actor: Actor, req: SearchRequest, now: datetime) -> str | None:
    if row is None or row.requested_by != actor.user_id:
        return "no such approval of yours"
    if row.status != "approved":
        return f"the approval is {row.status}, not approved"
    if row.expires_at <= now:
        return "the approval has expired: ask again"
    asked = (row.kind, row.purpose, row.offence, row.case_number, json.dumps(row.scope, sort_keys=True))
    this = (req.kind, req.purpose.purpose, req.purpose.offence, req.purpose.case_number,
            json.dumps(req.scope, sort_keys=True))
    if asked != this:
        return "the approval was given for another search (kind, purpose, offence, case or area differ)"
    return None


def refuse(uow, hub: Hub, actor: Actor, req: SearchRequest, error: DomainError,
           camera_count: int | None = None) -> None:
    """Commit the refusal's evidence (audit denied, search log refused), then raise the error."""
    now = hub.clock.now()
    uow.record(actor.entry(req.action, f"agency:{actor.agency_id}", outcome="denied", code=error.code,
                           kind=req.kind, **req.purpose.audit_details(), cameras=camera_count,
                           plate=plate_hint(req.plate) if req.plate else None))
    _log(uow, hub, actor, req, "refused", camera_count, None, now)
    uow.commit()
    raise error


def record_done(uow, hub: Hub, actor: Actor, req: SearchRequest, camera_count: int | None,
                approval_id: str | None) -> None:
    """The search log row of a completed search, then the repeat-search alarm for a whole plate."""
    now = hub.clock.now()
    _log(uow, hub, actor, req, "done", camera_count, approval_id, now)
    if req.plate is not None:
        _repeat_alarm(uow, hub, actor, req, now)


def _log(uow, hub: Hub, actor: Actor, req: SearchRequest, outcome: str, camera_count: int | None,
         approval_id: str | None, now: datetime) -> None:
    p = req.purpose
    uow.searches.log(agency_id=actor.agency_id, user_id=actor.user_id, kind=req.kind, purpose=p.purpose,
                     offence=p.offence, case_number=p.case_number,
                     plate_hash=plate_hash(hub, req.plate) if req.plate else None, camera_count=camera_count,
                     approval_id=approval_id, outcome=outcome, at=now)


def _repeat_alarm(uow, hub: Hub, actor: Actor, req: SearchRequest, now: datetime) -> None:
    """Supervisors hear when one user's searches for one plate reach the threshold (again at 2x, 3x, ...)."""
    gov = uow.governance.get(actor.agency_id)
    count = uow.searches.plate_searches_since(actor.user_id, plate_hash(hub, req.plate),
                                              now - gov.repeat_search_window)
    if count < gov.repeat_search_threshold or count % gov.repeat_search_threshold:
        return
    hours = int(gov.repeat_search_window.total_seconds() // 3600)
    hint = plate_hint(req.plate)
    told = _notify_supervisors(
        uow, hub, actor, "search_repeat", f"Repeated searches for plate {hint}",
        f"{_who(uow, actor)} has searched plate {hint} {count} times in the last {hours} hours "
        f"(threshold {gov.repeat_search_threshold}).\nLatest purpose: {req.purpose.label}, case "
        f"{req.purpose.case_number}. Review the searches in the audit log.")
    uow.record(actor.entry("search.repeat_alarm", f"user:{actor.user_id}", plate=hint, count=count,
                           threshold=gov.repeat_search_threshold, window_hours=hours, supervisors=told))
    log.info("repeat-search alarm in agency %s: %s searches by one user", actor.agency_id, count)


def _who(uow, actor: Actor) -> str:
    user = uow.accounts.by_id(actor.user_id)
    return f"{user.display_name} ({user.email})" if user else f"user {actor.user_id}"


def _notify_supervisors(uow, hub: Hub, actor: Actor, kind: str, subject: str, body: str) -> int:
    """A portal notification to every supervisor of the agency, and an email when the hub sends mail."""
    now = hub.clock.now()
    supervisors = uow.searches.supervisors(actor.agency_id)
    for user_id in supervisors:
        uow.activity.notify(id=hub.ids.new_id(), user_id=user_id, kind=kind, subject=subject[:200], body=body,
                            link="/governance#approvals", created_at=now, read_at=None)
        if hub.mailer is not None:
            uow.activity.enqueue("email", {"user_id": user_id, "subject": subject[:200], "body": body}, now)
    return len(supervisors)
