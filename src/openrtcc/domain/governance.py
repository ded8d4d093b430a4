"""An agency's governance settings: what kind of agency it is, how long its data lives, which search purposes
it prohibits, when a search needs a supervisor, and the policy text it publishes. Pure values and checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.search_purposes import DEFAULT_PROHIBITED, PURPOSE_BY_CODE

DEFAULT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 30  # never longer without a legal hold: a hold keeps a case, not a window
MIN_RETENTION_DAYS = 1
AUDIT_RETENTION_DAYS = 365  # CJIS: audit records at least a year, while reads expire at 30 days
MAX_POLICY_TEXT = 20_000


class AgencyKind(StrEnum):
    LOCAL = "local"
    COUNTY = "county"
    STATE = "state"
    TRIBAL = "tribal"
    FEDERAL = "federal"  # receives nothing except through an explicit one-to-one grant


class DataKind(StrEnum):
    """What a sharing grant lets the other agency see."""

    PLATE_READS = "plate_reads"
    HOT_LISTS = "hot_lists"
    CAMERA_LOCATIONS = "camera_locations"


@dataclass(frozen=True, slots=True)
class AgencyGovernance:
    agency_id: str
    kind: AgencyKind = AgencyKind.LOCAL
    retention_days: int = DEFAULT_RETENTION_DAYS
    prohibited_purposes: frozenset[str] = field(default=DEFAULT_PROHIBITED)
    search_camera_limit: int = 50
    repeat_search_threshold: int = 3
    repeat_search_window: timedelta = timedelta(hours=168)
    policy_text: str = ""

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)


def validate_governance(g: AgencyGovernance) -> AgencyGovernance:
    """Refuse settings that would break a promise: retention past 30 days, unknown purposes, silly limits."""
    if not MIN_RETENTION_DAYS <= g.retention_days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"retention: {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS} days; keep a case longer "
                           "with a legal hold", code="bad_retention", details={"field": "retention_days"})
    unknown = sorted(set(g.prohibited_purposes) - set(PURPOSE_BY_CODE))
    if unknown:
        raise InvalidInput(f"prohibited purposes: unknown code {unknown[0]!r}", code="unknown_purpose",
                           details={"field": "prohibited_purposes"})
    if not 1 <= g.search_camera_limit <= 100_000:
        raise InvalidInput("search camera limit: 1 to 100000", code="bad_limit",
                           details={"field": "search_camera_limit"})
    if not 2 <= g.repeat_search_threshold <= 1000:
        raise InvalidInput("repeat-search threshold: 2 to 1000 searches", code="bad_limit",
                           details={"field": "repeat_search_threshold"})
    if not timedelta(hours=1) <= g.repeat_search_window <= timedelta(days=90):
        raise InvalidInput("repeat-search window: 1 hour to 90 days", code="bad_limit",
                           details={"field": "repeat_search_window_hours"})
    if len(g.policy_text) > MAX_POLICY_TEXT:
        raise InvalidInput(f"policy text: at most {MAX_POLICY_TEXT} characters", code="bad_policy_text",
                           details={"field": "policy_text"})
    return g
