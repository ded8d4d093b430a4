"""Emergencies declared by agencies: stored, listed per agency, ended early."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from openrtcc.adapters.db.tables import emergency


class SqlEmergencyRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values) -> None:
        self.conn.execute(insert(emergency).values(**values))

    def get(self, agency_id: str, emergency_id: str):
        return self.conn.execute(select(emergency).where(emergency.c.id == emergency_id,
                                                         emergency.c.agency_id == agency_id)).first()

    def active(self, agency_id: str | None, now: datetime) -> list:
        """In force now: not ended and not expired; every agency's when `agency_id` is None."""
        q = select(emergency).where(emergency.c.ended_at.is_(None), emergency.c.expires_at > now)
        if agency_id is not None:
            q = q.where(emergency.c.agency_id == agency_id)
        return list(self.conn.execute(q.order_by(emergency.c.declared_at)))

    def recent(self, agency_id: str, since: datetime, limit: int = 200) -> list:
        q = (select(emergency).where(emergency.c.agency_id == agency_id, emergency.c.declared_at >= since)
             .order_by(emergency.c.declared_at.desc()).limit(limit))
        return list(self.conn.execute(q))

    def end(self, emergency_id: str, at: datetime) -> bool:
        done = self.conn.execute(update(emergency).where(emergency.c.id == emergency_id,
                                                         emergency.c.ended_at.is_(None)).values(ended_at=at))
        return done.rowcount == 1
