"""Inbound integrations (CAD, gunshot detection): their secrets and configuration, and the delivery ids seen."""

from __future__ import annotations

from sqlalchemy import Connection

from openrtcc.adapters.db.tables import inbound_integration, webhook_delivery_seen  # noqa: F401  (queries to come with their use cases)


class SqlIntegrationRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
