"""Events the command center follows live, published on the bus after the transaction that made them commits.

Each carries the agencies it is for: a subscriber never filters another agency's events out by itself.
(AlertRaised, the first of them, lives in domain.alerts.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from openrtcc.domain.alerts import AlertView
from openrtcc.domain.incidents import IncidentView


@dataclass(frozen=True, slots=True)
class AlertChanged:
    """An operator acknowledged, assigned, escalated or disposed of an alert."""

    alert: AlertView
    action: str  # acknowledge | assign | escalate | disposition
    actor_id: str | None


@dataclass(frozen=True, slots=True)
class IncidentChanged:
    """An incident opened, changed or closed; `before` is None when it opened."""

    incident: IncidentView
    change: str  # opened | updated | closed
    before: IncidentView | None = None


@dataclass(frozen=True, slots=True)
class CameraStatusChanged:
    """An integrated camera went offline or came back (its box's health report, or its box's link)."""

    camera_id: str
    agency_ids: tuple[str, ...]  # the agencies whose map shows the camera
    online: bool
    at: datetime
    reason: str | None = None  # camera_error | box_offline | box_revoked ...


@dataclass(frozen=True, slots=True)
class SharingChanged:
    """An owner changed what a camera shares: revoked, paused, or a new policy."""

    camera_id: str
    agency_ids: tuple[str, ...]
    change: str  # revoked | paused | policy | tier
    at: datetime


@dataclass(frozen=True, slots=True)
class TipReceived:
    """A public tip landed in an agency's command-center queue (no tipster details travel in the event)."""

    tip_id: str
    agency_id: str
    at: datetime
    has_media: bool
    excerpt: str  # the first characters of the text


@dataclass(frozen=True, slots=True)
class EmergencyChanged:
    """An emergency was declared or ended: emergency-only cameras near it open or close."""

    emergency_id: str
    agency_id: str
    change: str  # declared | ended | expired
    at: datetime
