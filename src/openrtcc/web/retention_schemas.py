"""Request and response models of /api/retention: legal holds, locked case reads and purge runs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from openrtcc.domain.retention import CaseRead, LegalHold, RetentionReport, RetentionRun
from openrtcc.web.schemas import Strict


class HoldIn(Strict):
    case_number: str = Field(min_length=1, max_length=64, description="The case the hold keeps, e.g. 2026-001234.")
    reason: str = Field(min_length=1, max_length=300, description="Why: the order, preservation letter or matter.")


class HoldOut(BaseModel):
    id: str
    case_number: str
    reason: str
    created_by: str
    created_at: datetime
    released_by: str | None
    released_at: datetime | None
    active: bool

    @classmethod
    def of(cls, h: LegalHold) -> HoldOut:
        return cls(id=h.id, case_number=h.case_number, reason=h.reason, created_by=h.created_by,
                   created_at=h.created_at, released_by=h.released_by, released_at=h.released_at, active=h.active)


class LockIn(Strict):
    read_id: str = Field(min_length=1, max_length=36, description="The plate read to copy into the case.")


class CaseReadOut(BaseModel):
    id: int
    case_number: str
    read_id: str
    alert_id: str | None
    plate: str | None
    state: str | None
    camera_id: str | None
    captured_at: datetime | None
    alerts: list[dict]
    locked_by: str
    locked_at: datetime

    @classmethod
    def of(cls, c: CaseRead) -> CaseReadOut:
        read = c.document.get("read", {})
        return cls(id=c.id, case_number=c.case_number, read_id=c.read_id, alert_id=c.alert_id,
                   plate=read.get("plate"), state=read.get("state"), camera_id=read.get("camera_id"),
                   captured_at=read.get("captured_at"), alerts=c.document.get("alerts", []),
                   locked_by=c.locked_by, locked_at=c.locked_at)


class RunIn(Strict):
    accept_clock_jump: bool = Field(False, description="Run although the clock check failed (audited): only once "
                                                       "the clock is known to be right.")
    dry_run: bool = Field(False, description="Count what would be deleted; delete nothing.")


class RunOut(BaseModel):
    id: str
    started_at: datetime
    finished_at: datetime | None
    trigger: str
    outcome: str
    reason: str | None
    report: RetentionReport | None

    @classmethod
    def of(cls, r: RetentionRun) -> RunOut:
        return cls(id=r.id, started_at=r.started_at, finished_at=r.finished_at, trigger=r.trigger,
                   outcome=r.outcome, reason=r.reason, report=r.report)
