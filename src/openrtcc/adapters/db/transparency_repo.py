"""The aggregate queries behind the public transparency portal: counts, never rows about a person."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlTransparencyRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
