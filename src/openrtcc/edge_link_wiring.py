"""Composition of the edge links in city mode: a box's link is held by one serve process; the others reach it
through NATS.

(Being written in this session.)"""

from __future__ import annotations

from openrtcc.config import Settings
from openrtcc.services.hub import Hub


def wire(hub: Hub, settings: Settings) -> None:
    return None
