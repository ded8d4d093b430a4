"""An agency's governance settings: retention, prohibited purposes, search limits, policy text."""

from __future__ import annotations

from fastapi import APIRouter

from openrtcc.services import governance_settings
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.governance_schemas import GovernanceIn, GovernanceOut

router = APIRouter(prefix="/api/agency/governance", tags=["governance"])


@router.get("")
def show(actor: AgencyActor, hub: HubDep) -> GovernanceOut:
    """The agency's settings (any of its staff; the same values are on the public transparency portal)."""
    return GovernanceOut.of(governance_settings.show(hub, actor))


@router.put("")
def update(body: GovernanceIn, actor: AgencyActor, hub: HubDep) -> GovernanceOut:
    """The agency administrator changes settings; fields left out keep their values. Audited, refusals too."""
    return GovernanceOut.of(governance_settings.update(hub, actor, body.changes()))
