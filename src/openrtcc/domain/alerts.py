"""Alerts: a hot-list hit waiting for a person to confirm it, and the dispositions that close it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from openrtcc.domain.errors import Conflict, InvalidInput

MAX_NOTE = 500


class AlertStatus(StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"  # a person compared crop and record: it is the listed vehicle
    MISREAD = "misread"  # the reader got the plate wrong
    WRONG_STATE = "wrong_state"  # right characters, another state's plate
    RESOLVED = "resolved"  # acted on, or no longer needs action


DISPOSITIONS = frozenset({AlertStatus.CONFIRMED, AlertStatus.MISREAD, AlertStatus.WRONG_STATE,
                          AlertStatus.RESOLVED})
# A confirmed alert is later resolved; the other dispositions close the alert for good, so that a
# misread cannot quietly become a confirmed stop.
_ALLOWED = {
    AlertStatus.NEW: DISPOSITIONS,
    AlertStatus.CONFIRMED: frozenset({AlertStatus.RESOLVED}),
}

# Best first: when one read hits several entries of one list, the alert shows the strongest match.
MATCH_KIND_RANK = ("exact", "state_blind", "lookalike", "one_edit", "partial")


def disposition_status(current: AlertStatus, disposition: str, note: str | None) -> AlertStatus:
    """The status an alert moves to; refuses unknown dispositions and moves the rules do not allow."""
    try:
        wanted = AlertStatus(disposition)
    except ValueError:
        raise InvalidInput(f"disposition must be one of {', '.join(sorted(DISPOSITIONS))}",
                           code="bad_disposition") from None
    if wanted not in DISPOSITIONS:
        raise InvalidInput(f"disposition must be one of {', '.join(sorted(DISPOSITIONS))}", code="bad_disposition")
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"a note has at most {MAX_NOTE} characters", code="bad_note")
    if wanted not in _ALLOWED.get(current, frozenset()):
        raise Conflict(f"an alert marked {current.value} cannot be marked {wanted.value}", code="alert_closed")
    return wanted


def check_operator_action(view: AlertView, action: str, assignee: str | None = None) -> None:
    """Acknowledge and escalate count once; assign gives the alert to someone else than now; none of them
    moves an alert whose disposition closed it (a confirmed alert is still being acted on)."""
    if view.status not in (AlertStatus.NEW, AlertStatus.CONFIRMED):
        raise Conflict(f"the alert is closed ({view.status.value})", code="alert_closed")
    if action == "acknowledge" and view.acknowledged_at is not None:
        raise Conflict("the alert is already acknowledged", code="already_acknowledged")
    if action == "escalate" and view.escalated_at is not None:
        raise Conflict("the alert is already escalated", code="already_escalated")
    if action == "assign" and view.assigned_to == assignee:
        raise Conflict("the alert is already assigned to this person", code="already_assigned")


def kind_rank(kind: str) -> int:
    return MATCH_KIND_RANK.index(kind) if kind in MATCH_KIND_RANK else len(MATCH_KIND_RANK)


def entry_snapshot(entry: object) -> dict:
    """The hot-list record as it stood at the hit, JSON-ready: the alert keeps it even if the list changes."""
    doc = dataclasses.asdict(entry) if dataclasses.is_dataclass(entry) else dict(entry)  # type: ignore[arg-type]
    return {k: (v.isoformat() if isinstance(v, (datetime, date)) else (v.value if isinstance(v, StrEnum) else v))
            for k, v in doc.items()}


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as an officer sees it: the read (plate, place, time, crop) beside the hot-list record."""

    id: str
    agency_id: str
    status: AlertStatus
    match_kind: str
    list_id: str
    list_name: str | None
    entry: dict
    read_id: str
    plate: str
    state: str | None
    region: str | None
    confidence: float
    camera_id: str | None
    lat: float | None
    lon: float | None
    heading_deg: float | None
    vehicle_make: str | None
    vehicle_colour: str | None
    vehicle_type: str | None
    has_crop: bool
    has_snapshot: bool
    captured_at: datetime
    created_at: datetime
    disposition_by: str | None = None
    disposition_at: datetime | None = None
    disposition_note: str | None = None
    acknowledged_at: datetime | None = None  # operator actions besides the disposition (issue 5)
    assigned_to: str | None = None
    assigned_name: str | None = None
    escalated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlertRaised:
    """Published on the event bus after the alert's transaction commits."""

    alert: AlertView
    outbox_id: int | None = None  # the durable record of this announcement, marked once it is published
