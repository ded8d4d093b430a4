"""Wires hub-side retention into a serving hub: the scheduled purge (see services.retention)."""

from __future__ import annotations

from openrtcc.config import Settings
from openrtcc.services.hub import Hub


def wire(hub: Hub, settings: Settings) -> None:
    """Adds the retention purge to hub.extras["background"] when settings.retention_interval_s > 0."""
