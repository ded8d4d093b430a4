"""Plate integrations (Frigate over MQTT, Plate Recognizer Stream webhooks) of read sources."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from openrtcc.adapters.db.tables import plate_integration, read_source

# Never the secret (a broker password or a token's digest) in a listing: only secret_of() reads it.
_PUBLIC = [c for c in plate_integration.c if c.name != "secret"] + [
    read_source.c.agency_id, read_source.c.kind.label("source_kind"), read_source.c.name.label("source_name"),
    read_source.c.default_state.label("source_default_state"),
    read_source.c.revoked_at.label("source_revoked_at")]
_JOINED = plate_integration.join(read_source, read_source.c.id == plate_integration.c.read_source_id)


class SqlPlateIntegrationRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, **values) -> None:
        self.conn.execute(insert(plate_integration).values(**values))

    def get(self, integration_id: str):
        """Any agency's integration, for the webhook route and the Frigate links (no session behind them)."""
        return self.conn.execute(select(*_PUBLIC).select_from(_JOINED)
                                 .where(plate_integration.c.id == integration_id)).first()

    def get_for_agency(self, agency_id: str, integration_id: str):
        return self.conn.execute(select(*_PUBLIC).select_from(_JOINED).where(
            plate_integration.c.id == integration_id, read_source.c.agency_id == agency_id)).first()

    def for_agency(self, agency_id: str | None) -> list:
        """An agency's integrations, oldest first; None: every agency's (the operator's command line)."""
        q = select(*_PUBLIC).select_from(_JOINED).order_by(plate_integration.c.created_at, plate_integration.c.id)
        if agency_id is not None:
            q = q.where(read_source.c.agency_id == agency_id)
        return list(self.conn.execute(q))

    def enabled(self, kind: str) -> list:
        """Integrations of a kind that should run: not disabled, their read source not revoked."""
        return list(self.conn.execute(select(*_PUBLIC).select_from(_JOINED).where(
            plate_integration.c.kind == kind, plate_integration.c.disabled_at.is_(None),
            read_source.c.revoked_at.is_(None)).order_by(plate_integration.c.created_at)))

    def agency_of_source(self, source_id: str) -> str | None:
        return self.conn.execute(select(read_source.c.agency_id).where(read_source.c.id == source_id)).scalar()

    def secret_of(self, integration_id: str) -> str | None:
        return self.conn.execute(select(plate_integration.c.secret)
                                 .where(plate_integration.c.id == integration_id)).scalar()

    def disable(self, integration_id: str, at: datetime) -> bool:
        return self.conn.execute(update(plate_integration).where(
            plate_integration.c.id == integration_id, plate_integration.c.disabled_at.is_(None),
        ).values(disabled_at=at)).rowcount == 1

    def set_status(self, integration_id: str, status: dict) -> None:
        self.conn.execute(update(plate_integration).where(plate_integration.c.id == integration_id)
                          .values(status=status))
