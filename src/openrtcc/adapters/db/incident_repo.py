"""Incidents and their timelines, and the staff who can take one; every query scoped to one agency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import aliased

from openrtcc.adapters.db.tables import incident, incident_event
from openrtcc.adapters.db.tables import user as user_account
from openrtcc.domain.incidents import IncidentSource, IncidentStatus, IncidentView, TimelineEntry

_assignee = aliased(user_account)
_VIEW = select(incident, _assignee.c.display_name.label("assigned_name")).outerjoin(
    _assignee, _assignee.c.id == incident.c.assigned_to)
OPEN = (IncidentStatus.NEW.value, IncidentStatus.ACKNOWLEDGED.value, IncidentStatus.ASSIGNED.value)
ASSIGNABLE_ROLES = ("supervisor", "analyst", "officer")


def _view(r) -> IncidentView:
    return IncidentView(
        r.id, r.agency_id, IncidentSource(r.source), r.external_id, r.category, r.priority, r.title, r.description,
        r.lat, r.lon, r.address, IncidentStatus(r.status), r.assigned_to, r.escalated_at, r.disposition,
        r.disposition_note, r.emergency_id, r.created_by, r.created_at, r.updated_at, r.closed_at,
        dict(r.details or {}), r.assigned_name)


class SqlIncidentRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    # ------------------------------------------------------------ incidents

    def add(self, **values) -> None:
        self.conn.execute(insert(incident).values(**values))

    def get(self, agency_id: str, incident_id: str) -> IncidentView | None:
        r = self.conn.execute(_VIEW.where(incident.c.agency_id == agency_id, incident.c.id == incident_id)).first()
        return _view(r) if r else None

    def by_external(self, agency_id: str, source: str, external_id: str) -> IncidentView | None:
        r = self.conn.execute(_VIEW.where(incident.c.agency_id == agency_id, incident.c.source == source,
                                          incident.c.external_id == external_id)).first()
        return _view(r) if r else None

    def newest(self, agency_id: str, status: str, limit: int) -> list[IncidentView]:
        """Newest first; `status` is open (not closed), closed or all."""
        q = _VIEW.where(incident.c.agency_id == agency_id)
        if status == "open":
            q = q.where(incident.c.status.in_(OPEN))
        elif status == "closed":
            q = q.where(incident.c.status == IncidentStatus.CLOSED.value)
        q = q.order_by(incident.c.created_at.desc(), incident.c.id.desc()).limit(limit)
        return [_view(r) for r in self.conn.execute(q)]

    def change(self, agency_id: str, incident_id: str, was_updated_at: datetime, **values) -> bool:
        """False when the incident changed meanwhile (another operator, a CAD update): the caller refuses."""
        return self.conn.execute(update(incident).where(
            incident.c.agency_id == agency_id, incident.c.id == incident_id,
            incident.c.updated_at == was_updated_at).values(**values)).rowcount == 1

    def add_event(self, incident_id: str, at: datetime, actor_id: str | None, action: str, details: dict) -> None:
        self.conn.execute(insert(incident_event).values(incident_id=incident_id, at=at, actor_id=actor_id,
                                                        action=action, details=details))

    def timeline(self, agency_id: str, incident_id: str) -> list[TimelineEntry]:
        q = (select(incident_event.c.at, user_account.c.display_name, incident_event.c.action,
                    incident_event.c.details)
             .join(incident, incident.c.id == incident_event.c.incident_id)
             .outerjoin(user_account, user_account.c.id == incident_event.c.actor_id)
             .where(incident.c.agency_id == agency_id, incident.c.id == incident_id)
             .order_by(incident_event.c.id))
        return [TimelineEntry(r.at, r.display_name, r.action, dict(r.details or {})) for r in self.conn.execute(q)]

    def assignees(self, agency_id: str) -> list:
        """(id, display_name, role) of the agency's active staff who can take an incident or an alert."""
        q = (select(user_account.c.id, user_account.c.display_name, user_account.c.role)
             .where(user_account.c.agency_id == agency_id, user_account.c.role.in_(ASSIGNABLE_ROLES),
                    user_account.c.disabled.is_(False), user_account.c.locked_at.is_(None))
             .order_by(user_account.c.display_name))
        return list(self.conn.execute(q))
