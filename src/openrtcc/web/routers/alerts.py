"""Alerts of the agency: the list (and what a reconnecting client missed), one alert, its images, dispositions."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from openrtcc.services import alert_actions, alerts
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.incident_schemas import AssignIn, NoteIn
from openrtcc.web.plate_schemas import AlertOut, DispositionIn

router = APIRouter(prefix="/api/agency/alerts", tags=["alerts"])


@router.get("")
def list_alerts(actor: AgencyActor, hub: HubDep,
                after: str | None = Query(None, max_length=36, description="Only alerts raised after this one."),
                status: str | None = Query(None, max_length=16),
                limit: int = Query(100, ge=1, le=500)) -> list[AlertOut]:
    return [AlertOut.of(a) for a in alerts.list_alerts(hub, actor, after=after, status=status, limit=limit)]


@router.get("/{alert_id}")
def get_alert(alert_id: str, actor: AgencyActor, hub: HubDep) -> AlertOut:
    return AlertOut.of(alerts.get_alert(hub, actor, alert_id))


@router.post("/{alert_id}/disposition")
def disposition(alert_id: str, body: DispositionIn, actor: AgencyActor, hub: HubDep) -> AlertOut:
    return AlertOut.of(alerts.record_disposition(hub, actor, alert_id, body.disposition, body.note))


@router.post("/{alert_id}/acknowledge")
def acknowledge(alert_id: str, actor: AgencyActor, hub: HubDep) -> AlertOut:
    return AlertOut.of(alert_actions.acknowledge(hub, actor, alert_id))


@router.post("/{alert_id}/assign")
def assign(alert_id: str, body: AssignIn, actor: AgencyActor, hub: HubDep) -> AlertOut:
    return AlertOut.of(alert_actions.assign(hub, actor, alert_id, body.user_id, body.note))


@router.post("/{alert_id}/escalate")
def escalate(alert_id: str, actor: AgencyActor, hub: HubDep, body: NoteIn | None = None) -> AlertOut:
    return AlertOut.of(alert_actions.escalate(hub, actor, alert_id, body.note if body else None))


@router.get("/{alert_id}/{kind}")
def image(alert_id: str, kind: Literal["crop", "snapshot"], actor: AgencyActor, hub: HubDep) -> StreamingResponse:
    """Served as the image type sniffed from its bytes, inline, and in a sandbox should anyone frame it."""
    media_type, stream = alerts.open_alert_image(hub, actor, alert_id, kind)
    return StreamingResponse(stream, media_type=media_type, headers={
        "Content-Disposition": f'inline; filename="{alert_id}-{kind}"', "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-store"})
