"""Signed heads of the audit chain."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlAnchorRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
