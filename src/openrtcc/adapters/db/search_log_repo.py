"""The search log (structured purposes, plates only as keyed hashes) and supervisor approvals of wide searches."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlSearchLogRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
