"""Frigate's MQTT messages about plates (`lpr` object updates, `events`) and the one read each vehicle event makes.

Frigate (0.14 and later) reports a recognised plate twice over: `<prefix>/tracked_object_update` carries
`{"type": "lpr", "id", "name", "plate", "score", "camera", "timestamp"}` each time its reading improves, and
`<prefix>/events` carries `{"type": "new"|"update"|"end", "before", "after"}` whose `after` holds
`recognized_license_plate` (a string beside `recognized_license_plate_score` in 0.16, a `[plate, score]`
pair in some builds). Both say the same event id, so they fold into one sighting per vehicle event."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

EVENT_ID = r"^[\x21-\x7e]{1,100}$"  # Frigate's ids look like 1607123955.475377-mxklsc
CAMERA_NAME = r"^[A-Za-z0-9_-]{1,64}$"  # Frigate's own rule for camera names
_CAMERA_NAME = re.compile(CAMERA_NAME[1:-1])
MAX_MESSAGE_BYTES = 256 * 1024  # an event with its zones and attributes is a few KiB; snapshots never come here


class _Lenient(BaseModel):
    # Frigate adds fields release by release; what we do not use is ignored, never refused.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, frozen=True)


class LprUpdate(_Lenient):
    """`<prefix>/tracked_object_update` with type lpr."""

    type: Literal["lpr"]
    id: str = Field(pattern=EVENT_ID)
    camera: str = Field(pattern=CAMERA_NAME)
    plate: str = Field(min_length=1, max_length=32)
    score: float = Field(ge=0, le=1)
    timestamp: float = Field(gt=0)
    name: str | None = None  # the known-plate name Frigate's user gave it; not kept (it names a person)


class EventState(_Lenient):
    """The `after` (or `before`) object of a Frigate event message: only what a plate read needs."""

    id: str = Field(pattern=EVENT_ID)
    camera: str = Field(pattern=CAMERA_NAME)
    label: str = Field(max_length=64)
    start_time: float = Field(gt=0)
    end_time: float | None = None
    score: float | None = Field(None, ge=0, le=1)
    recognized_license_plate: str | list | None = None
    recognized_license_plate_score: float | None = Field(None, ge=0, le=1)

    @field_validator("recognized_license_plate")
    @classmethod
    def _plate_or_pair(cls, v):
        if isinstance(v, list):
            if len(v) != 2 or not isinstance(v[0], str) or not isinstance(v[1], int | float):
                raise ValueError("a [plate, score] pair")
        return v

    def plate(self) -> tuple[str, float] | None:
        """(plate, score) as this Frigate version reports it, or None when no plate was read."""
        value = self.recognized_license_plate
        if isinstance(value, list):
            plate, score = value[0], float(value[1])
        elif isinstance(value, str):
            plate, score = value, self.recognized_license_plate_score
            if score is None:
                score = self.score if self.score is not None else 0.0
        else:
            return None
        plate = plate.strip()
        if not plate or len(plate) > 32 or not 0 <= score <= 1:
            return None
        return plate, score


class EventMessage(_Lenient):
    """`<prefix>/events`."""

    type: Literal["new", "update", "end"]
    after: EventState
    before: dict | None = None


class FrigateLinkConfig(BaseModel):
    """A Frigate integration's settings (the broker password is kept apart, as the integration's secret)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    broker_url: str = Field(max_length=300, pattern=r"^mqtts?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?$",
                            description="mqtt://host:1883 or mqtts://host:8883 (no credentials in the URL).")
    username: str | None = Field(None, max_length=120, description="Broker user; its password is the secret.")
    topic_prefix: str = Field("frigate", pattern=r"^[A-Za-z0-9_\-/]{1,64}$",
                              description="Frigate's mqtt.topic_prefix.")
    cameras: dict[str, str] = Field(min_length=1, max_length=500,
                                    description="Frigate camera name -> the registry's camera id.")
    min_score: float = Field(0.0, ge=0, le=1, description="Plates read with a lower score are ignored.")
    settle_s: float = Field(5.0, ge=0.5, le=120,
                            description="Seconds without an update after which an event that never "
                                        "ended is read anyway.")

    @field_validator("cameras")
    @classmethod
    def _names(cls, v: dict[str, str]) -> dict[str, str]:
        for name, camera_id in v.items():
            if not _CAMERA_NAME.fullmatch(name) or not 1 <= len(camera_id) <= 36:
                raise ValueError("each camera maps a Frigate camera name (letters, digits, _ and -) to a camera id")
        return v


