"""The audit chain in the database: appends serialised on one head row, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, bindparam, false, insert, or_, select, update

from openrtcc.adapters.db.tables import audit_head, audit_log
from openrtcc.domain.audit import AuditEntry, AuditRecord, chain
from openrtcc.domain.clock import Clock


# Built once: every action appends a record, and building these per call (values, cache keys) cost
# more than executing them.
_HEAD = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
_HEAD_FOR_UPDATE = _HEAD.with_for_update()  # PostgreSQL: one writer extends the chain at a time
_INSERT = insert(audit_log)
_MOVE_HEAD = update(audit_head).where(audit_head.c.id == 1).values(seq=bindparam("new_seq"),
                                                                   hash=bindparam("new_hash"))
# Moves the head only from the head this process last wrote: a compare-and-set, see SqlAuditLog.append.
_MOVE_KNOWN_HEAD = _MOVE_HEAD.where(audit_head.c.seq == bindparam("old_seq"),
                                    audit_head.c.hash == bindparam("old_hash"))

# SQLite: the head each engine's last append left, (seq, hash). A hint only, never trusted: see append.
_last_head: WeakKeyDictionary[Engine, tuple[int, str]] = WeakKeyDictionary()


class SqlAuditLog:
    def __init__(self, conn: Connection, clock: Clock):
        self.conn = conn
        self.clock = clock
        self.written = 0

    def append(self, entry: AuditEntry) -> AuditRecord:
        """Extend the chain by one record. On SQLite (every writer holds the write lock from BEGIN) the head this
        process wrote last is tried first: the UPDATE moves the head only if the row still holds exactly that
        seq and hash, so a record chains onto the true head or the head is read as before (another process
        wrote, or the transaction that wrote the hint rolled back). The chain cannot fork either way."""
        if self.conn.dialect.name == "sqlite":
            known = _last_head.get(self.conn.engine)
            if known is not None:
                record = chain(known[0] + 1, self.clock.now(), entry, known[1])
                moved = self.conn.execute(_MOVE_KNOWN_HEAD, {"new_seq": record.seq, "new_hash": record.hash,
                                                             "old_seq": known[0], "old_hash": known[1]})
                if moved.rowcount == 1:
                    return self._insert(record)
            seq, prev = self.conn.execute(_HEAD).one()
        else:
            seq, prev = self.conn.execute(_HEAD_FOR_UPDATE).one()  # PostgreSQL: one writer extends it at a time
        record = chain(seq + 1, self.clock.now(), entry, prev)
        self.conn.execute(_MOVE_HEAD, {"new_seq": record.seq, "new_hash": record.hash})
        return self._insert(record)

    def _insert(self, record: AuditRecord) -> AuditRecord:
        self.conn.execute(_INSERT, dict(
            seq=record.seq, at=record.at, action=record.action, outcome=record.outcome,
            actor_id=record.actor_id, agency_id=record.agency_id, target=record.target,
            source=record.source, details=record.details, prev_hash=record.prev_hash, hash=record.hash,
        ))
        if self.conn.dialect.name == "sqlite":
            _last_head[self.conn.engine] = (record.seq, record.hash)
        self.written += 1
        return record

    def head(self) -> tuple[int, str]:
        return tuple(self.conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one())

    def iter_records(self, batch: int = 5000, after_seq: int = 0) -> Iterator[AuditRecord]:
        last = after_seq
        while True:
            rows = self.conn.execute(
                select(audit_log).where(audit_log.c.seq > last).order_by(audit_log.c.seq).limit(batch)
            ).all()
            if not rows:
                return
            for r in rows:
                yield AuditRecord(r.seq, r.at, r.action, r.outcome, r.actor_id, r.agency_id, r.target,
                                  r.source, r.details, r.prev_hash, r.hash)
            last = rows[-1].seq

    def list_for_agency(self, agency_id: str, limit: int, before_seq: int | None) -> list[AuditRecord]:
        q = select(audit_log).where(audit_log.c.agency_id == agency_id)
        if before_seq:
            q = q.where(audit_log.c.seq < before_seq)
        rows = self.conn.execute(q.order_by(audit_log.c.seq.desc()).limit(limit))
        return [AuditRecord(r.seq, r.at, r.action, r.outcome, r.actor_id, r.agency_id, r.target, r.source,
                            r.details, r.prev_hash, r.hash) for r in rows]

    def for_case(self, agency_id: str, case_number: str, targets: list[str], limit: int) -> list[AuditRecord]:
        """A case's audit excerpt, oldest first: the agency's records naming the case (in their details or as
        the target), and anyone's records about the case's own items (`targets`: an owner's upload of a clip
        the agency asked for is part of its custody)."""
        details = audit_log.c.details
        names_case = or_(details["case"].as_string() == case_number,
                         details["case_number"].as_string() == case_number,
                         audit_log.c.target == f"case:{case_number}", audit_log.c.target == case_number)
        q = select(audit_log).where(or_((audit_log.c.agency_id == agency_id) & names_case,
                                        audit_log.c.target.in_(targets) if targets else false()))
        rows = self.conn.execute(q.order_by(audit_log.c.seq).limit(limit))
        return [AuditRecord(r.seq, r.at, r.action, r.outcome, r.actor_id, r.agency_id, r.target, r.source,
                            r.details, r.prev_hash, r.hash) for r in rows]
