"""Emergencies: supervisors and administrators declare and end them; agency staff list their agency's."""

from __future__ import annotations

from fastapi import APIRouter

from openrtcc.services import emergencies
from openrtcc.services.emergencies import EmergencyDraft
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.edge_schemas import EmergencyIn, EmergencyOut

router = APIRouter(prefix="/api/emergencies", tags=["emergencies"])


def _out(row, now) -> EmergencyOut:
    return EmergencyOut(id=row.id, lat=row.lat, lon=row.lon, radius_m=row.radius_m, reason=row.reason,
                        case_number=row.case_number, declared_by=row.declared_by, declared_at=row.declared_at,
                        expires_at=row.expires_at, ended_at=row.ended_at,
                        active=row.ended_at is None and row.expires_at > now)


@router.post("", status_code=201)
def declare(body: EmergencyIn, actor: AgencyActor, hub: HubDep) -> EmergencyOut:
    draft = EmergencyDraft(body.lat, body.lon, body.radius_m, body.reason, body.case_number, body.expires_in_minutes)
    return _out(emergencies.declare(hub, actor, draft), hub.clock.now())


@router.get("")
def list_all(actor: AgencyActor, hub: HubDep) -> list[EmergencyOut]:
    now = hub.clock.now()
    return [_out(r, now) for r in emergencies.list_emergencies(hub, actor)]


@router.post("/{emergency_id}/end")
def end(emergency_id: str, actor: AgencyActor, hub: HubDep) -> EmergencyOut:
    return _out(emergencies.end(hub, actor, emergency_id), hub.clock.now())
