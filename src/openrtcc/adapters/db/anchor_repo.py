"""Signed heads of the audit chain."""

from __future__ import annotations

import base64
import json

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from openrtcc.adapters.db.tables import audit_anchor
from openrtcc.domain.anchors import ALGORITHM, FORMAT, SignedAnchor, parse_anchor_document


def _signed(row) -> SignedAnchor:
    # The row keeps the statement exactly as signed; parsing it again means a row edited by hand into something
    # that is not a statement fails here rather than being served.
    return parse_anchor_document(json.dumps({"format": FORMAT, "algorithm": ALGORITHM, "signature": row.signature,
                                             "statement": json.loads(row.statement)}))


class SqlAnchorRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, anchor: SignedAnchor) -> bool:
        """Stores the day's anchor; False (nothing written) when the day already has one."""
        s = anchor.statement
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(audit_anchor).values(
                    day=s.day, seq=s.seq, hash=s.hash, anchored_at=s.anchored_at, key_id=s.key_id,
                    statement=s.canonical().decode(), signature=base64.b64encode(anchor.signature).decode()))
        except IntegrityError:
            return False
        return True

    def for_day(self, day: str) -> SignedAnchor | None:
        row = self.conn.execute(select(audit_anchor).where(audit_anchor.c.day == day)).first()
        return _signed(row) if row else None

    def latest(self) -> SignedAnchor | None:
        row = self.conn.execute(select(audit_anchor).order_by(audit_anchor.c.day.desc()).limit(1)).first()
        return _signed(row) if row else None

    def recent(self, limit: int, before_day: str | None = None) -> list[SignedAnchor]:
        q = select(audit_anchor)
        if before_day:
            q = q.where(audit_anchor.c.day < before_day)
        return [_signed(r) for r in self.conn.execute(q.order_by(audit_anchor.c.day.desc()).limit(limit))]
