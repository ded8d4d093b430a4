"""Legal holds, evidence locks (case reads), retention runs and alert tallies, and the expiry of reads, media references and logs."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlRetentionRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
