"""Read sources: each scoped to its agency; looked up by the sha256 of its key, never by the key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from openrtcc.adapters.db.tables import read_source

_PUBLIC = [c for c in read_source.c if c.name != "key_hash"]


class SqlReadSourceRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values) -> None:
        self.conn.execute(insert(read_source).values(**values))

    def by_key_hash(self, key_hash: str):
        return self.conn.execute(select(*_PUBLIC).where(read_source.c.key_hash == key_hash)).first()

    def for_agency(self, agency_id: str) -> list:
        return list(self.conn.execute(select(*_PUBLIC).where(read_source.c.agency_id == agency_id)
                                      .order_by(read_source.c.created_at, read_source.c.id)))

    def get(self, agency_id: str, source_id: str):
        return self.conn.execute(select(*_PUBLIC).where(read_source.c.agency_id == agency_id,
                                                        read_source.c.id == source_id)).first()

    def revoke(self, agency_id: str, source_id: str, at: datetime) -> bool:
        return self.conn.execute(update(read_source).where(
            read_source.c.agency_id == agency_id, read_source.c.id == source_id, read_source.c.revoked_at.is_(None),
        ).values(revoked_at=at)).rowcount == 1
