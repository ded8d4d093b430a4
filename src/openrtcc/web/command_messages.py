"""What the command-center socket sends: one typed message per bus event, with the agencies it is for.

`agencies_of(event)` says whose screens get it; `message_json(event)` makes its text once, whatever the number
of agencies and screens it goes to. The message shapes are the socket's contract with the pages (/command,
/alerts) and with integrators reading it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.command_events import (
    AlertChanged,
    CameraStatusChanged,
    EmergencyChanged,
    IncidentChanged,
    SharingChanged,
    TipReceived,
)
from openrtcc.web.incident_schemas import IncidentOut
from openrtcc.web.plate_schemas import AlertOut

HEARTBEAT = '{"type":"heartbeat"}'
EVENT_TYPES = (AlertRaised, AlertChanged, IncidentChanged, CameraStatusChanged, SharingChanged, TipReceived,
               EmergencyChanged)


class AlertMessage(BaseModel):
    type: Literal["alert"] = "alert"
    alert: AlertOut


class AlertUpdateMessage(BaseModel):
    type: Literal["alert_update"] = "alert_update"
    alert: AlertOut
    action: str


class CameraStatusMessage(BaseModel):
    type: Literal["camera_status"] = "camera_status"
    camera_id: str
    online: bool
    at: datetime
    reason: str | None


class SharingMessage(BaseModel):
    type: Literal["sharing"] = "sharing"
    camera_id: str
    change: str
    at: datetime


class TipMessage(BaseModel):
    type: Literal["tip"] = "tip"
    tip_id: str
    at: datetime
    has_media: bool
    excerpt: str


class EmergencyMessage(BaseModel):
    type: Literal["emergency"] = "emergency"
    emergency_id: str
    change: str
    at: datetime


def _incident_json(event: IncidentChanged) -> str:
    # The incident's shape is the incidents API's own (IncidentOut), so the page treats both alike.
    body = IncidentOut.of(event.incident).model_dump_json()
    return f'{{"type":"incident","change":{json.dumps(event.change)},"incident":{body}}}'


def agencies_of(event: object) -> tuple[str, ...]:
    """The agencies whose screens get the event (cheap: looked at before anything is serialised)."""
    match event:
        case AlertRaised(alert=a) | AlertChanged(alert=a):
            return (a.agency_id,)
        case IncidentChanged(incident=i):
            return (i.agency_id,)
        case CameraStatusChanged() | SharingChanged():
            return tuple(event.agency_ids)
        case TipReceived() | EmergencyChanged():
            return (event.agency_id,)
    raise TypeError(f"not a command event: {type(event).__name__}")


def message_json(event: object) -> str:
    """The event as the socket's message, JSON text (the same for every agency it goes to)."""
    match event:
        case AlertRaised(alert=a):
            return AlertMessage(alert=AlertOut.of(a)).model_dump_json()
        case AlertChanged(alert=a, action=action):
            return AlertUpdateMessage(alert=AlertOut.of(a), action=action).model_dump_json()
        case IncidentChanged():
            return _incident_json(event)
        case CameraStatusChanged():
            return CameraStatusMessage(camera_id=event.camera_id, online=event.online, at=event.at,
                                       reason=event.reason).model_dump_json()
        case SharingChanged():
            return SharingMessage(camera_id=event.camera_id, change=event.change, at=event.at).model_dump_json()
        case TipReceived():
            return TipMessage(tip_id=event.tip_id, at=event.at, has_media=event.has_media,
                              excerpt=event.excerpt).model_dump_json()
        case EmergencyChanged():
            return EmergencyMessage(emergency_id=event.emergency_id, change=event.change,
                                    at=event.at).model_dump_json()
    raise TypeError(f"not a command event: {type(event).__name__}")
