"""Retention: legal holds, evidence locks, purge runs and their deletion reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from openrtcc.services import legal_holds, retention
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.retention_schemas import CaseReadOut, HoldIn, HoldOut, LockIn, RunIn, RunOut

router = APIRouter(prefix="/api/retention", tags=["retention"])

# Case numbers may hold a slash (2026/0042): the path converter takes it, the pattern (the domain's) bounds it.
Case = Annotated[str, Path(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]{1,63}$",
                           description="A case number")]
Id = Annotated[str, Path(max_length=36)]


@router.get("/holds")
def list_holds(actor: AgencyActor, hub: HubDep, active: bool = Query(False)) -> list[HoldOut]:
    """The agency's legal holds, newest first (only active ones with ?active=true)."""
    return [HoldOut.of(h) for h in legal_holds.list_holds(hub, actor, active)]


@router.post("/holds", status_code=201)
def place_hold(body: HoldIn, actor: AgencyActor, hub: HubDep) -> HoldOut:
    """Keep a case's clips, uploads and locked reads past retention until released."""
    return HoldOut.of(legal_holds.place_hold(hub, actor, body.case_number, body.reason))


@router.post("/holds/{hold_id}/release")
def release_hold(hold_id: Id, actor: AgencyActor, hub: HubDep) -> HoldOut:
    return HoldOut.of(legal_holds.release_hold(hub, actor, hold_id))


@router.get("/cases/{case_number:path}/reads")
def case_reads(case_number: Case, actor: AgencyActor, hub: HubDep) -> list[CaseReadOut]:
    return [CaseReadOut.of(c) for c in legal_holds.case_reads(hub, actor, case_number)]


@router.post("/cases/{case_number:path}/reads", status_code=201)
def lock_read(case_number: Case, body: LockIn, actor: AgencyActor, hub: HubDep) -> CaseReadOut:
    """Copy a read (and its alerts) into a held case, so that it outlives the read's expiry."""
    return CaseReadOut.of(legal_holds.lock_read(hub, actor, case_number, body.read_id))


@router.get("/runs")
def list_runs(actor: AgencyActor, hub: HubDep, limit: int = Query(20, ge=1, le=200)) -> list[RunOut]:
    """The latest purges with their deletion reports (this agency's part of each)."""
    return [RunOut.of(r) for r in retention.list_runs(hub, actor, limit)]


@router.get("/runs/{run_id}")
def get_run(run_id: Id, actor: AgencyActor, hub: HubDep) -> RunOut:
    return RunOut.of(retention.get_run(hub, actor, run_id))


@router.post("/run")
def run(body: RunIn, actor: AgencyActor, hub: HubDep) -> RunOut:
    """Run the purge now (administrators). Refused while the clock looks wrong unless accept_clock_jump."""
    report = retention.run_by(hub, actor, body.accept_clock_jump, body.dry_run)
    return RunOut(id=report.run_id, started_at=report.started_at, finished_at=report.finished_at,
                  trigger=report.trigger, outcome=report.outcome, reason=report.reason, report=report)
