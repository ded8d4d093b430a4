"""Subscribers, notices and the delivery log (retry queue and dead letters)."""

from __future__ import annotations

from sqlalchemy import Connection

from openrtcc.adapters.db.tables import delivery, notice, subscriber  # noqa: F401  (queries to come with their use cases)


class SqlDisseminationRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
