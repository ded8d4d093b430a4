"""Composition of the read intake in city mode: serve processes take reads into JetStream, workers store them.

(Being written in this session: see services/read_intake.py.)"""

from __future__ import annotations

from openrtcc.config import Settings
from openrtcc.services.hub import Hub


def wire(hub: Hub, settings: Settings) -> None:
    return None
