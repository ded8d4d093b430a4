"""Supervisor approvals of searches over more cameras than the agency allows, and search purposes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.geo import area_from_geojson
from openrtcc.services import search_approvals
from openrtcc.services.search_approvals import ApprovalAsk
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.search_approval_schemas import (
    ApprovalIn,
    ApprovalOut,
    DecisionIn,
    PurposeChoicesOut,
    SearchNoticeOut,
)

router = APIRouter(prefix="/api/search-approvals", tags=["search approvals"])
Id = Annotated[str, Path(max_length=36, pattern=r"^[A-Za-z0-9-]+$")]


@router.get("/purposes")
def purposes(actor: AgencyActor, hub: HubDep) -> PurposeChoicesOut:
    """The purpose taxonomy (with your agency's prohibited purposes marked), the NIBRS offences, the limits."""
    return PurposeChoicesOut.of(search_approvals.purpose_choices(hub, actor))


@router.get("/notices")
def notices(actor: AgencyActor, hub: HubDep) -> list[SearchNoticeOut]:
    """Notices addressed to me: prohibited searches refused, repeat-search alarms, approvals asked or decided."""
    return [SearchNoticeOut(id=n.id, kind=n.kind, subject=n.subject, body=n.body, link=n.link,
                            created_at=n.created_at) for n in search_approvals.my_search_notices(hub, actor)]


@router.post("", status_code=201)
def ask(body: ApprovalIn, actor: AgencyActor, hub: HubDep) -> ApprovalOut:
    area = None
    if body.area is not None:
        try:
            area = area_from_geojson(body.area)
        except ValueError as exc:
            raise InvalidInput(f"area: {exc}", code="bad_geometry") from exc
    ask = ApprovalAsk(body.kind, body.given(), body.justification, body.lat, body.lon, body.radius_m, area, body.area)
    return ApprovalOut.of(search_approvals.request_approval(hub, actor, ask))


@router.get("")
def listing(actor: AgencyActor, hub: HubDep,
            decided: bool = Query(False, description="Supervisors: decided requests too.")) -> list[ApprovalOut]:
    return [ApprovalOut.of(a) for a in search_approvals.list_approvals(hub, actor, include_decided=decided)]


@router.post("/{approval_id}/approve")
def approve(approval_id: Id, body: DecisionIn, actor: AgencyActor, hub: HubDep) -> ApprovalOut:
    return ApprovalOut.of(search_approvals.decide(hub, actor, approval_id, True, body.note))


@router.post("/{approval_id}/deny")
def deny(approval_id: Id, body: DecisionIn, actor: AgencyActor, hub: HubDep) -> ApprovalOut:
    return ApprovalOut.of(search_approvals.decide(hub, actor, approval_id, False, body.note))
