"""What owners are told: camera access log, portal notifications, and the outbox of events to send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, insert, or_, select, update

from openrtcc.adapters.db.tables import agency, camera, camera_access, notification, outbox, user


_LOG_ACCESS_SQL = ("INSERT INTO camera_access (camera_pk, agency_id, user_id, kind, purpose, case_number, at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)")


class SqlActivityRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    # access log
    def log_access(self, rows: list[dict]) -> None:
        if not rows:
            return
        if self.conn.dialect.name != "sqlite":
            self.conn.execute(insert(camera_access), rows)
            return
        # A radius search logs ~44 rows at once: on SQLite they go to the driver as tuples, each distinct time
        # converted once by the column's own type, because SQLAlchemy's per-row parameter processing cost
        # more than SQLite's insert.
        to_db = camera_access.c.at.type.dialect_impl(self.conn.dialect).bind_processor(self.conn.dialect)
        stored = {at: to_db(at) for at in {r["at"] for r in rows}}
        self.conn.exec_driver_sql(_LOG_ACCESS_SQL, [
            (r.get("camera_pk"), r["agency_id"], r.get("user_id"), r["kind"], r["purpose"], r.get("case_number"),
             stored[r["at"]]) for r in rows])

    def access_for_camera(self, camera_pk: int, agency_id: str, since: datetime, until: datetime | None,
                          limit: int) -> list:
        """Accesses to this camera, and to the agency's whole program while the camera was in it."""
        program_wide = and_(camera_access.c.camera_pk.is_(None), camera_access.c.agency_id == agency_id,
                            camera_access.c.at >= since)
        if until is not None:
            program_wide = and_(program_wide, camera_access.c.at <= until)
        q = (
            select(camera_access.c.kind, camera_access.c.purpose, camera_access.c.case_number, camera_access.c.at,
                   camera_access.c.camera_pk, agency.c.name.label("agency_name"))
            .join(agency, agency.c.id == camera_access.c.agency_id)
            .where(or_(camera_access.c.camera_pk == camera_pk, program_wide))
            .order_by(camera_access.c.at.desc()).limit(limit)
        )
        return list(self.conn.execute(q))

    # notifications
    def notify(self, **values) -> None:
        self.conn.execute(insert(notification).values(**values))

    def notifications(self, user_id: str, limit: int = 100) -> list:
        return list(self.conn.execute(select(notification).where(notification.c.user_id == user_id)
                                      .order_by(notification.c.created_at.desc()).limit(limit)))

    def mark_read(self, user_id: str, notification_id: str, at: datetime) -> int:
        return self.conn.execute(update(notification).where(
            notification.c.id == notification_id, notification.c.user_id == user_id).values(read_at=at)).rowcount

    # outbox
    def enqueue(self, topic: str, payload: dict, at: datetime) -> int:
        return self.conn.execute(insert(outbox).values(topic=topic, payload=payload, created_at=at, attempts=0,
                                                       next_attempt_at=at)).inserted_primary_key[0]

    def due(self, now: datetime, limit: int, *, topic: str | None = None, max_attempts: int | None = None) -> list:
        """Undelivered events whose time has come; given up events are left out so they cannot fill `limit`."""
        q = select(outbox).where(outbox.c.dispatched_at.is_(None), outbox.c.next_attempt_at <= now)
        if topic is not None:
            q = q.where(outbox.c.topic == topic)
        if max_attempts is not None:
            q = q.where(outbox.c.attempts < max_attempts)
        return list(self.conn.execute(q.order_by(outbox.c.id).limit(limit)))

    def claim(self, outbox_id: int, now: datetime, until: datetime) -> bool:
        """Take a due event for one dispatcher until `until`; False if another took it first."""
        return self.conn.execute(update(outbox).where(
            outbox.c.id == outbox_id, outbox.c.dispatched_at.is_(None), outbox.c.next_attempt_at <= now,
        ).values(next_attempt_at=until)).rowcount == 1

    def mark_dispatched(self, outbox_id: int, at: datetime) -> None:
        self.conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(dispatched_at=at))

    def mark_failed(self, outbox_id: int, attempts: int, error: str, retry_at: datetime) -> None:
        self.conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(
            attempts=attempts, last_error=error[:500], next_attempt_at=retry_at))

    def user_email(self, user_id: str) -> str | None:
        return self.conn.execute(select(user.c.email).where(user.c.id == user_id)).scalar_one_or_none()

    def camera_pk(self, camera_id: str) -> int | None:
        return self.conn.execute(select(camera.c.pk).where(camera.c.id == camera_id)).scalar_one_or_none()


