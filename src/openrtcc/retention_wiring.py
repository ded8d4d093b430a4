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
    hub.extras["retention_max_clock_jump"] = max_clock_jump(settings)
    if settings.retention_interval_s > 0:
        hub.extras.setdefault("background", []).append(
            PeriodicTask("retention-purge", settings.retention_interval_s, lambda: _scheduled(hub)))


def max_clock_jump(settings: Settings) -> timedelta:
    """The configured limit, but never less than two scheduled intervals and an hour: a schedule slower than
    the limit would otherwise have every one of its purges refused."""
    configured = timedelta(hours=settings.retention_max_clock_jump_hours)
    floor = timedelta(seconds=2 * settings.retention_interval_s) + timedelta(hours=1)
    if settings.retention_interval_s > 0 and configured < floor:
        log.warning("retention: max clock jump %s is shorter than two purge intervals; using %s", configured, floor)
        return floor
    return configured


def _scheduled(hub: Hub) -> None:
    try:
        run_purge(hub, "schedule")
    except Conflict:  # a purge from the CLI or the API is under way: this round has nothing to add
        log.info("retention: a purge is already running; skipped this round")
