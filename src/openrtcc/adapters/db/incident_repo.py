"""Incidents and their timelines, and operator actions on alerts; every query scoped to one agency."""

from __future__ import annotations

from sqlalchemy import Connection

from openrtcc.adapters.db.tables import incident, incident_event, alert_action  # noqa: F401  (queries to come with their use cases)


class SqlIncidentRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
