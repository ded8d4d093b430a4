"""Readiness probes of the hub's dependencies: each a callable answering "ok" or a short fixed reason, never an
error's text (it may carry a URL with a password, or a host name)."""

from __future__ import annotations

import logging

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from openrtcc.adapters.bus.nats_link import NatsLink
from openrtcc.adapters.db.engine import MIGRATIONS_DIR

log = logging.getLogger(__name__)
OK = "ok"


class DatabaseProbe:
    """The database answers, and its schema is at the migrations' head. The schema is compared until it has
    been found at head once (a process never runs against an older schema afterwards: migrations only move
    forward); after that each probe is one `SELECT 1`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._heads = frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
        self._at_head = False

    def __call__(self) -> str:
        try:
            with self._connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # down, refused, dropped: the type only, never the URL
            log.warning("readiness: database unavailable (%s)", type(exc).__name__)
            return "unavailable"
        if not self._at_head:
            if self._versions() != self._heads:
                return "not_migrated"
            self._at_head = True
        return OK

    def _connect(self):
        # A read transaction: on SQLite a plain BEGIN (engine.py), so the probe never queues for the write lock.
        return self.engine.connect().execution_options(read_only=True)

    def _versions(self) -> frozenset[str]:
        try:
            with self._connect() as conn:
                return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except Exception:  # no version table: never migrated
            return frozenset()


class JetStreamProbe:
    """The NATS link is connected and JetStream answers an account-info request in time."""

    def __init__(self, link: NatsLink, timeout_s: float = 1.0):
        self.link, self.timeout_s = link, timeout_s

    def __call__(self) -> str:
        if not self.link.connected:
            return "disconnected"
        try:
            self.link.call(lambda: self.link.js.account_info(), self.timeout_s)
        except Exception as exc:
            log.warning("readiness: JetStream did not answer (%s)", type(exc).__name__)
            return "jetstream_unavailable"
        return OK
