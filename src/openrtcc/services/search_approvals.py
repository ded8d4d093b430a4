"""Supervisor approval of a search over more cameras than the agency allows: asked with a justification,
decided by a supervisor who is not the requester, valid for 24 hours for exactly the search it names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from openrtcc.domain.accounts import Permission, has_permission
from openrtcc.domain.cameras import MAX_RANGE_M, cameras_seeing
from openrtcc.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from openrtcc.domain.geo import Area, Point, valid_coordinates
from openrtcc.domain.search_purposes import SearchPurpose
from openrtcc.services import search_rules
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.search_rules import PurposeIn, SearchRequest, canonical_scope

APPROVAL_TTL = timedelta(hours=24)
COUNT_CAP = 2_000
MAX_JUSTIFICATION = 500


@dataclass(frozen=True, slots=True)
class ApprovalAsk:
    kind: str  # camera | plate | area, as the search that will use it
    purpose: PurposeIn
    justification: str
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    area: Area | None = None
    area_geojson: dict | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    id: str
    requested_by: str
    requester_name: str | None
    kind: str
    purpose: str
    offence: str
    case_number: str
    justification: str
    scope: dict
    camera_count: int
    status: str  # pending | approved | denied | expired
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    created_at: datetime
    expires_at: datetime


def _approval(row, now: datetime, names: dict[str, str]) -> Approval:
    status = row.status
    if status in ("pending", "approved") and row.expires_at <= now:
        status = "expired"
    return Approval(row.id, row.requested_by, names.get(row.requested_by), row.kind, row.purpose, row.offence,
                    row.case_number, row.justification, row.scope, row.camera_count, status, row.decided_by,
                    row.decided_at, row.decision_note, row.created_at, row.expires_at)


def _scope_and_count(uow, agency_id: str, ask: ApprovalAsk) -> tuple[dict, int]:
    """The area as the search will name it, and the agency's cameras inside it (the server counts, not the asker)."""
    if ask.area is not None:
        return canonical_scope(area=ask.area_geojson), len(uow.cameras.within_area(agency_id, ask.area, COUNT_CAP))
    if ask.lat is None or ask.lon is None or not valid_coordinates(ask.lat, ask.lon):
        raise InvalidInput("an approval names the area: lat and lon (with radius_m), or an area",
                           code="bad_coordinates")
    center = Point(ask.lat, ask.lon)
    if ask.radius_m is None:  # a view-cone search covers the cameras that could see the point
        near = uow.cameras.within_radius(agency_id, center, MAX_RANGE_M, COUNT_CAP)
        return canonical_scope(lat=ask.lat, lon=ask.lon), len(cameras_seeing(center, near))
    if not 1 <= ask.radius_m <= 5_000:
        raise InvalidInput("radius must be between 1 and 5000 m", code="bad_radius")
    scope = canonical_scope(lat=ask.lat, lon=ask.lon, radius_m=ask.radius_m)
    return scope, len(uow.cameras.within_radius(agency_id, center, ask.radius_m, COUNT_CAP))


