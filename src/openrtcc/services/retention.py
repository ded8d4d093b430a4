"""The hub's retention purge: expire each agency's reads, alerts, clips, tips, notices and search logs at its
cutoff (legal holds keep their cases), delete the files no row needs any more, reconcile the media store with
the database both ways, and leave a deletion report, refusing to judge age by a clock that jumped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from openrtcc.domain.accounts import Permission, Role, has_permission
from openrtcc.domain.erasures import ErasureKind
from openrtcc.domain.errors import Conflict, Forbidden, NotFound
from openrtcc.domain.retention import (
    DELETED_KINDS,
    MAX_EXAMPLES,
    MEDIA_PREFIXES,
    AgencyDeletion,
    HubExpiryPlan,
    MissingFile,
    RetentionReport,
    RetentionRun,
    agency_of_key,
    check_clock,
    orphan_candidates,
    plan_hub_expiry,
    unreferenced,
)
from openrtcc.services import erasures
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)

DEFAULT_MAX_CLOCK_JUMP = timedelta(hours=36)
SWEEP_BATCH = 500
_RUNNING = threading.Lock()  # one purge at a time in this process (the schedule, the CLI, the API)


def system_actor() -> Actor:
    return Actor("system:retention", Role.ADMIN, None, "retention")


def run_purge(hub: Hub, trigger: str = "schedule", accept_clock_jump: bool = False, *,
              actor: Actor | None = None, dry_run: bool = False) -> RetentionReport:
    """One purge over every agency. Refused (and reported) when the clock looks wrong unless the operator
    accepts the jump; a dry run counts what would go and changes nothing."""
    if not _RUNNING.acquire(blocking=False):
        raise Conflict("a retention purge is already running", code="purge_running")
    try:
        return _Purge(hub, actor or system_actor(), trigger, accept_clock_jump, dry_run).run()
    finally:
        _RUNNING.release()


def run_by(hub: Hub, actor: Actor, accept_clock_jump: bool = False, dry_run: bool = False) -> RetentionReport:
    """A purge asked for by an administrator (the API): the report comes back as that agency may see it."""
    if not has_permission(actor.role, Permission.RUN_RETENTION) or actor.agency_id is None:
        with hub.uow() as uow:
            uow.record(actor.entry("retention.purge", None, outcome="denied", reason="permission_denied",
                                   accept_clock_jump=accept_clock_jump))
            uow.commit()
        raise Forbidden(f"the {actor.role} role may not run the retention purge", code="permission_denied")
    return run_purge(hub, "api", accept_clock_jump, actor=actor, dry_run=dry_run).for_agency(actor.agency_id)


def _report_reader(actor: Actor) -> str:
    if actor.agency_id is None or not (has_permission(actor.role, Permission.RUN_RETENTION)
                                       or has_permission(actor.role, Permission.READ_AUDIT)):
        raise Forbidden(f"the {actor.role} role may not read deletion reports", code="permission_denied")
    return actor.agency_id


def list_runs(hub: Hub, actor: Actor, limit: int = 20) -> list[RetentionRun]:
    """The latest purges, each report cut down to the reader's agency."""
    agency_id = _report_reader(actor)
    with hub.uow() as uow:
        runs = uow.retention.runs(limit)
    return [_scoped(r, agency_id) for r in runs]


def get_run(hub: Hub, actor: Actor, run_id: str) -> RetentionRun:
    agency_id = _report_reader(actor)
    with hub.uow() as uow:
        run = uow.retention.run(run_id)
    if run is None:
        raise NotFound("no such retention run", code="no_run")
    return _scoped(run, agency_id)


def _scoped(run: RetentionRun, agency_id: str) -> RetentionRun:
    report = run.report.for_agency(agency_id) if run.report else None
    return RetentionRun(run.id, run.started_at, run.finished_at, run.trigger, run.outcome, run.reason, report)


