"""The search log (structured purposes, plates only as keyed hashes) and supervisor approvals of wide searches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from openrtcc.adapters.db.tables import search_approval, search_log, user
from openrtcc.domain.accounts import Role

_LOG = insert(search_log)  # built once, values as parameters: building `.values(...)` per search cost more


class SqlSearchLogRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    # --- the search log ------------------------------------------------------------------------
    def log(self, **values) -> int:
        """One search (done or refused): agency_id, user_id, kind, purpose, offence, case_number, plate_hash,
        camera_count, approval_id, outcome, at."""
        return self.conn.execute(_LOG, values).inserted_primary_key[0]

    def plate_searches_since(self, user_id: str, plate_hash: str, since: datetime) -> int:
        """How many completed searches this user made for this plate since `since` (the repeat alarm)."""
        return self.conn.execute(select(func.count()).select_from(search_log).where(
            search_log.c.user_id == user_id, search_log.c.plate_hash == plate_hash, search_log.c.at >= since,
            search_log.c.outcome == "done")).scalar_one()

    def supervisors(self, agency_id: str) -> list[str]:
        """The ids of the agency's active supervisors: who hears of prohibited and repeated searches."""
        return list(self.conn.execute(select(user.c.id).where(
            user.c.agency_id == agency_id, user.c.role == Role.SUPERVISOR.value, user.c.disabled.is_(False))
            .order_by(user.c.id)).scalars())

    # --- approvals -----------------------------------------------------------------------------
    def add_approval(self, **values) -> None:
        self.conn.execute(insert(search_approval).values(**values))

    def approval(self, agency_id: str, approval_id: str):
        return self.conn.execute(select(search_approval).where(
            search_approval.c.id == approval_id, search_approval.c.agency_id == agency_id)).first()

    def approvals(self, agency_id: str, *, status: str | None = None, requested_by: str | None = None,
                  limit: int = 200) -> list:
        q = select(search_approval).where(search_approval.c.agency_id == agency_id)
        if status is not None:
            q = q.where(search_approval.c.status == status)
        if requested_by is not None:
            q = q.where(search_approval.c.requested_by == requested_by)
        return list(self.conn.execute(q.order_by(search_approval.c.created_at.desc()).limit(limit)))

    def decide(self, approval_id: str, status: str, by: str, at: datetime, note: str | None) -> bool:
        """Only a pending approval is decided; False when another supervisor decided it first."""
        return self.conn.execute(update(search_approval).where(
            search_approval.c.id == approval_id, search_approval.c.status == "pending").values(
            status=status, decided_by=by, decided_at=at, decision_note=note)).rowcount == 1
