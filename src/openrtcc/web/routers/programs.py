"""Public information: which agency programs an owner can join, and their jurisdictions."""

from __future__ import annotations

from fastapi import APIRouter

from openrtcc.services import registry
from openrtcc.web.deps import HubDep, Source

router = APIRouter(prefix="/api/programs", tags=["public"])


@router.get("")
def programs(hub: HubDep, source: Source) -> list[dict]:
    return [{"agency_id": a.id, "slug": a.slug, "name": a.name, "jurisdiction": a.jurisdiction}
            for a in registry.list_programs(hub, source)]
