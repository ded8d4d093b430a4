"""Each agency's governance settings; an agency without a row has the defaults of domain.governance."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openrtcc.adapters.db.tables import agency_governance
from openrtcc.domain.governance import AgencyGovernance, AgencyKind


def _governance(row) -> AgencyGovernance:
    return AgencyGovernance(
        agency_id=row.agency_id, kind=AgencyKind(row.kind), retention_days=row.retention_days,
        prohibited_purposes=frozenset(row.prohibited_purposes or ()), search_camera_limit=row.search_camera_limit,
        repeat_search_threshold=row.repeat_search_threshold,
        repeat_search_window=timedelta(hours=row.repeat_search_window_hours), policy_text=row.policy_text or "")


class SqlGovernanceRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, agency_id: str) -> AgencyGovernance:
        row = self.conn.execute(select(agency_governance).where(agency_governance.c.agency_id == agency_id)).first()
        return _governance(row) if row else AgencyGovernance(agency_id)

    def all(self) -> dict[str, AgencyGovernance]:
        """Every agency's stored settings (agencies without a row are absent: use get() for the defaults)."""
        return {r.agency_id: _governance(r) for r in self.conn.execute(select(agency_governance))}

    def save(self, g: AgencyGovernance, by: str | None, at: datetime) -> None:
        values = {"kind": g.kind.value, "retention_days": g.retention_days,
                  "prohibited_purposes": sorted(g.prohibited_purposes),
                  "search_camera_limit": g.search_camera_limit, "repeat_search_threshold": g.repeat_search_threshold,
                  "repeat_search_window_hours": int(g.repeat_search_window / timedelta(hours=1)),
                  "policy_text": g.policy_text, "updated_by": by, "updated_at": at}
        ins = (pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert)(agency_governance)
        self.conn.execute(ins.values(agency_id=g.agency_id, **values)
                          .on_conflict_do_update(index_elements=["agency_id"], set_=values))

    def set_kind(self, agency_id: str, kind: AgencyKind, by: str | None, at: datetime) -> None:
        current = self.get(agency_id)
        if self.conn.execute(select(agency_governance.c.agency_id)
                             .where(agency_governance.c.agency_id == agency_id)).first() is None:
            self.save(AgencyGovernance(agency_id, kind=kind, prohibited_purposes=current.prohibited_purposes),
                      by, at)
            return
        self.conn.execute(update(agency_governance).where(agency_governance.c.agency_id == agency_id)
                          .values(kind=kind.value, updated_by=by, updated_at=at))
