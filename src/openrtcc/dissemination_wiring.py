"""Composition of dissemination: the channel senders the settings turn on, and the dispatcher that feeds them."""

from __future__ import annotations

from openrtcc.config import Settings
from openrtcc.services.hub import Hub


def wire(hub: Hub, settings: Settings) -> None:
    """Subscribe dissemination to the bus and add its background work to hub.extras["background"]."""
