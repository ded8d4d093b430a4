"""Request and response bodies of the agency governance settings API."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from openrtcc.domain.governance import MAX_POLICY_TEXT, AgencyGovernance
from openrtcc.domain.search_purposes import PURPOSES
from openrtcc.services.governance_settings import GovernanceChanges


# Wide bounds only against absurd numbers (a window of 10**30 hours is no timedelta); the real ranges are the
# domain's, so that each refusal names its rule.
Count = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]
PurposeCode = Annotated[str, Field(max_length=48)]


class GovernanceIn(BaseModel):
    """The settings to change; a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(None, max_length=16, description="local | county | state | tribal | federal")
    retention_days: Count | None = Field(None, description="1 to 30 days; a legal hold keeps a case longer")
    prohibited_purposes: list[PurposeCode] | None = Field(None, max_length=64, description="Purpose codes refused")
    search_camera_limit: Count | None = Field(None, description="Area searches over more cameras need approval")
    repeat_search_threshold: Count | None = Field(None, description="Same user, same plate: supervisors alerted")
    repeat_search_window_hours: Count | None = Field(None, description="1 hour to 90 days")
    policy_text: str | None = Field(None, max_length=MAX_POLICY_TEXT, description="Published on the portal")

    def changes(self) -> GovernanceChanges:
        return GovernanceChanges(**self.model_dump())


class PurposeOut(BaseModel):
    code: str
    label: str
    prohibited: bool


class GovernanceOut(BaseModel):
    agency_id: str
    kind: str
    retention_days: int
    prohibited_purposes: list[str]
    search_camera_limit: int
    repeat_search_threshold: int
    repeat_search_window_hours: int
    policy_text: str
    purposes: list[PurposeOut]  # the whole taxonomy, for the settings form's checkboxes

    @classmethod
    def of(cls, g: AgencyGovernance) -> GovernanceOut:
        return cls(agency_id=g.agency_id, kind=g.kind.value, retention_days=g.retention_days,
                   prohibited_purposes=sorted(g.prohibited_purposes), search_camera_limit=g.search_camera_limit,
                   repeat_search_threshold=g.repeat_search_threshold,
                   repeat_search_window_hours=int(g.repeat_search_window / timedelta(hours=1)),
                   policy_text=g.policy_text,
                   purposes=[PurposeOut(code=p.code, label=p.label, prohibited=p.code in g.prohibited_purposes)
                             for p in PURPOSES])
