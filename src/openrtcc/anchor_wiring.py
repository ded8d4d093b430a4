"""Wires audit anchoring into a serving hub: the hub's Ed25519 signing key and the daily anchor."""

from __future__ import annotations

from openrtcc.config import Settings
from openrtcc.services.hub import Hub


def wire(hub: Hub, settings: Settings) -> None:
    """Puts the signing key in hub.extras["signer"] and the daily anchor in hub.extras["background"]."""
