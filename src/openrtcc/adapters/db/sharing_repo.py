"""Sharing grants between agencies and opt-ins to hot lists shared in."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlSharingRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
