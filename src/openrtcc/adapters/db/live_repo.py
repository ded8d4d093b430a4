"""Live sessions and clips asked of edge boxes: each query scoped to an agency or to the box that serves it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from openrtcc.adapters.db.tables import camera, edge_clip, live_session


class SqlLiveRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    # ------------------------------------------------------------ live sessions

    def add_session(self, **values) -> None:
        self.conn.execute(insert(live_session).values(**values))

    def session(self, session_id: str):
        """Unscoped on purpose: the caller checks the agency, the user or the box against the row."""
        return self.conn.execute(select(live_session).where(live_session.c.id == session_id)).first()

    def end_session(self, session_id: str, at: datetime, reason: str) -> bool:
        """False when it had already ended (the first reason stands)."""
        done = self.conn.execute(update(live_session).where(live_session.c.id == session_id,
                                                            live_session.c.ended_at.is_(None))
                                 .values(ended_at=at, end_reason=reason[:300]))
        return done.rowcount == 1

    def open_sessions_for_camera(self, camera_id: str) -> list:
        return list(self.conn.execute(select(live_session).where(live_session.c.camera_id == camera_id,
                                                                 live_session.c.ended_at.is_(None))))

    def open_sessions_for_agency(self, agency_id: str) -> list:
        return list(self.conn.execute(select(live_session).where(live_session.c.agency_id == agency_id,
                                                                 live_session.c.ended_at.is_(None))))

    def open_sessions_for_edge(self, edge_id: str) -> list:
        return list(self.conn.execute(select(live_session).where(live_session.c.edge_id == edge_id,
                                                                 live_session.c.ended_at.is_(None))))

    # ------------------------------------------------------------ clips

    def add_clip(self, **values) -> None:
        self.conn.execute(insert(edge_clip).values(**values))

    def clip_for_edge(self, edge_id: str, clip_id: str, *, for_update: bool = False):
        q = select(edge_clip).where(edge_clip.c.id == clip_id, edge_clip.c.edge_id == edge_id)
        if for_update:
            q = q.with_for_update()
        return self.conn.execute(q).first()

    def clip_for_agency(self, agency_id: str, clip_id: str):
        return self.conn.execute(self._clips().where(edge_clip.c.id == clip_id,
                                                     edge_clip.c.agency_id == agency_id)).first()

    def clips_for_agency(self, agency_id: str, case_number: str | None, limit: int = 200) -> list:
        q = self._clips().where(edge_clip.c.agency_id == agency_id)
        if case_number is not None:
            q = q.where(edge_clip.c.case_number == case_number)
        return list(self.conn.execute(q.order_by(edge_clip.c.requested_at.desc()).limit(limit)))

    def unanswered_clips(self, requested_before: datetime) -> list:
        return list(self.conn.execute(select(edge_clip.c.id, edge_clip.c.edge_id).where(
            edge_clip.c.status == "requested", edge_clip.c.requested_at < requested_before)))

    def finish_clip(self, clip_id: str, **values) -> bool:
        """Set the outcome of a clip still `requested`; False when it already had one."""
        done = self.conn.execute(update(edge_clip).where(edge_clip.c.id == clip_id,
                                                         edge_clip.c.status == "requested").values(**values))
        return done.rowcount == 1

    @staticmethod
    def _clips():
        return (select(edge_clip, camera.c.name.label("camera_name"), camera.c.pk.label("camera_pk"))
                .join(camera, camera.c.id == edge_clip.c.camera_id))
