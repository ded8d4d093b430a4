"""Plate integrations (Frigate over MQTT, Plate Recognizer Stream webhooks) of read sources."""

from __future__ import annotations

from sqlalchemy import Connection

from openrtcc.adapters.db.tables import plate_integration  # noqa: F401  (queries to come with their use cases)


class SqlPlateIntegrationRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
