"""Incidents: opened by operators, listed, and moved by operator actions (acknowledge, assign, escalate,
disposition, emergency)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from openrtcc.domain.incidents import IncidentDraft
from openrtcc.services import incidents
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.incident_schemas import (
    AssigneeOut,
    AssignIn,
    IncidentDispositionIn,
    IncidentEmergencyIn,
    IncidentIn,
    IncidentOut,
    NoteIn,
)

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


@router.post("", status_code=201)
def create(body: IncidentIn, actor: AgencyActor, hub: HubDep) -> IncidentOut:
    draft = IncidentDraft(category=body.category, priority=body.priority, title=body.title, lat=body.lat,
                          lon=body.lon, description=body.description, address=body.address)
    return IncidentOut.of(incidents.create_incident(hub, actor, draft))


@router.get("")
def list_all(actor: AgencyActor, hub: HubDep, status: Literal["open", "closed", "all"] = "open",
             limit: int = Query(100, ge=1, le=500)) -> list[IncidentOut]:
    """Newest first."""
    return [IncidentOut.of(v) for v in incidents.list_incidents(hub, actor, status, limit)]


@router.get("/assignees")
def assignees(actor: AgencyActor, hub: HubDep) -> list[AssigneeOut]:
    return [AssigneeOut(id=a.id, name=a.name, role=a.role) for a in incidents.assignees(hub, actor)]


@router.get("/{incident_id}")
def get_one(incident_id: str, actor: AgencyActor, hub: HubDep) -> IncidentOut:
    view, timeline = incidents.get_incident(hub, actor, incident_id)
    return IncidentOut.of(view, timeline)


@router.post("/{incident_id}/acknowledge")
def acknowledge(incident_id: str, actor: AgencyActor, hub: HubDep) -> IncidentOut:
    return IncidentOut.of(incidents.acknowledge(hub, actor, incident_id))


@router.post("/{incident_id}/assign")
def assign(incident_id: str, body: AssignIn, actor: AgencyActor, hub: HubDep) -> IncidentOut:
    return IncidentOut.of(incidents.assign(hub, actor, incident_id, body.user_id, body.note))


@router.post("/{incident_id}/escalate")
def escalate(incident_id: str, actor: AgencyActor, hub: HubDep, body: NoteIn | None = None) -> IncidentOut:
    return IncidentOut.of(incidents.escalate(hub, actor, incident_id, body.note if body else None))


@router.post("/{incident_id}/disposition")
def disposition(incident_id: str, body: IncidentDispositionIn, actor: AgencyActor, hub: HubDep) -> IncidentOut:
    return IncidentOut.of(incidents.disposition(hub, actor, incident_id, body.disposition, body.note))


@router.post("/{incident_id}/emergency")
def emergency(incident_id: str, body: IncidentEmergencyIn, actor: AgencyActor, hub: HubDep) -> IncidentOut:
    """Declare an emergency around the incident (supervisors): emergency-only cameras nearby open until it expires."""
    return IncidentOut.of(incidents.declare_emergency(hub, actor, incident_id, body.radius_m,
                                                      body.expires_in_minutes, body.reason))
