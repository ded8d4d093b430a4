"""Read sources of the agency: create (the key is shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter

from openrtcc.services import read_sources
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.plate_schemas import ReadSourceCreatedOut, ReadSourceIn, ReadSourceOut

router = APIRouter(prefix="/api/agency/read-sources", tags=["read sources"])


@router.post("", status_code=201)
def create(body: ReadSourceIn, actor: AgencyActor, hub: HubDep) -> ReadSourceCreatedOut:
    source, key = read_sources.create_source(hub, actor, body.name, body.kind, body.default_state)
    return ReadSourceCreatedOut(**ReadSourceOut.of(source).model_dump(), key=key)


@router.get("")
def list_sources(actor: AgencyActor, hub: HubDep) -> list[ReadSourceOut]:
    return [ReadSourceOut.of(s) for s in read_sources.list_sources(hub, actor)]


@router.post("/{source_id}/revoke")
def revoke(source_id: str, actor: AgencyActor, hub: HubDep) -> ReadSourceOut:
    return ReadSourceOut.of(read_sources.revoke_source(hub, actor, source_id))
