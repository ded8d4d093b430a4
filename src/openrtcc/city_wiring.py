"""Composition of city mode (RTCC_NATS_URL set): the NATS link every hub process holds, and the wiring that
puts the message bus, the read intake and the edge links across processes on it.

Called by the composition root before anything subscribes to the bus. The embedded default never comes here.
"""

from __future__ import annotations

from openrtcc.adapters.bus.nats_link import NatsLink
from openrtcc.config import Settings
from openrtcc.domain.errors import InvalidInput
from openrtcc.log_setup import process_identity


def process_name(settings: Settings, role: str) -> str:
    return process_identity(settings.process_name, role)  # the name the process's log records carry


def check_settings(settings: Settings) -> None:
    """City mode shares one database between processes on several machines: PostgreSQL, not SQLite."""
    if not settings.resolved_database_url.startswith("postgresql"):
        raise InvalidInput("RTCC_NATS_URL (city mode) needs RTCC_DATABASE_URL=postgresql+psycopg://... : several hub "
                           "processes share one PostgreSQL/PostGIS database", code="city_needs_postgresql")


def connect(settings: Settings, role: str) -> NatsLink:
    """The process's NATS link, connected (NatsUnavailable when no server answers within the timeout)."""
    link = NatsLink(settings.nats_url or "", name=process_name(settings, role))
    return link.start(timeout_s=settings.nats_connect_timeout_s)
