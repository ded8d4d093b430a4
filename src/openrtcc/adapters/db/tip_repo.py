"""Public tips and the public forms' rate-limit counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from openrtcc.adapters.db.tables import rate_limit_hit, tip, user

OPEN_STATUSES = ("new", "reviewed")


class SqlTipRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values) -> None:
        self.conn.execute(insert(tip).values(**values))

    def get(self, agency_id: str, tip_id: str, *, for_update: bool = False):
        q = (select(tip, user.c.display_name.label("reviewer_name"))
             .outerjoin(user, user.c.id == tip.c.reviewed_by)
             .where(tip.c.id == tip_id, tip.c.agency_id == agency_id))
        if for_update and self.conn.dialect.name == "postgresql":
            q = q.with_for_update(of=tip)
        return self.conn.execute(q).first()

    def newest(self, agency_id: str, statuses: tuple[str, ...] | None, limit: int) -> list:
        q = (select(tip, user.c.display_name.label("reviewer_name"))
             .outerjoin(user, user.c.id == tip.c.reviewed_by).where(tip.c.agency_id == agency_id))
        if statuses is not None:
            q = q.where(tip.c.status.in_(statuses))
        return list(self.conn.execute(q.order_by(tip.c.created_at.desc(), tip.c.id).limit(limit)))

    def set_status(self, agency_id: str, tip_id: str, was: str, status: str, by: str, at: datetime,
                   incident_id: str | None = None) -> bool:
        """Moves the tip only from the status the caller saw: a concurrent change makes this return False."""
        values = {"status": status, "reviewed_by": by, "reviewed_at": at}
        if incident_id:
            values["incident_id"] = incident_id
        done = self.conn.execute(update(tip).where(tip.c.id == tip_id, tip.c.agency_id == agency_id,
                                                   tip.c.status == was).values(**values))
        return done.rowcount == 1

    def expired(self, before: datetime, limit: int = 500) -> list:
        """Tips sent before `before` that did not become part of an incident's record: (id, media_key)."""
        q = (select(tip.c.id, tip.c.media_key).where(tip.c.created_at < before, tip.c.status != "promoted")
             .order_by(tip.c.created_at).limit(limit))
        return list(self.conn.execute(q))

    def delete(self, tip_ids: list[str]) -> None:
        self.conn.execute(delete(tip).where(tip.c.id.in_(tip_ids)))

    # rate limits of the public forms, per keyed hash of the client (never its address)
    def hits(self, bucket: str, client_hash: str, since: datetime) -> list[datetime]:
        q = select(rate_limit_hit.c.at).where(rate_limit_hit.c.bucket == bucket,
                                              rate_limit_hit.c.client_hash == client_hash,
                                              rate_limit_hit.c.at > since)
        return [r.at for r in self.conn.execute(q)]

    def add_hit(self, bucket: str, client_hash: str, at: datetime) -> None:
        self.conn.execute(insert(rate_limit_hit).values(bucket=bucket, client_hash=client_hash, at=at))

    def forget_hits(self, before: datetime) -> int:
        """Counts older than every window are of no more use: they are deleted, not kept."""
        return self.conn.execute(delete(rate_limit_hit).where(rate_limit_hit.c.at < before)).rowcount

    def count_hits(self, bucket: str) -> int:
        return self.conn.execute(select(func.count()).select_from(rate_limit_hit)
                                 .where(rate_limit_hit.c.bucket == bucket)).scalar_one()
