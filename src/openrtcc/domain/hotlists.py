"""Hot-list entries and categories, and the freshness rule for lists that are feeds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Category(StrEnum):
    STOLEN_VEHICLE = "stolen_vehicle"
    STOLEN_PLATE = "stolen_plate"
    AMBER_ALERT = "amber_alert"
    WANTED_PERSON = "wanted_person"
    MISSING_PERSON = "missing_person"
    PROTECTIVE_ORDER = "protective_order"
    GANG_TERRORIST = "gang_terrorist"
    SEX_OFFENDER = "sex_offender"
    CUSTOM = "custom"


class ListFormat(StrEnum):
    NCIC = "ncic"
    VENDOR = "vendor"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class HotListEntry:
    """One record of a hot list. `plate` went through normalize_plate_pattern (it may hold `*`/`?`),
    `state` through normalize_state; `line` is where it stood in the imported file."""

    plate: str
    state: str | None
    category: str
    priority: int | None = None
    reason: str | None = None
    owner: str | None = None
    make: str | None = None
    colour: str | None = None
    year: int | None = None
    plate_type: str | None = None
    ncic_number: str | None = None
    ori: str | None = None
    case_number: str | None = None
    effective_at: datetime | None = None
    expires_at: datetime | None = None
    line: int | None = None

    def identity(self) -> tuple:
        """What makes two entries the same record (the line it came from does not)."""
        return (self.plate, self.state, self.category, self.priority, self.reason, self.owner, self.make,
                self.colour, self.year, self.plate_type, self.ncic_number, self.ori, self.case_number,
                self.effective_at, self.expires_at)

    def in_force(self, now: datetime) -> bool:
        if self.effective_at is not None and now < self.effective_at:
            return False
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class ListFreshness:
    """What the stale-list check needs to know of a list."""

    list_id: str
    stale_after_hours: int | None
    refreshed_at: datetime | None
    created_at: datetime
    stale_alarm_at: datetime | None


def stale_lists(lists: Iterable[ListFreshness], now: datetime) -> list[str]:
    """Ids of feeds that have not refreshed within their stale_after_hours and carry no alarm yet.

    A list never imported counts from its creation, so a feed that never delivered alarms too."""
    due = []
    for fl in lists:
        if fl.stale_after_hours is None or fl.stale_alarm_at is not None:
            continue
        since = fl.refreshed_at or fl.created_at
        if now - since >= timedelta(hours=fl.stale_after_hours):
            due.append(fl.list_id)
    return due


@dataclass(frozen=True, slots=True)
class HotListsChanged:
    """An agency's hot lists changed (an import, an edit, a shared list applied or dropped), announced after
    commit so that every hub process reloads its index of them now rather than at its next catch-up."""

    agency_id: str
    list_id: str | None  # the list imported or edited; None when which lists apply changed (sharing)
    version: int | None  # the list's new version (None with list_id None)
    origin: str  # the index that made the change: it has swapped already and skips its own announcement
