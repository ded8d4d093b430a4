"""The command center's tip queue: list, read, review, dismiss or promote a tip to an incident."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from openrtcc.services import tips
from openrtcc.services.tips import Promotion
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.file_download import file_chunks
from openrtcc.web.public_schemas import DismissIn, PromotedOut, PromoteIn, TipDetailOut, TipOut

router = APIRouter(prefix="/api/tips", tags=["tips"])


@router.get("")
def list_tips(actor: AgencyActor, hub: HubDep, status: str = Query("open", max_length=16),
              limit: int = Query(100, ge=1, le=500)) -> list[TipOut]:
    """Newest first; status new, reviewed, open (new and reviewed), promoted, dismissed or all."""
    return [TipOut.of(t) for t in tips.list_tips(hub, actor, status, limit)]


@router.get("/{tip_id}")
def get_tip(tip_id: str, actor: AgencyActor, hub: HubDep) -> TipDetailOut:
    return TipDetailOut.of(tips.get_tip(hub, actor, tip_id))


@router.get("/{tip_id}/media")
def media(tip_id: str, actor: AgencyActor, hub: HubDep) -> StreamingResponse:
    """Served inline as the type sniffed on arrival, sandboxed should anyone frame it; each view is audited."""
    media_type, stream = tips.open_media(hub, actor, tip_id)
    return StreamingResponse(file_chunks(stream), media_type=media_type, headers={
        "Content-Disposition": f'inline; filename="tip-{tip_id}"', "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-store"})


@router.post("/{tip_id}/review")
def review(tip_id: str, actor: AgencyActor, hub: HubDep) -> TipOut:
    return TipOut.of(tips.review(hub, actor, tip_id))


@router.post("/{tip_id}/dismiss")
def dismiss(tip_id: str, body: DismissIn, actor: AgencyActor, hub: HubDep) -> TipOut:
    return TipOut.of(tips.dismiss(hub, actor, tip_id, body.note))


@router.post("/{tip_id}/promote", status_code=201)
def promote(tip_id: str, body: PromoteIn, actor: AgencyActor, hub: HubDep) -> PromotedOut:
    tip, incident = tips.promote(hub, actor, tip_id, Promotion(**body.model_dump()))
    return PromotedOut(tip=TipOut.of(tip), incident_id=incident.id, incident_title=incident.title)
