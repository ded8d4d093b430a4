"""Retention on the hub as pure plans: each agency's cutoff, whether the clock can be trusted to judge age,
which stored files no row references, and the shape of the deletion report each purge leaves."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.governance import (
    AUDIT_RETENTION_DAYS,
    DEFAULT_RETENTION_DAYS,
    MAX_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    AgencyGovernance,
)

# A file written just before its row is committed (ingest stores images first) is not an orphan yet.
ORPHAN_GRACE = timedelta(hours=1)
# The prefixes of the media store whose files belong to rows the purge manages.
MEDIA_PREFIXES = ("reads/", "evidence/", "tips/")
# What a purge counts as deleted (report totals, metrics): tables, and "files".
DELETED_KINDS = ("plate_read", "alert", "alert_action", "evidence_item", "edge_clip", "case_read", "tip", "notice",
                 "delivery", "search_log", "search_approval", "outbox", "rate_limit_hit", "webhook_delivery_seen",
                 "camera_access", "edge_access", "live_session", "files")
MAX_EXAMPLES = 50  # orphans and missing files named in a report; the counts are always whole

_CASE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{1,63}$")
MIN_REASON, MAX_REASON = 3, 300


@dataclass(frozen=True, slots=True)
class AgencyCutoff:
    """What of one agency expires: data captured or stored before `cutoff`, owners' access logs before
    `access_log_cutoff` (kept a year, as the audit trail is)."""

    agency_id: str
    retention_days: int
    cutoff: datetime
    access_log_cutoff: datetime


@dataclass(frozen=True, slots=True)
class HubExpiryPlan:
    agencies: tuple[AgencyCutoff, ...]
    hub_cutoff: datetime  # hub-wide logs (rate-limit hits, seen webhook ids, dispatched outbox): the strictest
    partition_cutoff: datetime | None  # a whole time partition may go only once every agency is past it
    access_log_cutoff: datetime

    def for_agency(self, agency_id: str) -> AgencyCutoff:
        return next(a for a in self.agencies if a.agency_id == agency_id)


def effective_days(g: AgencyGovernance | None) -> int:
    """The agency's retention, clamped to the promise whatever was stored: never past 30 days."""
    days = g.retention_days if g is not None else DEFAULT_RETENTION_DAYS
    return max(MIN_RETENTION_DAYS, min(MAX_RETENTION_DAYS, int(days)))


def plan_hub_expiry(agency_ids: Iterable[str], governance: Mapping[str, AgencyGovernance],
                    now: datetime) -> HubExpiryPlan:
    """Each agency's cutoff from its own retention (defaults where it set none)."""
    access = now - timedelta(days=AUDIT_RETENTION_DAYS)
    cutoffs = tuple(AgencyCutoff(a, d, now - timedelta(days=d), access)
                    for a in sorted(set(agency_ids)) for d in [effective_days(governance.get(a))])
    strictest = now - timedelta(days=min((c.retention_days for c in cutoffs), default=MAX_RETENTION_DAYS))
    earliest = min((c.cutoff for c in cutoffs), default=None)
    return HubExpiryPlan(cutoffs, strictest, earliest, access)


@dataclass(frozen=True, slots=True)
class ClockCheck:
    status: Literal["ok", "behind_last_run", "behind_stored", "jumped_forward"]
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def check_clock(now: datetime, last_run_started_at: datetime | None, newest_stored_at: datetime | None,
                max_jump: timedelta) -> ClockCheck:
    """Age is judged by the wall clock, so a clock set weeks ahead would delete everything: refuse when now is
    before the last purge or the newest stored record (the clock went back), or further past the last purge
    than the schedule explains (it jumped ahead). The first purge has only the stored records to go by."""
    if last_run_started_at is not None and now < last_run_started_at:
        return ClockCheck("behind_last_run", f"the clock ({now.isoformat()}) is before the last purge "
                                             f"({last_run_started_at.isoformat()})")
    if newest_stored_at is not None and now < newest_stored_at:
        return ClockCheck("behind_stored", f"the clock ({now.isoformat()}) is before the newest stored record "
                                           f"({newest_stored_at.isoformat()})")
    if last_run_started_at is not None and now - last_run_started_at > max_jump:
        hours = (now - last_run_started_at) / timedelta(hours=1)
        return ClockCheck("jumped_forward", f"{hours:.1f} h since the last purge, more than the "
                                            f"{max_jump / timedelta(hours=1):g} h allowed: the clock may have "
                                            "jumped ahead")
    return ClockCheck("ok")