def request_approval(hub: Hub, actor: Actor, ask: ApprovalAsk) -> Approval:
    """Ask the agency's supervisors to approve one wide search; they are notified."""
    if ask.kind not in search_rules.KINDS:
        raise InvalidInput(f"kind: one of {', '.join(search_rules.KINDS)}", code="bad_kind")
    actor.require(Permission.SEARCH_CAMERAS if ask.kind == "camera" else Permission.SEARCH_PLATES)
    p = search_rules.parse(hub, actor, "search.approval_request", ask.purpose)
    text = ask.justification.strip()
    if len(text) < 10 or len(text) > MAX_JUSTIFICATION:
        raise InvalidInput(f"justification: 10 to {MAX_JUSTIFICATION} characters saying why so many cameras",
                           code="justification_required", details={"field": "justification"})
    now = hub.clock.now()
    with hub.uow() as uow:
        scope, count = _scope_and_count(uow, actor.agency_id, ask)
        req = SearchRequest(ask.kind, "search.approval_request", p, None, scope)
        gov = search_rules.refuse_prohibited(uow, hub, actor, req)
        if count <= gov.search_camera_limit:
            _refuse(uow, actor, InvalidInput(f"this search covers {count} cameras, within your agency's limit of "
                               f"{gov.search_camera_limit}: no approval is needed", code="approval_not_needed",
                               details={"camera_count": count, "limit": gov.search_camera_limit}))
        aid = hub.ids.new_id()
        uow.searches.add_approval(id=aid, agency_id=actor.agency_id, requested_by=actor.user_id, kind=ask.kind,
                                  purpose=p.purpose, offence=p.offence, case_number=p.case_number,
                                  justification=text, scope=scope, camera_count=count, status="pending",
                                  created_at=now, expires_at=now + APPROVAL_TTL)
        _tell_supervisors(uow, hub, actor, p, aid, count, gov.search_camera_limit)
        uow.record(actor.entry("search.approval_request", f"search_approval:{aid}", kind=ask.kind,
                               **p.audit_details(), cameras=count, limit=gov.search_camera_limit))
        uow.commit()
        return _approval(uow.searches.approval(actor.agency_id, aid), now, {})


def _refuse(uow, actor: Actor, error, action: str = "search.approval_request", target: str | None = None) -> None:
    """A refused request or decision is audited (denied, with its code) before the error is raised."""
    uow.record(actor.entry(action, target or f"agency:{actor.agency_id}", outcome="denied", code=error.code))
    uow.commit()
    raise error


def _tell_supervisors(uow, hub: Hub, actor: Actor, p: SearchPurpose, aid: str, count: int, limit: int) -> None:
    user = uow.accounts.by_id(actor.user_id)
    body = (f"{user.display_name if user else 'A user'} asks to search {count} cameras (your agency's limit is "
            f"{limit}).\nPurpose: {p.label}\nOffence: {p.offence}\nCase: {p.case_number}\n"
            f"Approve or deny it on the governance page: {hub.base_url}/governance#approvals")
    for uid in uow.searches.supervisors(actor.agency_id):
        if uid == actor.user_id:
            continue  # a supervisor's own request goes to the other supervisors
        uow.activity.notify(id=hub.ids.new_id(), user_id=uid, kind="search_approval",
                            subject=f"A search of {count} cameras waits for approval (case {p.case_number})",
                            body=body, link=f"/governance#approval-{aid}", created_at=hub.clock.now(), read_at=None)
        if hub.mailer is not None:
            uow.activity.enqueue("email", {"user_id": uid, "subject": "A wide search waits for your approval",
                                           "body": body}, hub.clock.now())


def list_approvals(hub: Hub, actor: Actor, *, include_decided: bool = False) -> list[Approval]:
    """Supervisors and auditors (administrators and auditors read the audit): the agency's pending requests
    (and decided ones if asked); everyone else who searches: their own."""
    if actor.agency_id is None:
        raise Forbidden("search approvals belong to an agency", code="permission_denied")
    now = hub.clock.now()
    oversees = has_permission(actor.role, Permission.APPROVE_SEARCHES) or has_permission(actor.role,
                                                                                          Permission.READ_AUDIT)
    if not oversees:
        actor.require(Permission.SEARCH_CAMERAS)
    with hub.uow() as uow:
        if oversees:
            rows = uow.searches.approvals(actor.agency_id, status=None if include_decided else "pending")
        else:
            rows = uow.searches.approvals(actor.agency_id, requested_by=actor.user_id)
        names = {u.id: u.display_name for u in uow.accounts.list_agency(actor.agency_id)}
        uow.record(actor.entry("search.approval_list", f"agency:{actor.agency_id}", count=len(rows)))
        uow.commit()
    return [_approval(r, now, names) for r in rows]


