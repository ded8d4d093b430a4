"""Wires hub-side retention into a serving hub: the scheduled purge (see services.retention)."""

from __future__ import annotations

import logging
from datetime import timedelta

from openrtcc.adapters.db.deletion_storage import finish_deletion
from openrtcc.config import Settings
from openrtcc.domain.errors import Conflict
from openrtcc.periodic import PeriodicTask
from openrtcc.services.hub import Hub
from openrtcc.services.retention import run_purge

log = logging.getLogger(__name__)


def wire(hub: Hub, settings: Settings) -> None:
    """Adds the retention purge to hub.extras["background"] when settings.retention_interval_s > 0."""
    engine = hub.extras["engine"]
    hub.extras["retention_finish_storage"] = lambda: finish_deletion(engine)
    hub.extras["retention_max_clock_jump"] = timedelta(hours=settings.retention_max_clock_jump_hours)
    if settings.retention_interval_s > 0:
        hub.extras.setdefault("background", []).append(
            PeriodicTask("retention-purge", settings.retention_interval_s, lambda: _scheduled(hub)))


def _scheduled(hub: Hub) -> None:
    try:
        run_purge(hub, "schedule")
    except Conflict:  # a purge from the CLI or the API is under way: this round has nothing to add
        log.info("retention: a purge is already running; skipped this round")
