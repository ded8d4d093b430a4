"""Sharing between agencies: grants (deny by default), hot lists shared in and their opt-ins."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response

from openrtcc.services import shared_hotlists, sharing
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.sharing_schemas import (
    GrantIn,
    GrantOut,
    OptInOut,
    OtherAgencyOut,
    PurposeOut,
    SharedHotListOut,
)

router = APIRouter(prefix="/api/sharing", tags=["sharing"])
Id = Annotated[str, Path(max_length=36, pattern=r"^[A-Za-z0-9-]+$")]


@router.get("/grants")
def list_grants(actor: AgencyActor, hub: HubDep,
                direction: Literal["given", "received"] | None = None) -> list[GrantOut]:
    return [GrantOut.of(v) for v in sharing.list_grants(hub, actor, direction)]


@router.post("/grants", status_code=201)
def create_grant(body: GrantIn, actor: AgencyActor, hub: HubDep) -> GrantOut:
    return GrantOut.of(sharing.create_grant(hub, actor, body.request()))


@router.post("/grants/{grant_id}/revoke")
def revoke_grant(grant_id: Id, actor: AgencyActor, hub: HubDep) -> GrantOut:
    return GrantOut.of(sharing.revoke_grant(hub, actor, grant_id))


@router.get("/agencies")
def other_agencies(actor: AgencyActor, hub: HubDep) -> list[OtherAgencyOut]:
    return [OtherAgencyOut(slug=s, name=n, kind=k) for s, n, k in sharing.other_agencies(hub, actor)]


@router.get("/purposes")
def grant_purposes(actor: AgencyActor, hub: HubDep) -> list[PurposeOut]:
    return [PurposeOut(code=c, label=label, prohibited=p) for c, label, p in sharing.grant_purposes(hub, actor)]


@router.get("/hotlists")
def shared_in(actor: AgencyActor, hub: HubDep) -> list[SharedHotListOut]:
    return [SharedHotListOut.of(v) for v in shared_hotlists.list_shared_in(hub, actor)]


@router.post("/hotlists/{list_id}/opt-in")
def opt_in(list_id: Id, actor: AgencyActor, hub: HubDep) -> OptInOut:
    return OptInOut.of(shared_hotlists.opt_in(hub, actor, list_id))


@router.post("/hotlists/{list_id}/opt-out", status_code=204)
def opt_out(list_id: Id, actor: AgencyActor, hub: HubDep) -> Response:
    shared_hotlists.opt_out(hub, actor, list_id)
    return Response(status_code=204)