def decide(hub: Hub, actor: Actor, approval_id: str, approve: bool, note: str | None) -> Approval:
    """A supervisor approves or denies a pending request of someone else; the requester is told."""
    actor.require(Permission.APPROVE_SEARCHES)
    action = "search.approval_approve" if approve else "search.approval_deny"
    text = (note or "").strip() or None
    if text is not None and len(text) > 500:
        raise InvalidInput("note: at most 500 characters", code="bad_note", details={"field": "note"})
    if not approve and text is None:
        raise InvalidInput("say why the search is denied", code="note_required", details={"field": "note"})
    now = hub.clock.now()
    with hub.uow() as uow:
        row = uow.searches.approval(actor.agency_id, approval_id)
        if row is None:
            raise NotFound("no such approval request in your agency")
        problem = _decision_problem(row, actor, now)
        if problem is not None:
            _refuse(uow, actor, problem, action, f"search_approval:{row.id}")
        if not uow.searches.decide(row.id, "approved" if approve else "denied", actor.user_id, now, text):
            _refuse(uow, actor, Conflict("another supervisor decided this request first", code="already_decided"),
                    action, f"search_approval:{row.id}")
        verdict = "approved" if approve else "denied"
        uow.activity.notify(id=hub.ids.new_id(), user_id=row.requested_by, kind="search_approval",
                            subject=f"Your search for case {row.case_number} was {verdict}",
                            body=f"Your request to search {row.camera_count} cameras was {verdict}."
                                 + (f"\nNote: {text}" if text else ""),
                            link=None, created_at=now, read_at=None)  # shown beside the search forms
        uow.record(actor.entry(action, f"search_approval:{row.id}", requested_by=row.requested_by,
                               case=row.case_number, cameras=row.camera_count))
        uow.commit()
        return _approval(uow.searches.approval(actor.agency_id, row.id), now, {})


def _decision_problem(row, actor: Actor, now: datetime):
    if row.requested_by == actor.user_id:
        return Forbidden("a supervisor may not approve or deny their own search", code="own_request")
    if row.status != "pending":
        return Conflict(f"this request is already {row.status}", code="already_decided")
    if row.expires_at <= now:
        return Conflict("this request has expired: the requester must ask again", code="approval_expired")
    return None


@dataclass(frozen=True, slots=True)
class PurposeChoices:
    """What a search form offers: the taxonomy with the agency's prohibited purposes marked, and its limits."""

    purposes: list[tuple[str, str, bool, bool]]  # code, label, needs_offence, prohibited here
    offences: list[tuple[str, str]]
    camera_limit: int
    repeat_threshold: int


def purpose_choices(hub: Hub, actor: Actor) -> PurposeChoices:
    from openrtcc.domain.search_purposes import OFFENCES, PURPOSES

    if actor.agency_id is None:
        raise Forbidden("search purposes belong to an agency", code="permission_denied")
    with hub.uow() as uow:
        gov = uow.governance.get(actor.agency_id)
        uow.record(actor.entry("search.purposes", f"agency:{actor.agency_id}"))
        uow.commit()
    return PurposeChoices([(p.code, p.label, p.needs_offence, p.code in gov.prohibited_purposes) for p in PURPOSES],
                          list(OFFENCES.items()), gov.search_camera_limit, gov.repeat_search_threshold)


SEARCH_NOTICE_KINDS = ("search_prohibited", "search_repeat", "search_approval")


def my_search_notices(hub: Hub, actor: Actor, limit: int = 50) -> list:
    """The search notices addressed to me: refused prohibited searches, repeat alarms, approval requests and
    decisions (supervisors get the first three, requesters the decisions)."""
    if actor.agency_id is None:
        raise Forbidden("search notices belong to an agency", code="permission_denied")
    with hub.uow() as uow:
        rows = [n for n in uow.activity.notifications(actor.user_id, limit=500) if n.kind in SEARCH_NOTICE_KINDS]
        uow.record(actor.entry("search.notices", f"user:{actor.user_id}", count=min(len(rows), limit)))
        uow.commit()
    return rows[:limit]
