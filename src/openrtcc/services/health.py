"""Readiness: can this process do its work now? Each dependency it needs is checked, briefly and read-only."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)  # dependency -> "ok" or a short reason

    @property
    def ready(self) -> bool:
        return all(v == "ok" for v in self.checks.values())

    def as_json(self) -> dict:
        return {"status": "ready" if self.ready else "not_ready", "checks": dict(self.checks)}


def readiness(hub) -> Readiness:
    checks = {"database": _database(hub)}
    link = hub.extras.get("nats")
    if link is not None:
        checks["nats"] = "ok" if link.connected else "disconnected"
    return Readiness(checks)


def _database(hub) -> str:
    engine = hub.extras.get("engine")
    if engine is None:
        return "ok"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # down, refused, timed out: say which, never the URL
        log.warning("readiness: database unavailable (%s)", type(exc).__name__)
        return "unavailable"
