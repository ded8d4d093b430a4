"""A gunshot-detection event as the detector's webhook sends it, and the incident it opens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import AwareDatetime, Field

from openrtcc.domain.cad import EmergencyRule, StrictMessage
from openrtcc.domain.incidents import IncidentDraft, IncidentSource

GUNSHOT_CATEGORY = "shots_fired"
MAX_ROUNDS = 1000


class GunshotEvent(StrictMessage):
    version: Literal[1] = 1
    event_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
                          description="The detector's own id: one incident per event.")
    detected_at: AwareDatetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    rounds: int = Field(ge=1, le=MAX_ROUNDS)
    kind: Literal["single", "multiple", "possible"] = Field(
        description="single gunshot, multiple gunshots, or a possible gunshot the detector is unsure of.")
    confidence: float = Field(ge=0, le=1)
    address: str | None = Field(None, max_length=200)


class GunshotConfig(StrictMessage):
    """An integration's configuration: optionally, an emergency declared with every confirmed (not `possible`)
    detection, opening emergency-only cameras around it."""

    emergency: EmergencyRule | None = None


@dataclass(frozen=True, slots=True)
class MappedEvent:
    draft: IncidentDraft
    emergency: EmergencyRule | None


_TITLES = {"single": "Gunshot detected", "multiple": "Multiple gunshots detected", "possible": "Possible gunshot"}


def map_event(event: GunshotEvent, config: GunshotConfig) -> MappedEvent:
    """Confirmed detections are priority 1; a possible gunshot is priority 2 and never opens an emergency."""
    rounds = f"{event.rounds} round{'s' if event.rounds != 1 else ''}"
    draft = IncidentDraft(
        category=GUNSHOT_CATEGORY, priority=2 if event.kind == "possible" else 1,
        title=f"{_TITLES[event.kind]}: {rounds}", lat=event.lat, lon=event.lon, address=event.address,
        source=IncidentSource.GUNSHOT, external_id=event.event_id,
        details={"rounds": event.rounds, "kind": event.kind, "confidence": event.confidence,
                 "detected_at": event.detected_at.isoformat()})
    return MappedEvent(draft, None if event.kind == "possible" else config.emergency)
