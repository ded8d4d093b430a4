"""Public tips and the public forms' rate-limit counts."""

from __future__ import annotations

from sqlalchemy import Connection

from openrtcc.adapters.db.tables import rate_limit_hit, tip  # noqa: F401  (queries to come with their use cases)


class SqlTipRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
