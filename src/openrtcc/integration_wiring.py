"""Composition of the integrations that run beside the hub: Frigate MQTT links and Prometheus metrics."""

from __future__ import annotations

from openrtcc.config import Settings
from openrtcc.services.hub import Hub


def wire(hub: Hub, settings: Settings) -> None:
    """Install hub.metrics and add the Frigate links' background work to hub.extras["background"]."""
