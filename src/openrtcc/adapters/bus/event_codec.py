"""Bus events as bytes between hub processes: typed, versioned, and only the types the hub knows.

An event travels as JSON `{"v": 1, "type": "<name>", "event": {...}}`; the name is the event class's name
from the registry below, never a module path taken from the message, so a message cannot make a process
build an arbitrary object. The payload is the dataclass as pydantic dumps it (datetimes in ISO 8601 with
their offset, enums by value) and is read back into the same dataclass, validated.
"""

from __future__ import annotations

import json
from functools import cache

from pydantic import TypeAdapter, ValidationError

from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.command_events import (
    AlertChanged,
    CameraStatusChanged,
    EmergencyChanged,
    IncidentChanged,
    SharingChanged,
    TipReceived,
)
from openrtcc.domain.edge_access import EdgeAccessChanged
from openrtcc.domain.hotlists import HotListsChanged

VERSION = 1
EVENT_TYPES: dict[str, type] = {t.__name__: t for t in (
    AlertRaised, AlertChanged, IncidentChanged, CameraStatusChanged, SharingChanged, TipReceived, EmergencyChanged,
    HotListsChanged, EdgeAccessChanged,
)}


class UnknownEvent(ValueError):
    """A message this process cannot read (another version, another type, or not an event at all)."""


def register(event_type: type) -> type:
    """Make another event type travel between processes (its class name must be unique)."""
    EVENT_TYPES[event_type.__name__] = event_type
    return event_type


def type_name(event_type: type) -> str:
    if EVENT_TYPES.get(event_type.__name__) is not event_type:
        raise UnknownEvent(f"{event_type.__name__} is not a registered bus event")
    return event_type.__name__


@cache
def _adapter(event_type: type) -> TypeAdapter:
    return TypeAdapter(event_type)


def encode(event: object) -> bytes:
    name = type_name(type(event))
    payload = _adapter(type(event)).dump_python(event, mode="json")
    return json.dumps({"v": VERSION, "type": name, "event": payload}, separators=(",", ":"),
                      ensure_ascii=False).encode()


def decode(data: bytes) -> object:
    try:
        message = json.loads(data)
    except ValueError as exc:
        raise UnknownEvent("not JSON") from exc
    if not isinstance(message, dict) or message.get("v") != VERSION:
        raise UnknownEvent(f"unsupported event message version {message.get('v') if isinstance(message, dict) else None!r}")
    event_type = EVENT_TYPES.get(message.get("type"))
    if event_type is None:
        raise UnknownEvent(f"unknown event type {str(message.get('type'))[:60]!r}")
    try:
        return _adapter(event_type).validate_python(message.get("event"))
    except ValidationError as exc:  # its text quotes the input (a plate, a name): logs get the count only
        raise UnknownEvent(f"invalid {event_type.__name__} event ({exc.error_count()} errors)") from None
