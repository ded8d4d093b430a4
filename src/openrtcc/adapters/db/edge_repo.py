"""Edge boxes on the hub: enrolment codes, keys (as sha256), link state, camera health, the boxes' access logs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from openrtcc.adapters.db.tables import camera, camera_health, edge_access, edge_box, edge_enrolment, edge_hold


class SqlEdgeRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    # ------------------------------------------------------------ enrolment codes

    def add_code(self, code_hash: str, owner_id: str, edge_name: str, created_at: datetime,
                 expires_at: datetime) -> None:
        self.conn.execute(insert(edge_enrolment).values(code_hash=code_hash, owner_id=owner_id, edge_name=edge_name,
                                                        created_at=created_at, expires_at=expires_at))

    def code(self, code_hash: str):
        return self.conn.execute(select(edge_enrolment).where(edge_enrolment.c.code_hash == code_hash)).first()

    def use_code(self, code_hash: str, at: datetime, edge_id: str) -> bool:
        """Mark a code used; False when another request used it first (the update is the arbiter)."""
        done = self.conn.execute(update(edge_enrolment).where(edge_enrolment.c.code_hash == code_hash,
                                                              edge_enrolment.c.used_at.is_(None))
                                 .values(used_at=at, edge_id=edge_id))
        return done.rowcount == 1

    # ------------------------------------------------------------ boxes

    def add_edge(self, edge_id: str, owner_id: str, name: str, key_hash: str, at: datetime,
                 software_version: str | None) -> None:
        self.conn.execute(insert(edge_box).values(id=edge_id, owner_id=owner_id, name=name, key_hash=key_hash,
                                                  enrolled_at=at, connected=False, software_version=software_version,
                                                  status={}))

    def by_key_hash(self, key_hash: str):
        return self.conn.execute(select(edge_box).where(edge_box.c.key_hash == key_hash)).first()

    def get(self, edge_id: str):
        return self.conn.execute(select(edge_box).where(edge_box.c.id == edge_id)).first()

    def for_owner(self, owner_id: str) -> list:
        return list(self.conn.execute(select(edge_box).where(edge_box.c.owner_id == owner_id)
                                      .order_by(edge_box.c.enrolled_at)))

    def revoke(self, edge_id: str, at: datetime) -> None:
        self.conn.execute(update(edge_box).where(edge_box.c.id == edge_id, edge_box.c.revoked_at.is_(None))
                          .values(revoked_at=at, connected=False))

    def mark_link(self, edge_id: str, *, connected: bool, at: datetime, software_version: str | None = None,
                  clock_skew_ms: int | None = None) -> None:
        values: dict = {"connected": connected, "last_seen_at": at}
        if software_version is not None:
            values["software_version"] = software_version[:40]
        if clock_skew_ms is not None:
            values["clock_skew_ms"] = clock_skew_ms
        self.conn.execute(update(edge_box).where(edge_box.c.id == edge_id).values(**values))

    def set_status(self, edge_id: str, status: dict, at: datetime, clock_skew_ms: int) -> None:
        self.conn.execute(update(edge_box).where(edge_box.c.id == edge_id)
                          .values(status=status, last_seen_at=at, clock_skew_ms=clock_skew_ms))

    # ------------------------------------------------------------ cameras and their health

    def link_camera(self, camera_id: str, owner_id: str, edge_id: str | None) -> None:
        self.conn.execute(update(camera).where(camera.c.id == camera_id, camera.c.owner_id == owner_id)
                          .values(edge_id=edge_id))

    def linked_cameras(self, edge_ids: list[str]) -> list:
        """(edge_id, id, agency_id, lat, lon) of the active integrated cameras linked to these boxes."""
        if not edge_ids:
            return []
        q = select(camera.c.edge_id, camera.c.id, camera.c.agency_id, camera.c.lat, camera.c.lon).where(
            camera.c.edge_id.in_(edge_ids), camera.c.status == "active", camera.c.tier == "integrated")
        return list(self.conn.execute(q))

    def save_health(self, edge_id: str, rows: list[dict], at: datetime) -> None:
        """One row per camera the box reports; only cameras linked to this box are kept."""
        for r in rows:
            values = {**r, "edge_id": edge_id, "reported_at": at}
            done = self.conn.execute(update(camera_health).where(camera_health.c.camera_id == r["camera_id"])
                                     .values(**values))
            if done.rowcount == 0:
                self.conn.execute(insert(camera_health).values(**values))

    def health_for(self, camera_ids: list[str]) -> dict:
        if not camera_ids:
            return {}
        rows = self.conn.execute(select(camera_health).where(camera_health.c.camera_id.in_(camera_ids)))
        return {r.camera_id: r for r in rows}

    def offline_cameras(self, agency_id: str, seen_after: datetime) -> list[str]:
        """Ids of the agency's active cameras linked to a box that either reports them offline, has been
        silent since `seen_after`, or was revoked."""
        q = (select(camera.c.id)
             .join(edge_box, edge_box.c.id == camera.c.edge_id)
             .outerjoin(camera_health, camera_health.c.camera_id == camera.c.id)
             .where(camera.c.agency_id == agency_id, camera.c.status == "active",
                    or_(camera_health.c.online.is_(False), edge_box.c.last_seen_at.is_(None),
                        edge_box.c.last_seen_at < seen_after, edge_box.c.revoked_at.is_not(None))))
        return [r[0] for r in self.conn.execute(q)]

    def camera_states(self, edge_ids: list[str] | None) -> list:
        """(id, agency_id, online, last_seen_at, revoked_at) of active cameras linked to these boxes (None: to
        any box): what `offline_cameras` decides from, for every agency at once (the status watch's diff)."""
        q = (select(camera.c.id, camera.c.agency_id, camera_health.c.online, edge_box.c.last_seen_at,
                    edge_box.c.revoked_at)
             .join(edge_box, edge_box.c.id == camera.c.edge_id)
             .outerjoin(camera_health, camera_health.c.camera_id == camera.c.id)
             .where(camera.c.status == "active"))
        if edge_ids is not None:
            q = q.where(camera.c.edge_id.in_(edge_ids))
        return list(self.conn.execute(q))

    # ------------------------------------------------------------ the boxes' access logs, holds

    def add_access(self, edge_id: str, entries: list[dict], received_at: datetime) -> int:
        """Insert entries not seen before (by the box's entry id); returns how many were new."""
        if not entries:
            return 0
        rows = [{**e, "edge_id": edge_id, "received_at": received_at} for e in entries]
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(edge_access).on_conflict_do_nothing(index_elements=["edge_id", "entry_id"])
        return sum(self.conn.execute(stmt, [row]).rowcount for row in rows)

    def access_for_camera(self, camera_id: str, edge_ids: list[str], limit: int) -> list:
        if not edge_ids:
            return []
        q = (select(edge_access).where(edge_access.c.camera_id == camera_id, edge_access.c.edge_id.in_(edge_ids))
             .order_by(edge_access.c.at.desc()).limit(limit))
        return list(self.conn.execute(q))

    def confirm_hold(self, edge_id: str, hold_id: str, at: datetime, held: bool) -> bool:
        values = {"confirmed_at": at} if held else {"confirmed_at": None}
        done = self.conn.execute(update(edge_hold).where(and_(edge_hold.c.id == hold_id,
                                                              edge_hold.c.edge_id == edge_id)).values(**values))
        return done.rowcount == 1
