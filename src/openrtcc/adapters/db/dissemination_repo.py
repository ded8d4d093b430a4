"""Subscribers, notices and the delivery log (retry queue and dead letters): bulk writes, agency-scoped reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Integer, any_, bindparam, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from openrtcc.adapters.db.tables import delivery, notice, subscriber
from openrtcc.domain.dissemination import Audience, ChannelKind, DeliveryStatus, Subscriber, SubscriberStatus

_MARK = (update(delivery).where(delivery.c.id == bindparam("b_id"))
         .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"), next_at=bindparam("b_next_at"),
                 last_error=bindparam("b_error"), handed_at=bindparam("b_handed_at")))
_CHUNK = 2000
_DELIVERY_COLUMNS = ("id", "notice_id", "subscriber_id", "channel", "status", "attempts", "next_at", "last_error",
                     "created_at", "handed_at")
_PG_TYPES = {"id": "integer", "notice_id": "varchar", "subscriber_id": "varchar", "channel": "varchar",
             "status": "varchar", "attempts": "integer", "next_at": "timestamptz", "last_error": "varchar",
             "created_at": "timestamptz", "handed_at": "timestamptz"}
_LOG = (select(delivery, notice.c.kind, notice.c.change, notice.c.category, notice.c.document,
               subscriber.c.audience, subscriber.c.address, subscriber.c.name.label("subscriber_name"))
        .join(notice, notice.c.id == delivery.c.notice_id)
        .join(subscriber, subscriber.c.id == delivery.c.subscriber_id))


def _subscriber(r) -> Subscriber:
    return Subscriber(r.id, r.agency_id, Audience(r.audience), ChannelKind(r.channel), r.address,
                      frozenset(r.categories or ()), r.geofence, SubscriberStatus(r.status), r.name, r.secret,
                      r.created_at)


class SqlDisseminationRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    # --- subscribers ---
    def add_subscriber(self, row: dict) -> None:
        self.conn.execute(insert(subscriber), row)

    def update_subscriber(self, agency_id: str, subscriber_id: str, values: dict) -> bool:
        result = self.conn.execute(update(subscriber).where(subscriber.c.agency_id == agency_id,
                                                            subscriber.c.id == subscriber_id).values(**values))
        return result.rowcount == 1

    def get_subscriber(self, agency_id: str, subscriber_id: str) -> Subscriber | None:
        r = self.conn.execute(select(subscriber).where(subscriber.c.agency_id == agency_id,
                                                       subscriber.c.id == subscriber_id)).first()
        return _subscriber(r) if r else None

    def subscriber_by_id(self, subscriber_id: str) -> Subscriber | None:
        """Unscoped: for the public side, which knows a subscriber only by a signed link."""
        r = self.conn.execute(select(subscriber).where(subscriber.c.id == subscriber_id)).first()
        return _subscriber(r) if r else None

    def list_subscribers(self, agency_id: str, audience: str | None, limit: int) -> list[Subscriber]:
        q = select(subscriber).where(subscriber.c.agency_id == agency_id)
        if audience:
            q = q.where(subscriber.c.audience == audience)
        rows = self.conn.execute(q.order_by(subscriber.c.created_at.desc(), subscriber.c.id).limit(limit))
        return [_subscriber(r) for r in rows]

    def active_subscribers(self) -> list[Subscriber]:
        rows = self.conn.execute(select(subscriber).where(subscriber.c.status == SubscriberStatus.ACTIVE.value))
        return [_subscriber(r) for r in rows]

    def subscribers_by_ids(self, ids: set[str]) -> dict[str, Subscriber]:
        if not ids:
            return {}
        rows = self.conn.execute(select(subscriber).where(subscriber.c.id.in_(sorted(ids))))
        return {r.id: _subscriber(r) for r in rows}

    # --- notices and deliveries ---
    def add_notices(self, rows: list[dict]) -> set[str]:
        """Insert notices; returns the ids stored. A row whose source_key is taken (a re-announced alert, or
        another hub that got there first) is left out, so it is disseminated once."""
        if not rows:
            return set()
        keys = [r["source_key"] for r in rows if r.get("source_key")]
        taken = set()
        if keys:
            taken = set(self.conn.scalars(select(notice.c.source_key).where(notice.c.source_key.in_(keys))))
        fresh = [r for r in rows if r.get("source_key") not in taken or not r.get("source_key")]
        if not fresh:
            return set()
        dialect = sqlite if self.conn.dialect.name == "sqlite" else postgresql
        self.conn.execute(dialect.insert(notice).on_conflict_do_nothing(index_elements=["source_key"]), fresh)
        ids = [r["id"] for r in fresh]
        return set(self.conn.scalars(select(notice.c.id).where(notice.c.id.in_(ids))))

    def add_deliveries(self, rows: list[dict]) -> list[int]:
        """Insert deliveries; their ids in the order of `rows`. Ids are taken first (the sequence on PostgreSQL;
        past the highest on SQLite, whose writer is alone) so that the rows go in one plain executemany:
        RETURNING per row cost more than everything else in a batch."""
        if not rows:
            return []
        n = len(rows)
        if self.conn.dialect.name == "postgresql":
            ids = list(self.conn.scalars(text(
                "SELECT nextval(pg_get_serial_sequence('delivery', 'id')) FROM generate_series(1, :n)"), {"n": n}))
        else:
            top = self.conn.scalar(select(func.coalesce(func.max(delivery.c.id), 0)))
            ids = list(range(top + 1, top + n + 1))
        for row, i in zip(rows, ids, strict=True):
            row["id"] = i
        self._insert_plain(rows)
        return ids

    def _insert_plain(self, rows: list[dict]) -> None:
        """SQLite: executemany on the driver's cursor, each distinct time converted once by the column's own
        type (SQLAlchemy's per-row parameter processing was most of a large batch's cost). PostgreSQL: one
        statement over arrays, which was several times faster than a pipelined executemany."""
        if self.conn.dialect.name == "postgresql":
            self._insert_arrays(rows)
            return
        sql = f"INSERT INTO delivery ({', '.join(_DELIVERY_COLUMNS)}) VALUES ({', '.join(['?'] * 10)})"
        stamp = delivery.c.created_at.type.bind_processor(self.conn.dialect)
        stamps: dict = {None: None}

        def at(value):
            if value not in stamps:
                stamps[value] = stamp(value) if stamp else value
            return stamps[value]
        self.conn.exec_driver_sql(sql, [
            (r["id"], r["notice_id"], r["subscriber_id"], r["channel"], r["status"], r["attempts"], at(r["next_at"]),
             r["last_error"], at(r["created_at"]), at(r["handed_at"])) for r in rows])

    def _insert_arrays(self, rows: list[dict]) -> None:
        """Columns that vary go as arrays through unnest; those the same on every row (the batch's time, the
        status, no error yet) as one value each: dumping arrays of equal timestamps was half the cost."""
        picks, params, arrays, names = [], [], [], []
        for column, pg_type in _PG_TYPES.items():
            values = [r[column] for r in rows]
            if column != "id" and all(v == values[0] for v in values):  # the ids give unnest its rows
                picks.append(f"%s::{pg_type}")
                params.append(values[0])
            else:
                picks.append(f"u.{column}")
                arrays.append(values)
                names.append((column, pg_type))
        unnest = ", ".join(f"%s::{t}[]" for _, t in names)
        sql = (f"INSERT INTO delivery ({', '.join(_PG_TYPES)}) SELECT {', '.join(picks)} "
               f"FROM unnest({unnest}) AS u({', '.join(c for c, _ in names)})")
        self.conn.exec_driver_sql(sql, (*params, *arrays))

    def mark(self, results: list[dict]) -> None:
        """Per-row status updates: dicts of b_id, b_status, b_attempts, b_next_at, b_error, b_handed_at."""
        if results:
            self.conn.execute(_MARK, results)

    def mark_sent(self, ids: list[int], at: datetime) -> None:
        """The common case in one statement per chunk: handed on this attempt."""
        for chunk in self._chunks(ids):
            self.conn.execute(update(delivery).where(self._among(chunk)).values(
                status=DeliveryStatus.SENT.value, attempts=delivery.c.attempts + 1, next_at=None, last_error=None,
                handed_at=at))

    def _chunks(self, ids: list[int]) -> list[list[int]]:
        size = (len(ids) or 1) if self.conn.dialect.name == "postgresql" else _CHUNK  # an array needs no chunks
        return [ids[i:i + size] for i in range(0, len(ids), size)]

    def _among(self, ids: list[int]):
        """id IN (...): an array parameter on PostgreSQL (one bind, one plan), a list on SQLite."""
        if self.conn.dialect.name == "postgresql":
            return delivery.c.id == any_(bindparam("ids", ids, type_=postgresql.ARRAY(Integer)))
        return delivery.c.id.in_(ids)

    def due(self, now: datetime, limit: int) -> list:
        """Queued or failed deliveries whose next_at has come (a retry, a lease that ran out after a stop)."""
        q = (select(delivery.c.id, delivery.c.notice_id, delivery.c.subscriber_id, delivery.c.attempts,
                    notice.c.agency_id, notice.c.document)
             .join(notice, notice.c.id == delivery.c.notice_id)
             .where(delivery.c.status.in_([DeliveryStatus.QUEUED.value, DeliveryStatus.FAILED.value]),
                    delivery.c.next_at <= now)
             .order_by(delivery.c.next_at).limit(limit))
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update(of=delivery, skip_locked=True)
        return list(self.conn.execute(q))

    def claim(self, ids: list[int], until: datetime) -> None:
        for chunk in self._chunks(ids):
            self.conn.execute(update(delivery).where(self._among(chunk)).values(next_at=until))

    def recent_sends(self, since: datetime) -> list[tuple[str, datetime]]:
        """(subscriber id, time) of messages handed since `since`: rate limits survive a restart."""
        rows = self.conn.execute(select(delivery.c.subscriber_id, delivery.c.handed_at)
                                 .where(delivery.c.handed_at >= since,
                                        delivery.c.channel.in_(["email", "sms", "push"])))
        return [(r.subscriber_id, r.handed_at) for r in rows]

    # --- the delivery log ---
    def delivery_log(self, agency_id: str, status: str | None, before_id: int | None, limit: int) -> list:
        q = _LOG.where(notice.c.agency_id == agency_id)
        if status:
            q = q.where(delivery.c.status == status)
        if before_id:
            q = q.where(delivery.c.id < before_id)
        return list(self.conn.execute(q.order_by(delivery.c.id.desc()).limit(limit)))

    def deliveries_of(self, agency_id: str, ids: list[int]) -> list:
        if not ids:
            return []
        return list(self.conn.execute(_LOG.where(notice.c.agency_id == agency_id, delivery.c.id.in_(ids))))

    def set_status(self, ids: list[int], status: str, next_at: datetime | None, reset_attempts: bool) -> None:
        values: dict = {"status": status, "next_at": next_at}
        if reset_attempts:
            values["attempts"] = 0
        self.conn.execute(update(delivery).where(delivery.c.id.in_(ids)).values(**values))

    def counts(self, agency_id: str) -> dict[str, int]:
        rows = self.conn.execute(select(delivery.c.status, func.count())
                                 .join(notice, notice.c.id == delivery.c.notice_id)
                                 .where(notice.c.agency_id == agency_id).group_by(delivery.c.status))
        return {status: n for status, n in rows}

    def notices(self, agency_id: str, limit: int) -> list:
        return list(self.conn.execute(select(notice).where(notice.c.agency_id == agency_id)
                                      .order_by(notice.c.created_at.desc()).limit(limit)))
