"""Incidents: opened by operators, by integrations (CAD, gunshot detection) or from promoted tips; listed with
their timeline; moved by operator actions; each change announced on the bus after it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.cameras import check_in_jurisdiction
from openrtcc.domain.command_events import IncidentChanged
from openrtcc.domain.errors import Conflict, InvalidInput, NotFound
from openrtcc.domain.geo import Point, area_from_geojson
from openrtcc.domain.incidents import (
    IncidentDraft,
    IncidentSource,
    IncidentStatus,
    IncidentView,
    TimelineEntry,
    acknowledged_status,
    assigned_status,
    check_disposition,
    check_emergency,
    check_escalation,
    check_note,
    validate_draft,
)
from openrtcc.services import emergencies
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)
MAX_LIST = 500
LIST_STATUSES = ("open", "closed", "all")


# ---------------------------------------------------------------- opening


def open_incident(hub: Hub, uow, agency_id: str, draft: IncidentDraft, actor_id: str | None,
                  source: str | None = None) -> IncidentView:
    """Store a new incident and its first timeline line inside the caller's transaction, audited.

    The caller commits, then calls `announce(hub, view, "opened")`. Refused: a draft the domain rules refuse,
    a location outside the agency's jurisdiction, an external id (CAD number, event id) already used."""
    draft = validate_draft(draft)
    agency = uow.accounts.agency(agency_id)
    if agency is None:
        raise NotFound("no such agency")
    check_in_jurisdiction(Point(draft.lat, draft.lon), area_from_geojson(agency.jurisdiction), agency.name)
    if draft.external_id is not None and uow.incidents.by_external(agency_id, draft.source.value,
                                                                   draft.external_id) is not None:
        raise Conflict(f"an incident from {draft.source.value} {draft.external_id} already exists",
                       code="duplicate_incident")
    now = hub.clock.now()
    incident_id = hub.ids.new_id()
    uow.incidents.add(id=incident_id, agency_id=agency_id, source=draft.source.value, external_id=draft.external_id,
                      category=draft.category, priority=draft.priority, title=draft.title,
                      description=draft.description, lat=draft.lat, lon=draft.lon, address=draft.address,
                      status=IncidentStatus.NEW.value, created_by=actor_id, created_at=now, updated_at=now,
                      details=draft.details)
    uow.incidents.add_event(incident_id, now, actor_id, "opened",
                            {"source": draft.source.value, "category": draft.category, "priority": draft.priority})
    uow.record(AuditEntry("incident.open", "success", actor_id, agency_id, f"incident:{incident_id}", source,
                          {"source": draft.source.value, "external_id": draft.external_id,
                           "category": draft.category, "priority": draft.priority}))
    return uow.incidents.get(agency_id, incident_id)


def announce(hub: Hub, view: IncidentView, change: str, before: IncidentView | None = None) -> None:
    """After commit: tell the command centers and the dissemination pipeline (never before: a rollback
    would leave them holding an incident that does not exist)."""
    if hub.bus is None:
        return
    try:
        hub.bus.publish(IncidentChanged(view, change, before))
    except Exception as exc:  # the incident stands; screens see it on their next list
        log.warning("could not announce incident %s (%s)", view.id, type(exc).__name__)


def create_incident(hub: Hub, actor: Actor, draft: IncidentDraft) -> IncidentView:
    """An operator opens an incident from the command center."""
    actor.require(Permission.HANDLE_INCIDENTS)
    with hub.uow() as uow:
        draft = replace(draft, source=IncidentSource.OPERATOR, external_id=None)  # outside ids come signed
        view = open_incident(hub, uow, actor.agency_id, draft, actor.user_id, actor.source)
        uow.commit()
    announce(hub, view, "opened")
    return view


# ---------------------------------------------------------------- reading


def list_incidents(hub: Hub, actor: Actor, status: str = "open", limit: int = 100) -> list[IncidentView]:
    actor.require(Permission.VIEW_INCIDENTS)
    if status not in LIST_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(LIST_STATUSES)}", code="bad_status")
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}", code="bad_limit")
    with hub.uow() as uow:
        found = uow.incidents.newest(actor.agency_id, status, limit)
        uow.record(actor.entry("incident.list", f"agency:{actor.agency_id}", status=status, count=len(found)))
        uow.commit()
    return found


def get_incident(hub: Hub, actor: Actor, incident_id: str) -> tuple[IncidentView, list[TimelineEntry]]:
    actor.require(Permission.VIEW_INCIDENTS)
    with hub.uow() as uow:
        view = _owned(uow, actor, incident_id)
        timeline = uow.incidents.timeline(actor.agency_id, incident_id)
        uow.record(actor.entry("incident.read", f"incident:{incident_id}"))
        uow.commit()
    return view, timeline


@dataclass(frozen=True, slots=True)
class Assignee:
    id: str
    name: str
    role: str


def assignees(hub: Hub, actor: Actor) -> list[Assignee]:
    """The agency's staff who can take an incident or an alert."""
    actor.require(Permission.HANDLE_INCIDENTS)
    with hub.uow() as uow:
        rows = uow.incidents.assignees(actor.agency_id)
        uow.record(actor.entry("incident.assignees", f"agency:{actor.agency_id}", count=len(rows)))
        uow.commit()
    return [Assignee(r.id, r.display_name, r.role) for r in rows]


