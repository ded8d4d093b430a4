"""Incidents: what the command center works on, opened by an operator or arriving from outside (CAD, gunshot
detection, a promoted tip), moved by operator actions (acknowledge, assign, escalate, disposition)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from openrtcc.domain.errors import Conflict, InvalidInput
from openrtcc.domain.geo import valid_coordinates


class IncidentSource(StrEnum):
    OPERATOR = "operator"  # opened on the command-center screen
    CAD = "cad"  # a computer-aided-dispatch call arriving over the signed CAD webhook
    GUNSHOT = "gunshot"  # a gunshot-detection event
    TIP = "tip"  # a public tip an operator promoted


class IncidentStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"  # an operator has seen it
    ASSIGNED = "assigned"  # a unit or person owns it
    CLOSED = "closed"  # a disposition was recorded


@dataclass(frozen=True, slots=True)
class IncidentDraft:
    """What opens an incident, checked by the domain before anything is stored."""

    category: str
    priority: int  # 1 (most urgent) .. 5
    title: str
    lat: float
    lon: float
    description: str | None = None
    address: str | None = None
    source: IncidentSource = IncidentSource.OPERATOR
    external_id: str | None = None  # the CAD incident number or the detector's event id: one incident each
    details: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: str
    agency_id: str
    source: IncidentSource
    external_id: str | None
    category: str
    priority: int
    title: str
    description: str | None
    lat: float
    lon: float
    address: str | None
    status: IncidentStatus
    assigned_to: str | None
    escalated_at: datetime | None
    disposition: str | None
    disposition_note: str | None
    emergency_id: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    details: dict
    assigned_name: str | None = None  # the assignee's display name, for the screen


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of an incident's history: an operator action or an update from outside (CAD, detector)."""

    at: datetime
    actor_name: str | None  # None: the system or the integration that sent it (named in details)
    action: str
    details: dict


# ---------------------------------------------------------------- rules

CATEGORY = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")  # a slug: it reaches subscriptions, templates and metrics
MAX_TITLE = 200
MIN_TITLE = 3
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 200
MAX_NOTE = 500
MAX_EXTERNAL_ID = 120

# How an incident ends. The first ones a dispatcher knows; CAD closures and duplicates are named apart so
# that a report can tell what people did from what a system did.
DISPOSITIONS = ("resolved", "report_taken", "arrest", "citation", "assisted", "unfounded", "gone_on_arrival",
                "no_action", "duplicate", "cancelled", "closed_by_cad")
OPERATOR_DISPOSITIONS = tuple(d for d in DISPOSITIONS if d != "closed_by_cad")


def check_category(category: str) -> str:
    category = category.strip().lower()
    if not CATEGORY.match(category):
        raise InvalidInput("a category is a short slug: 2-40 lower-case letters, digits, '-' or '_', starting with "
                           "a letter (e.g. shots_fired)", code="bad_category")
    return category


def check_priority(priority: int) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 5:
        raise InvalidInput("priority is a whole number from 1 (most urgent) to 5", code="bad_priority")
    return priority


def _text(value: str | None, limit: int, what: str, code: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{what} has at most {limit} characters", code=code)
    return value or None


def validate_draft(draft: IncidentDraft) -> IncidentDraft:
    """The draft as it will be stored (trimmed, category lower-cased), or a refusal saying what is wrong."""
    title = draft.title.strip()
    if not MIN_TITLE <= len(title) <= MAX_TITLE:
        raise InvalidInput(f"a title has {MIN_TITLE} to {MAX_TITLE} characters", code="bad_title")
    if not valid_coordinates(draft.lat, draft.lon):
        raise InvalidInput("latitude must be within -90..90 and longitude within -180..180", code="bad_coordinates")
    if draft.external_id is not None and not 1 <= len(draft.external_id) <= MAX_EXTERNAL_ID:
        raise InvalidInput(f"an external id has 1 to {MAX_EXTERNAL_ID} characters", code="bad_external_id")
    return replace(draft, title=title, category=check_category(draft.category),
                   priority=check_priority(draft.priority),
                   description=_text(draft.description, MAX_DESCRIPTION, "a description", "bad_description"),
                   address=_text(draft.address, MAX_ADDRESS, "an address", "bad_address"))


def check_note(note: str | None) -> str | None:
    return _text(note, MAX_NOTE, "a note", "bad_note")


def _open(view: IncidentView, action: str) -> None:
    if view.status is IncidentStatus.CLOSED:
        raise Conflict(f"the incident is closed ({view.disposition}): it cannot be {action}",
                       code="incident_closed")


def acknowledged_status(view: IncidentView) -> IncidentStatus:
    """Acknowledging says an operator has seen a new incident; once is enough."""
    _open(view, "acknowledged")
    if view.status is not IncidentStatus.NEW:
        raise Conflict(f"the incident is already {view.status.value}", code="already_acknowledged")
    return IncidentStatus.ACKNOWLEDGED


def assigned_status(view: IncidentView, assignee: str) -> IncidentStatus:
    """Assigning (or re-assigning to someone else) gives an open incident an owner."""
    _open(view, "assigned")
    if view.assigned_to == assignee:
        raise Conflict("the incident is already assigned to this person", code="already_assigned")
    return IncidentStatus.ASSIGNED


def check_escalation(view: IncidentView) -> None:
    """Escalating flags an open incident for the supervisors; a second escalation adds nothing."""
    _open(view, "escalated")
    if view.escalated_at is not None:
        raise Conflict("the incident is already escalated", code="already_escalated")


def check_disposition(view: IncidentView, disposition: str, allowed: tuple[str, ...] = OPERATOR_DISPOSITIONS) -> str:
    """The disposition that closes an open incident; unknown ones are refused, and a closed one stays closed."""
    if disposition not in allowed:
        raise InvalidInput(f"disposition must be one of {', '.join(allowed)}", code="bad_disposition")
    _open(view, "closed again")
    return disposition


def check_emergency(view: IncidentView, linked_in_force: bool) -> None:
    """One emergency in force per incident: a second would leave two circles to end. Once it expired or
    ended, a new one may be declared."""
    _open(view, "given an emergency")
    if linked_in_force:
        raise Conflict("an emergency is already in force for this incident", code="emergency_exists")
