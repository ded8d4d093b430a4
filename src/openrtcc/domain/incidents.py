"""Incidents: what the command center works on, opened by an operator or arriving from outside (CAD, gunshot
detection, a promoted tip), moved by operator actions (acknowledge, assign, escalate, disposition)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


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