class _Purge:
    def __init__(self, hub: Hub, actor: Actor, trigger: str, accept_clock_jump: bool, dry_run: bool):
        self.hub, self.actor, self.dry_run = hub, actor, dry_run
        self.now = hub.clock.now()
        self.report = RetentionReport(run_id=hub.ids.new_id(), trigger=trigger, started_at=self.now,
                                      dry_run=dry_run, accepted_clock_jump=accept_clock_jump)
        self.max_jump: timedelta = hub.extras.get("retention_max_clock_jump", DEFAULT_MAX_CLOCK_JUMP)
        self.files: dict[str, list[str]] = {}

    def run(self) -> RetentionReport:
        if not self._expire_rows():
            return self.report
        try:
            if not self.dry_run:
                self._delete_files()
            self._reconcile()
            finish: Callable[[], str] | None = self.hub.extras.get("retention_finish_storage")
            if finish is not None and not self.dry_run:
                self.report.storage = finish()
            self.report.outcome = "done"
        except Exception as exc:
            log.exception("retention run %s: the file sweep failed", self.report.run_id)
            self.report.outcome, self.report.reason = "failed", f"file sweep: {type(exc).__name__}"
        self.report.finished_at = self.hub.clock.now()
        if not self.dry_run:
            with self.hub.uow() as uow:
                uow.retention.finish_run(self.report)
                uow.commit_bookkeeping()  # the purge's audit record went with its deletions
        log.info("retention run %s: %s, %s", self.report.run_id, self.report.outcome, self.report.totals())
        if not self.dry_run:
            self._measure()
        return self.report

    def _measure(self) -> None:
        metrics = self.hub.metrics
        metrics.count("rtcc_retention_runs_total", outcome=self.report.outcome)
        for kind, n in self.report.totals().items():
            if n and kind in DELETED_KINDS:
                metrics.count("rtcc_retention_deleted_total", n, kind=kind)
        if self.report.outcome == "done" and self.report.finished_at is not None:
            metrics.gauge("rtcc_retention_last_success_timestamp_seconds", self.report.finished_at.timestamp())

    # --- rows: one transaction, together with the run and its audit record ---
    def _expire_rows(self) -> bool:
        with self.hub.uow() as uow:
            if not uow.retention.claim_purge():
                raise Conflict("a retention purge is already running in another process", code="purge_running")
            check = check_clock(self.now, uow.retention.last_run_started_at(), uow.retention.newest_stored_at(),
                                self.max_jump)
            self.report.clock = check.status
            if not check.ok and not self.report.accepted_clock_jump:
                uow.rollback()
                self._refuse(check.reason or check.status)
                return False
            if not check.ok:
                self.report.reason = f"clock check overridden by the operator: {check.reason}"
            try:
                plan = plan_hub_expiry(uow.retention.expiry.agency_ids(), uow.governance.all(), self.now)
                self._expire(uow, plan, uow.retention.held_cases())
            except Exception as exc:
                uow.rollback()
                self._fail(exc)
                raise
            if self.dry_run:
                uow.rollback()
                self._audit_dry_run()
                return True
            uow.retention.add_run(self.report)
            uow.record(self.actor.entry(
                "retention.purge", self.report.run_id, trigger=self.report.trigger, clock=check.status,
                accepted_clock_jump=self.report.accepted_clock_jump, deleted=self._audited_totals(),
                partitions_dropped=len(self.report.partitions_dropped)))
            uow.commit()
        return True

    def _audited_totals(self) -> dict[str, int]:
        """An agency's administrator's purge is recorded in that agency's trail: with its own counts only (the
        whole report is in retention_run); the schedule's and the CLI's, hub-wide, with every count."""
        agency_id = self.actor.agency_id
        return self.report.for_agency(agency_id).totals() if agency_id else self.report.totals()

    def _expire(self, uow, plan: HubExpiryPlan, held: dict[str, set[str]]) -> None:
        ex, candidates = uow.retention.expiry, {}
        for c in plan.agencies:
            sec = AgencyDeletion(agency_id=c.agency_id, retention_days=c.retention_days, cutoff=c.cutoff,
                                 held_cases=sorted(held.get(c.agency_id, ())))
            counts, candidates[c.agency_id] = _expire_alerts(uow, c.agency_id, c.cutoff)
            sec.deleted.update(counts)
            self.report.agencies.append(sec)
        # Whole days every agency is past go as a partition drop; what is left (the default partition, a plain
        # table, agencies with shorter windows) by DELETE below.
        if plan.partition_cutoff is not None and not self.dry_run and uow.read_partitions.is_partitioned():
            dropped = uow.read_partitions.drop_older_than(plan.partition_cutoff)
            self.report.partitions_dropped, self.report.partition_reads = list(dropped.names), dropped.reads
            self.report.partitions_busy = list(dropped.busy)
        for sec in self.report.agencies:
            deleted, sec.kept_by_holds, keys = _expire_rest(uow, sec.agency_id, sec.cutoff,
                                                            held.get(sec.agency_id, set()))
            sec.deleted.update(deleted)
            candidates[sec.agency_id] |= keys
        self.report.hub_deleted = {**ex.expire_hub_logs(plan.hub_cutoff),
                                   **ex.expire_access_logs(plan.access_log_cutoff)}
        still = ex.referenced(k for keys in candidates.values() for k in keys)
        self.files = {a: unreferenced(keys, still) for a, keys in candidates.items()}
        if not self.dry_run:
            self._journal(plan)

    def _journal(self, plan: HubExpiryPlan) -> None:
        """Each agency's cutoff and the cases held at it go to the erasure journal with the deletions, so a
        restored backup loses the same rows (services/erasures.py)."""
        for sec in self.report.agencies:
            erasures.note(self.hub, ErasureKind.RETENTION_CUTOFF, agency_id=sec.agency_id, cutoff=sec.cutoff,
                          held_cases=tuple(sec.held_cases), target=self.report.run_id, by=self.actor.user_id)
        erasures.note(self.hub, ErasureKind.HUB_LOG_CUTOFF, cutoff=plan.hub_cutoff,
                      access_cutoff=plan.access_log_cutoff, target=self.report.run_id, by=self.actor.user_id)

    def _refuse(self, reason: str) -> None:
        self.report.outcome, self.report.reason, self.report.finished_at = "refused", reason, self.now
        log.warning("retention purge refused: %s", reason)
        self.hub.metrics.count("rtcc_retention_runs_total", outcome="refused")
        with self.hub.uow() as uow:
            if not self.dry_run:
                uow.retention.add_run(self.report)
            uow.record(self.actor.entry("retention.purge", self.report.run_id, outcome="refused", reason=reason,
                                        clock=self.report.clock, trigger=self.report.trigger,
                                        dry_run=self.dry_run))
            uow.commit()

    def _fail(self, exc: Exception) -> None:
        self.report.outcome, self.report.finished_at = "failed", self.hub.clock.now()
        self.report.reason = f"nothing was deleted: {type(exc).__name__}"
        self.hub.metrics.count("rtcc_retention_runs_total", outcome="failed")
        self.report.agencies, self.report.hub_deleted, self.report.partitions_dropped = [], {}, []
        with self.hub.uow() as uow:
            if not self.dry_run:
                uow.retention.add_run(self.report)
            uow.record(self.actor.entry("retention.purge", self.report.run_id, outcome="failed",
                                        reason=self.report.reason, trigger=self.report.trigger))
            uow.commit()

    def _audit_dry_run(self) -> None:
        with self.hub.uow() as uow:
            uow.record(self.actor.entry("retention.dry_run", self.report.run_id, trigger=self.report.trigger,
                                        would_delete=self._audited_totals()))
            uow.commit()

    # --- files: after the rows are gone, so a failed transaction never leaves a row without its file ---
    def _delete_files(self) -> None:
        for sec in self.report.agencies:
            for key in self.files.get(sec.agency_id, []):
                if self._delete(key):
                    sec.files_deleted += 1

    def _delete(self, key: str) -> bool:
        try:
            self.hub.media.delete(key)
            return True
        except OSError:  # the next run's orphan sweep finds it again
            log.exception("retention: could not delete a media file")
            return False

    def _reconcile(self) -> None:
        """Files no row names (older than the grace, so not a write about to commit) are deleted; rows whose
        file is missing are reported, never silently fixed."""
        sections = {s.agency_id: s for s in self.report.agencies}
        for prefix in MEDIA_PREFIXES:
            batch: list[str] = []
            for key in orphan_candidates(self.hub.media.iter_keys(prefix), self.hub.clock.now()):
                batch.append(key)
                if len(batch) >= SWEEP_BATCH:
                    self._sweep(batch, sections)
                    batch = []
            self._sweep(batch, sections)
        with self.hub.uow().reading() as uow:
            for kind, row_id, key in uow.retention.expiry.media_rows():
                if self.hub.media.exists(key):
                    continue
                sec = sections.get(agency_of_key(key) or "")
                if sec is not None:
                    sec.missing_files += 1
                    if len(sec.missing_examples) < MAX_EXAMPLES:
                        sec.missing_examples.append(MissingFile(kind=kind, id=row_id, key=key))

    def _sweep(self, keys: list[str], sections: dict[str, AgencyDeletion]) -> None:
        if not keys:
            return
        with self.hub.uow().reading() as uow:
            referenced = uow.retention.expiry.referenced(keys)
        for key in keys:
            if key in referenced or (not self.dry_run and not self._delete(key)):
                continue
            sec = sections.get(agency_of_key(key) or "")
            if sec is None:
                self.report.orphan_files_unowned += 1
                continue
            sec.orphan_files_deleted += 1
            if len(sec.orphan_examples) < MAX_EXAMPLES:
                sec.orphan_examples.append(key)