def agency_of_key(key: str) -> str | None:
    """Media keys are `<kind>/<agency_id>/...`."""
    parts = key.split("/")
    return parts[1] if len(parts) > 2 else None


def orphan_candidates(stored: Iterable[tuple[str, datetime]], now: datetime,
                      grace: timedelta = ORPHAN_GRACE) -> list[str]:
    """Files old enough that a missing row means an orphan, not a write whose row is about to commit."""
    return [key for key, mtime in stored if now - mtime > grace]


def unreferenced(candidates: Iterable[str], referenced: set[str]) -> list[str]:
    """Files of expired rows that no remaining row (another read with the same image, a case read) needs."""
    return sorted({k for k in candidates if k and k not in referenced})


def validate_case_number(case_number: str | None) -> str:
    case = (case_number or "").strip()
    if not _CASE_RE.match(case):
        raise InvalidInput("case number: 2-64 letters, digits and . _ / - (for example 2026-001234)",
                           code="bad_case_number", details={"field": "case_number"})
    return case


def validate_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not MIN_REASON <= len(text) <= MAX_REASON:
        raise InvalidInput(f"reason: {MIN_REASON} to {MAX_REASON} characters (the order, the matter)",
                           code="bad_reason", details={"field": "reason"})
    return text


@dataclass(frozen=True, slots=True)
class LegalHold:
    id: str
    agency_id: str
    case_number: str
    reason: str
    created_by: str
    created_at: datetime
    released_by: str | None
    released_at: datetime | None

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True, slots=True)
class CaseRead:
    id: int
    agency_id: str
    case_number: str
    read_id: str
    alert_id: str | None
    document: dict
    crop_key: str | None
    snapshot_key: str | None
    locked_by: str
    locked_at: datetime


class MissingFile(BaseModel):
    kind: str  # plate_read | case_read | evidence_item | edge_clip | tip
    id: str
    key: str


class AgencyDeletion(BaseModel):
    """One agency's part of a purge."""

    agency_id: str
    retention_days: int
    cutoff: datetime
    deleted: dict[str, int] = Field(default_factory=dict)  # rows per table (plate_read, alert, ...)
    kept_by_holds: dict[str, int] = Field(default_factory=dict)  # rows past the cutoff a legal hold keeps
    held_cases: list[str] = Field(default_factory=list)
    files_deleted: int = 0
    orphan_files_deleted: int = 0
    orphan_examples: list[str] = Field(default_factory=list)
    missing_files: int = 0
    missing_examples: list[MissingFile] = Field(default_factory=list)


class RetentionReport(BaseModel):
    """The deletion report a purge leaves in retention_run.report (and, per agency, on the governance page)."""

    run_id: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: Literal["running", "done", "refused", "failed"] = "running"
    reason: str | None = None
    dry_run: bool = False
    clock: str = "ok"  # the clock check's status
    accepted_clock_jump: bool = False
    agencies: list[AgencyDeletion] = Field(default_factory=list)
    hub_deleted: dict[str, int] = Field(default_factory=dict)  # hub-wide logs and owners' access logs
    partitions_dropped: list[str] = Field(default_factory=list)
    partition_reads: int = 0
    partitions_busy: list[str] = Field(default_factory=list)  # due, but the table lock was not had: next run
    orphan_files_unowned: int = 0  # orphans under a key that names no agency
    storage: str = ""  # how the database made the deletion real (secure_delete + checkpoint, or VACUUM note)

    def for_agency(self, agency_id: str) -> RetentionReport:
        """The report as one agency may see it: its own section only; of the hub-wide figures, only those that
        say nothing of another agency's volume (which days' partitions went, not how many reads they held)."""
        return self.model_copy(update={"agencies": [a for a in self.agencies if a.agency_id == agency_id],
                                       "partition_reads": 0, "orphan_files_unowned": 0, "hub_deleted": {}})

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = dict(self.hub_deleted)
        for a in self.agencies:
            for k, n in a.deleted.items():
                out[k] = out.get(k, 0) + n
            out["files"] = out.get("files", 0) + a.files_deleted + a.orphan_files_deleted
        return out


@dataclass(frozen=True, slots=True)
class RetentionRun:
    id: str
    started_at: datetime
    finished_at: datetime | None
    trigger: str
    outcome: str
    reason: str | None
    report: RetentionReport | None
