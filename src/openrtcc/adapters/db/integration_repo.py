"""Inbound integrations (CAD, gunshot detection): their secrets and configuration, and the delivery ids seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from openrtcc.adapters.db.tables import inbound_integration, webhook_delivery_seen


class SqlIntegrationRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values) -> None:
        self.conn.execute(insert(inbound_integration).values(**values))

    def get(self, agency_id: str, integration_id: str):
        return self.conn.execute(select(inbound_integration).where(
            inbound_integration.c.agency_id == agency_id, inbound_integration.c.id == integration_id)).first()

    def for_delivery(self, integration_id: str):
        """The integration a webhook names in its URL, whichever agency it is: the signature then proves the
        caller holds its secret, and everything after is scoped to that integration's agency."""
        return self.conn.execute(select(inbound_integration).where(
            inbound_integration.c.id == integration_id)).first()

    def for_agency(self, agency_id: str) -> list:
        return list(self.conn.execute(select(inbound_integration).where(
            inbound_integration.c.agency_id == agency_id).order_by(inbound_integration.c.created_at)))

    def revoke(self, agency_id: str, integration_id: str, at: datetime) -> bool:
        return self.conn.execute(update(inbound_integration).where(
            inbound_integration.c.agency_id == agency_id, inbound_integration.c.id == integration_id,
            inbound_integration.c.revoked_at.is_(None)).values(revoked_at=at)).rowcount == 1

    def mark_seen(self, integration_id: str, delivery_id: str, at: datetime) -> bool:
        """False when this delivery id was seen before (a replay). Inside a savepoint, so that the caller's
        transaction survives the refused insert on PostgreSQL."""
        if self.conn.execute(select(webhook_delivery_seen.c.delivery_id).where(
                webhook_delivery_seen.c.integration_id == integration_id,
                webhook_delivery_seen.c.delivery_id == delivery_id)).first() is not None:
            return False
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(webhook_delivery_seen).values(
                    integration_id=integration_id, delivery_id=delivery_id, seen_at=at))
        except IntegrityError:  # the same delivery arriving twice at once: the other one took it
            return False
        return True

    def forget_seen(self, before: datetime) -> int:
        return self.conn.execute(delete(webhook_delivery_seen).where(webhook_delivery_seen.c.seen_at < before)).rowcount
