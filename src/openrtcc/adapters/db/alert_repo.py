"""Alerts with their read and hot-list name joined in; every query scoped to an agency."""

from __future__ import annotations

from datetime import datetime

from dataclasses import replace

from sqlalchemy import Connection, and_, insert, or_, select, update

from openrtcc.adapters.db.tables import alert, alert_action, hot_list, plate_read
from openrtcc.adapters.db.tables import user as user_account
from openrtcc.domain.alerts import AlertStatus, AlertView

_VIEW = (
    select(alert.c.id, alert.c.agency_id, alert.c.status, alert.c.match_kind, alert.c.list_id,
           hot_list.c.name.label("list_name"), alert.c.entry, alert.c.read_id, plate_read.c.plate,
           plate_read.c.state, plate_read.c.region, plate_read.c.confidence, plate_read.c.camera_id,
           plate_read.c.lat, plate_read.c.lon, plate_read.c.heading_deg, plate_read.c.vehicle_make,
           plate_read.c.vehicle_colour, plate_read.c.vehicle_type, plate_read.c.crop_key, plate_read.c.snapshot_key,
           plate_read.c.captured_at, alert.c.created_at, alert.c.disposition_by, alert.c.disposition_at,
           alert.c.disposition_note)
    .join(plate_read, plate_read.c.id == alert.c.read_id)
    .outerjoin(hot_list, hot_list.c.id == alert.c.list_id)
)


def _view(r) -> AlertView:
    return AlertView(
        r.id, r.agency_id, AlertStatus(r.status), r.match_kind, r.list_id, r.list_name, r.entry, r.read_id, r.plate,
        r.state, r.region, r.confidence, r.camera_id, r.lat, r.lon, r.heading_deg, r.vehicle_make, r.vehicle_colour,
        r.vehicle_type, r.crop_key is not None, r.snapshot_key is not None, r.captured_at, r.created_at,
        r.disposition_by, r.disposition_at, r.disposition_note,
    )


class SqlAlertRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_many(self, rows: list[dict]) -> None:
        if rows:
            self.conn.execute(insert(alert), rows)

    def raised_for(self, read_ids: list[str]) -> set[tuple[str, str]]:
        """(read id, list id) pairs that already have an alert: one alert per read and list."""
        if not read_ids:
            return set()
        rows = self.conn.execute(select(alert.c.read_id, alert.c.list_id).where(alert.c.read_id.in_(read_ids)))
        return {(r.read_id, r.list_id) for r in rows}

    def list_names(self, list_ids: set[str]) -> dict[str, str]:
        if not list_ids:
            return {}
        rows = self.conn.execute(select(hot_list.c.id, hot_list.c.name).where(hot_list.c.id.in_(sorted(list_ids))))
        return {r.id: r.name for r in rows}

    def get(self, agency_id: str, alert_id: str) -> AlertView | None:
        r = self.conn.execute(_VIEW.where(alert.c.agency_id == agency_id, alert.c.id == alert_id)).first()
        return self._with_actions(agency_id, [_view(r)])[0] if r else None

    def media_key(self, agency_id: str, alert_id: str, kind: str) -> str | None:
        column = plate_read.c.crop_key if kind == "crop" else plate_read.c.snapshot_key
        return self.conn.execute(select(column).join(alert, alert.c.read_id == plate_read.c.id).where(
            alert.c.agency_id == agency_id, alert.c.id == alert_id)).scalar_one_or_none()

    def newest(self, agency_id: str, *, after: tuple[datetime, str] | None, status: str | None,
               limit: int) -> list[AlertView]:
        """Newest first; `after` (created_at, id) keeps only alerts raised after that one (a reconnect's catch-up)."""
        q = _VIEW.where(alert.c.agency_id == agency_id)
        if after is not None:
            at, aid = after
            q = q.where(or_(alert.c.created_at > at, and_(alert.c.created_at == at, alert.c.id > aid)))
        if status is not None:
            q = q.where(alert.c.status == status)
        q = q.order_by(alert.c.created_at.desc(), alert.c.id.desc()).limit(limit)
        return self._with_actions(agency_id, [_view(r) for r in self.conn.execute(q)])

    def position(self, agency_id: str, alert_id: str) -> tuple[datetime, str] | None:
        r = self.conn.execute(select(alert.c.created_at, alert.c.id).where(
            alert.c.agency_id == agency_id, alert.c.id == alert_id)).first()
        return (r.created_at, r.id) if r else None

    def set_disposition(self, agency_id: str, alert_id: str, was: AlertStatus, status: AlertStatus, by: str,
                        at: datetime, note: str | None) -> bool:
        """False when the alert moved on meanwhile (another officer's disposition): the caller refuses."""
        return self.conn.execute(update(alert).where(
            alert.c.agency_id == agency_id, alert.c.id == alert_id, alert.c.status == was.value,
        ).values(status=status.value, disposition_by=by, disposition_at=at, disposition_note=note)).rowcount == 1

    # ------------------------------------------------------------ operator actions besides the disposition

    def add_action(self, alert_id: str, at: datetime, actor_id: str | None, action: str,
                   assigned_to: str | None = None, note: str | None = None) -> None:
        self.conn.execute(insert(alert_action).values(alert_id=alert_id, at=at, actor_id=actor_id, action=action,
                                                      assigned_to=assigned_to, note=note))

    def _with_actions(self, agency_id: str, views: list[AlertView]) -> list[AlertView]:
        """Each alert with its operator state (acknowledged, assigned to whom, escalated), in one query."""
        if not views:
            return views
        q = (select(alert_action.c.alert_id, alert_action.c.action, alert_action.c.at, alert_action.c.assigned_to,
                    user_account.c.display_name)
             .join(alert, and_(alert.c.id == alert_action.c.alert_id, alert.c.agency_id == agency_id))
             .outerjoin(user_account, user_account.c.id == alert_action.c.assigned_to)
             .where(alert_action.c.alert_id.in_([v.id for v in views])).order_by(alert_action.c.id))
        states: dict[str, dict] = {}
        for r in self.conn.execute(q):
            s = states.setdefault(r.alert_id, {})
            if r.action == "acknowledge":
                s.setdefault("acknowledged_at", r.at)
            elif r.action == "assign":
                s.update(assigned_to=r.assigned_to, assigned_name=r.display_name)
            elif r.action == "escalate":
                s.setdefault("escalated_at", r.at)
        return [replace(v, **states[v.id]) if v.id in states else v for v in views]
