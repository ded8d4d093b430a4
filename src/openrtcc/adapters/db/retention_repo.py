"""Legal holds, evidence locks (case reads), retention runs and alert tallies, and the expiry of reads, media references and logs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select, text, update

from openrtcc.adapters.db.expiry_repo import SqlExpiry
from openrtcc.adapters.db.tables import (
    UtcDateTime,
    alert,
    alert_tally,
    audit_log,
    case_read,
    legal_hold,
    plate_read,
    retention_run,
)
from openrtcc.domain.retention import CaseRead, LegalHold, RetentionReport, RetentionRun

PURGE_LOCK_KEY = 0x5254_4343_0001  # "RTCC" + 1: the advisory lock of the retention purge


def _hold(r) -> LegalHold:
    return LegalHold(r.id, r.agency_id, r.case_number, r.reason, r.created_by, r.created_at, r.released_by,
                     r.released_at)


def _case_read(r) -> CaseRead:
    return CaseRead(r.id, r.agency_id, r.case_number, r.read_id, r.alert_id, r.document, r.crop_key,
                    r.snapshot_key, r.locked_by, r.locked_at)


def _run(r) -> RetentionRun:
    report = RetentionReport.model_validate(r.report) if r.report else None
    return RetentionRun(r.id, r.started_at, r.finished_at, r.trigger, r.outcome, r.reason, report)


class SqlRetentionRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.expiry = SqlExpiry(conn)

    # --- legal holds ---
    def add_hold(self, hold: LegalHold) -> None:
        self.conn.execute(insert(legal_hold).values(
            id=hold.id, agency_id=hold.agency_id, case_number=hold.case_number, reason=hold.reason,
            created_by=hold.created_by, created_at=hold.created_at))

    def hold(self, agency_id: str, hold_id: str) -> LegalHold | None:
        r = self.conn.execute(select(legal_hold).where(legal_hold.c.agency_id == agency_id,
                                                       legal_hold.c.id == hold_id)).first()
        return _hold(r) if r else None

    def active_hold(self, agency_id: str, case_number: str) -> LegalHold | None:
        r = self.conn.execute(select(legal_hold).where(
            legal_hold.c.agency_id == agency_id, legal_hold.c.case_number == case_number,
            legal_hold.c.released_at.is_(None))).first()
        return _hold(r) if r else None

    def release_hold(self, hold_id: str, by: str, at: datetime) -> bool:
        res = self.conn.execute(update(legal_hold).where(legal_hold.c.id == hold_id,
                                                         legal_hold.c.released_at.is_(None))
                                .values(released_by=by, released_at=at))
        return res.rowcount == 1

    def holds(self, agency_id: str, active_only: bool = False, limit: int = 500) -> list[LegalHold]:
        q = select(legal_hold).where(legal_hold.c.agency_id == agency_id)
        if active_only:
            q = q.where(legal_hold.c.released_at.is_(None))
        q = q.order_by(legal_hold.c.created_at.desc(), legal_hold.c.id).limit(limit)
        return [_hold(r) for r in self.conn.execute(q)]

    def held_cases(self) -> dict[str, set[str]]:
        """{agency id: case numbers under an active hold}."""
        out: dict[str, set[str]] = {}
        for r in self.conn.execute(select(legal_hold.c.agency_id, legal_hold.c.case_number)
                                   .where(legal_hold.c.released_at.is_(None))):
            out.setdefault(r.agency_id, set()).add(r.case_number)
        return out

    # --- evidence locks ---
    def lock_read(self, agency_id: str, case_number: str, read_id: str, alert_id: str | None, document: dict,
                  crop_key: str | None, snapshot_key: str | None, by: str, at: datetime) -> int:
        res = self.conn.execute(insert(case_read).values(
            agency_id=agency_id, case_number=case_number, read_id=read_id, alert_id=alert_id, document=document,
            crop_key=crop_key, snapshot_key=snapshot_key, locked_by=by, locked_at=at))
        return res.inserted_primary_key[0]

    def case_read(self, agency_id: str, case_number: str, read_id: str) -> CaseRead | None:
        r = self.conn.execute(select(case_read).where(
            case_read.c.agency_id == agency_id, case_read.c.case_number == case_number,
            case_read.c.read_id == read_id)).first()
        return _case_read(r) if r else None

    def case_reads(self, agency_id: str, case_number: str, limit: int = 1000) -> list[CaseRead]:
        q = (select(case_read).where(case_read.c.agency_id == agency_id, case_read.c.case_number == case_number)
             .order_by(case_read.c.locked_at, case_read.c.id).limit(limit))
        return [_case_read(r) for r in self.conn.execute(q)]

    def alerts_of_read(self, agency_id: str, read_id: str) -> list[dict]:
        """The read's alerts as they stand, for the copy a lock keeps."""
        rows = self.conn.execute(select(alert).where(alert.c.agency_id == agency_id, alert.c.read_id == read_id)
                                 .order_by(alert.c.created_at, alert.c.id))
        return [{"id": r.id, "list_id": r.list_id, "entry": r.entry, "match_kind": r.match_kind,
                 "status": r.status, "disposition_at": r.disposition_at.isoformat() if r.disposition_at else None,
                 "disposition_note": r.disposition_note, "created_at": r.created_at.isoformat()} for r in rows]

    # --- runs ---
    def claim_purge(self) -> bool:
        """Whether this transaction may purge: on PostgreSQL one purge at a time across every process (the served
        hub's schedule, a CLI run); SQLite's write lock, taken at BEGIN, already serialises them."""
        if self.conn.dialect.name != "postgresql":
            return True
        return bool(self.conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PURGE_LOCK_KEY}).scalar())

    def add_run(self, report: RetentionReport) -> None:
        self.conn.execute(insert(retention_run).values(
            id=report.run_id, started_at=report.started_at, finished_at=report.finished_at,
            trigger=report.trigger, outcome=report.outcome, reason=report.reason,
            report=report.model_dump(mode="json")))

    def finish_run(self, report: RetentionReport) -> None:
        self.conn.execute(update(retention_run).where(retention_run.c.id == report.run_id).values(
            finished_at=report.finished_at, outcome=report.outcome, reason=report.reason,
            report=report.model_dump(mode="json")))

    def run(self, run_id: str) -> RetentionRun | None:
        r = self.conn.execute(select(retention_run).where(retention_run.c.id == run_id)).first()
        return _run(r) if r else None

    def runs(self, limit: int = 20) -> list[RetentionRun]:
        q = select(retention_run).order_by(retention_run.c.started_at.desc(), retention_run.c.id).limit(limit)
        return [_run(r) for r in self.conn.execute(q)]

    def last_run_started_at(self) -> datetime | None:
        """The start of the last purge the clock check let through (a refused one proves nothing of the clock)."""
        return self.conn.execute(select(func.max(retention_run.c.started_at))
                                 .where(retention_run.c.outcome != "refused")).scalar()

    def newest_stored_at(self) -> datetime | None:
        """The newest time the hub wrote down: of the audit trail and of the reads it received."""
        audit = self.conn.execute(select(audit_log.c.at).order_by(audit_log.c.seq.desc()).limit(1)).scalar()
        # The newest read by its sequence (indexed; on PostgreSQL one probe per partition), not max(received_at),
        # which no index serves: a full scan of every read each hour.
        received = self.conn.execute(select(plate_read.c.received_at).order_by(plate_read.c.seq.desc())
                                     .limit(1)).scalar()
        times = [_aware(t) for t in (audit, received) if t is not None]
        return max(times, default=None)

    # --- alert tallies ---
    def add_tallies(self, agency_id: str, counts: dict[tuple[str, str], int]) -> None:
        """Add (day, status) counts to what earlier purges tallied."""
        for (day, status), n in sorted(counts.items()):
            key = (alert_tally.c.agency_id == agency_id, alert_tally.c.day == day, alert_tally.c.status == status)
            res = self.conn.execute(update(alert_tally).where(*key).values(count=alert_tally.c.count + n))
            if res.rowcount == 0:
                self.conn.execute(insert(alert_tally).values(agency_id=agency_id, day=day, status=status, count=n))

    def tallies(self, agency_id: str) -> dict[tuple[str, str], int]:
        rows = self.conn.execute(select(alert_tally).where(alert_tally.c.agency_id == agency_id))
        return {(r.day, r.status): r.count for r in rows}


def _aware(t) -> datetime:
    return UtcDateTime().process_result_value(t, None)