def _expire_alerts(uow, agency_id: str, cutoff: datetime) -> tuple[dict[str, int], set[str]]:
    """The alerts on an agency's expiring reads (tallied first: the portal's misread rate outlives the alerts
    without keeping a plate), and the media keys of those reads. Before any partition drop takes the reads."""
    ex = uow.retention.expiry
    for owner, counts in ex.tally_expiring_alerts(agency_id, cutoff).items():
        uow.retention.add_tallies(owner, counts)
    alerts, actions = ex.delete_expiring_alerts(agency_id, cutoff)
    keys = ex.expiring_read_media(agency_id, cutoff)
    return {"plate_read": ex.count_expiring_reads(agency_id, cutoff), "alert": alerts, "alert_action": actions}, keys


def _expire_rest(uow, agency_id: str, cutoff: datetime,
                 held: set[str]) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """(deleted counts, kept by holds, media keys now candidates) of an agency's rows past `cutoff` but those of
    held cases."""
    ex = uow.retention.expiry
    ex.delete_reads(agency_id, cutoff)
    deleted, kept, evidence_keys = ex.expire_case_evidence(agency_id, cutoff, held)
    case_reads, kept_reads, case_keys = ex.expire_case_reads(agency_id, cutoff, held)
    tips, tip_keys = ex.expire_tips(agency_id, cutoff)
    notices, deliveries = ex.expire_notices(agency_id, cutoff)
    deleted = {**deleted, "case_read": case_reads, "tip": tips, "notice": notices, "delivery": deliveries,
               "search_log": ex.expire_search_log(agency_id, cutoff),
               "search_approval": ex.expire_search_approvals(agency_id, cutoff)}
    return deleted, {**kept, "case_read": kept_reads}, evidence_keys | case_keys | tip_keys


def expire_agency_rows(uow, agency_id: str, cutoff: datetime, held: set[str]) -> tuple[dict[str, int], set[str]]:
    """Everything of one agency past `cutoff` but the held cases, by DELETE, in the caller's transaction: what a
    restore replays from the erasure journal. Returns (deleted counts, media keys the rows named)."""
    counts, keys = _expire_alerts(uow, agency_id, cutoff)
    deleted, _kept, more = _expire_rest(uow, agency_id, cutoff, held)
    return {**counts, **deleted}, keys | more