def _owned(uow, actor: Actor, incident_id: str) -> IncidentView:
    view = uow.incidents.get(actor.agency_id, incident_id)
    if view is None:
        raise NotFound("no such incident in your agency")
    return view


# ---------------------------------------------------------------- operator actions

Decide = Callable[[object, IncidentView, datetime], tuple[dict, dict]]  # (uow, ...) -> (values, timeline details)


def change_incident(hub: Hub, uow, view: IncidentView, action: str, values: dict, details: dict,
                    actor_id: str | None, now: datetime) -> IncidentView:
    """Apply one change inside the caller's transaction (which audits it): row, timeline line; the new view."""
    if not uow.incidents.change(view.agency_id, view.id, view.updated_at, updated_at=now, **values):
        raise Conflict("the incident changed meanwhile: reload it", code="incident_changed")
    uow.incidents.add_event(view.id, now, actor_id, action, details)
    return uow.incidents.get(view.agency_id, view.id)


def _act(hub: Hub, actor: Actor, incident_id: str, action: str, decide: Decide) -> IncidentView:
    with hub.uow() as uow:
        before = _owned(uow, actor, incident_id)
        now = hub.clock.now()
        values, details = decide(uow, before, now)
        after = change_incident(hub, uow, before, action, values, details, actor.user_id, now)
        uow.record(actor.entry(f"incident.{action}", f"incident:{incident_id}", **details))
        uow.commit()
    announce(hub, after, "closed" if after.status is IncidentStatus.CLOSED else "updated", before)
    return after


def acknowledge(hub: Hub, actor: Actor, incident_id: str) -> IncidentView:
    actor.require(Permission.HANDLE_INCIDENTS)
    return _act(hub, actor, incident_id, "acknowledge",
                lambda uow, v, now: ({"status": acknowledged_status(v).value}, {}))


def assign(hub: Hub, actor: Actor, incident_id: str, assignee_id: str, note: str | None = None) -> IncidentView:
    """A supervisor gives the incident to one of the agency's staff (re-assigning moves it)."""
    actor.require(Permission.ASSIGN_INCIDENTS)
    note = check_note(note)

    def decide(uow, v: IncidentView, now: datetime) -> tuple[dict, dict]:
        status = assigned_status(v, assignee_id)
        with_names = {r.id: r.display_name for r in uow.incidents.assignees(v.agency_id)}
        if assignee_id not in with_names:
            raise InvalidInput("assign to an active officer, analyst or supervisor of your agency",
                               code="bad_assignee")
        return ({"status": status.value, "assigned_to": assignee_id},
                {"assigned_to": assignee_id, "assigned_name": with_names[assignee_id], "note": note})
    return _act(hub, actor, incident_id, "assign", decide)


def escalate(hub: Hub, actor: Actor, incident_id: str, note: str | None = None) -> IncidentView:
    """Flag the incident for the supervisors: the command center's feed shows it to them."""
    actor.require(Permission.HANDLE_INCIDENTS)
    note = check_note(note)

    def decide(uow, v: IncidentView, now: datetime) -> tuple[dict, dict]:
        check_escalation(v)
        return {"escalated_at": now}, {"note": note}
    return _act(hub, actor, incident_id, "escalate", decide)


def disposition(hub: Hub, actor: Actor, incident_id: str, value: str, note: str | None = None) -> IncidentView:
    """Close the incident with what came of it."""
    actor.require(Permission.HANDLE_INCIDENTS)
    note = check_note(note)

    def decide(uow, v: IncidentView, now: datetime) -> tuple[dict, dict]:
        chosen = check_disposition(v, value)
        return ({"status": IncidentStatus.CLOSED.value, "disposition": chosen, "disposition_note": note,
                 "closed_at": now}, {"disposition": chosen, "note": note})
    return _act(hub, actor, incident_id, "disposition", decide)


def declare_emergency(hub: Hub, actor: Actor, incident_id: str, radius_m: float, minutes: int,
                      reason: str | None = None) -> IncidentView:
    """A supervisor opens emergency-only cameras around the incident (services/emergencies), tied to it."""
    emergencies.may_declare(actor)
    with hub.uow() as uow:
        before = _owned(uow, actor, incident_id)
        now = hub.clock.now()
        linked = uow.emergencies.get(actor.agency_id, before.emergency_id) if before.emergency_id else None
        check_emergency(before, linked is not None and linked.ended_at is None and linked.expires_at > now)
        draft = emergencies.EmergencyDraft(before.lat, before.lon, radius_m, (reason or before.title)[:300],
                                           before.external_id or f"incident {incident_id[:8]}", minutes)
        eid = emergencies.declare_in(hub, uow, actor.agency_id, actor.user_id, draft)
        after = change_incident(hub, uow, before, "emergency", {"emergency_id": eid},
                                {"emergency_id": eid, "radius_m": radius_m, "minutes": minutes}, actor.user_id, now)
        uow.record(actor.entry("emergency.declare", f"emergency:{eid}", radius_m=radius_m, minutes=minutes,
                               incident=incident_id))
        uow.commit()
        row = uow.emergencies.get(actor.agency_id, eid)
    emergencies.declared(hub, row)
    announce(hub, after, "updated", before)
    return after