class MalformedMessage(ValueError):
    """A message that is not what Frigate sends; says why without repeating the payload."""


def parse_message(topic_suffix: str, payload: bytes) -> LprUpdate | EventMessage | None:
    """The typed message; None for messages of those topics that are not about plates (other update types)."""
    if len(payload) > MAX_MESSAGE_BYTES:
        raise MalformedMessage("message too large")
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedMessage("not JSON") from None
    if not isinstance(doc, dict):
        raise MalformedMessage("not a JSON object")
    try:
        if topic_suffix == "tracked_object_update":
            return LprUpdate.model_validate(doc) if doc.get("type") == "lpr" else None
        if topic_suffix == "events":
            return EventMessage.model_validate(doc)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise MalformedMessage(f"invalid fields: {', '.join(fields)[:200]}") from None
    return None


@dataclass(frozen=True, slots=True)
class Sighting:
    """The best plate of one Frigate vehicle event so far."""

    event_id: str
    camera: str
    plate: str
    score: float
    at: datetime  # when Frigate saw it


def sightings_of(message: LprUpdate | EventMessage) -> Sighting | None:
    if isinstance(message, LprUpdate):
        return Sighting(message.id, message.camera, message.plate, message.score, _utc(message.timestamp))
    found = message.after.plate()
    if found is None:
        return None
    return Sighting(message.after.id, message.after.camera, found[0], found[1], _utc(message.after.start_time))


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass(slots=True)
class _Pending:
    best: Sighting
    first_seen: datetime
    last_seen: datetime
    ended: bool = False


@dataclass(slots=True)
class EventTracker:
    """Folds every message of a vehicle event into one sighting with its best-scored plate, and says when
    it is settled: at the event's `end`, or `settle` after its last update (an `end` can be lost, and an
    `lpr`-only setup never sends one), or `max_hold` after it began (a car parked in view). A settled event
    is remembered for `remember` so that a late update does not make a second read. Pure: `now` is given."""

    settle: timedelta = timedelta(seconds=5)
    max_hold: timedelta = timedelta(seconds=60)
    remember: timedelta = timedelta(hours=1)
    max_pending: int = 10_000
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _done: dict[str, datetime] = field(default_factory=dict)

    def observe(self, sighting: Sighting, now: datetime) -> bool:
        """Take a reading; False when its event was settled already (a late update, ignored)."""
        if sighting.event_id in self._done:
            return False
        pending = self._pending.get(sighting.event_id)
        if pending is None:
            self._pending[sighting.event_id] = _Pending(sighting, now, now)
        else:
            if sighting.score > pending.best.score:
                pending.best = Sighting(sighting.event_id, sighting.camera, sighting.plate, sighting.score,
                                        pending.best.at)  # the event's first sight stays its time
            pending.last_seen = now
        return True

    def end(self, event_id: str) -> None:
        pending = self._pending.get(event_id)
        if pending is not None:
            pending.ended = True

    def settled(self, now: datetime) -> list[Sighting]:
        """The events that are done, each once; forgets settled ids after `remember`."""
        due = [eid for eid, p in self._pending.items()
               if p.ended or now - p.last_seen >= self.settle or now - p.first_seen >= self.max_hold]
        overflow = len(self._pending) - len(due) - self.max_pending
        if overflow > 0:  # a flood of events: settle the oldest rather than grow without bound
            rest = sorted((p.first_seen, eid) for eid, p in self._pending.items() if eid not in set(due))
            due += [eid for _, eid in rest[:overflow]]
        out = []
        for eid in due:
            out.append(self._pending.pop(eid).best)
            self._done[eid] = now
        for eid in [e for e, at in self._done.items() if now - at > self.remember]:
            del self._done[eid]
        return out

    def pending_count(self) -> int:
        return len(self._pending)
