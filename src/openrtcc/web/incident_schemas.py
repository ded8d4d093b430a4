"""JSON shapes of incidents, operator actions and inbound integrations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from openrtcc.domain.incidents import MAX_DESCRIPTION, MAX_NOTE, IncidentView, TimelineEntry
from openrtcc.services.integrations_in import Integration
from openrtcc.web.schemas import Strict


class IncidentIn(Strict):
    category: str = Field(max_length=40, description="A category slug, e.g. shots_fired, burglary, traffic.")
    priority: int = Field(ge=1, le=5, description="1 (most urgent) .. 5.")
    title: str = Field(max_length=200)
    lat: float
    lon: float
    description: str | None = Field(None, max_length=MAX_DESCRIPTION)
    address: str | None = Field(None, max_length=200)


class TimelineOut(BaseModel):
    at: datetime
    actor_name: str | None
    action: str
    details: dict

    @classmethod
    def of(cls, t: TimelineEntry) -> TimelineOut:
        return cls(at=t.at, actor_name=t.actor_name, action=t.action, details=t.details)


class IncidentOut(BaseModel):
    id: str
    source: str
    external_id: str | None
    category: str
    priority: int
    title: str
    description: str | None
    lat: float
    lon: float
    address: str | None
    status: str
    assigned_to: str | None
    assigned_name: str | None
    escalated_at: datetime | None
    disposition: str | None
    disposition_note: str | None
    emergency_id: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    details: dict
    timeline: list[TimelineOut] | None = None

    @classmethod
    def of(cls, v: IncidentView, timeline: list[TimelineEntry] | None = None) -> IncidentOut:
        return cls(
            id=v.id, source=v.source.value, external_id=v.external_id, category=v.category, priority=v.priority,
            title=v.title, description=v.description, lat=v.lat, lon=v.lon, address=v.address,
            status=v.status.value, assigned_to=v.assigned_to, assigned_name=v.assigned_name,
            escalated_at=v.escalated_at, disposition=v.disposition, disposition_note=v.disposition_note,
            emergency_id=v.emergency_id, created_at=v.created_at, updated_at=v.updated_at, closed_at=v.closed_at,
            details=v.details, timeline=[TimelineOut.of(t) for t in timeline] if timeline is not None else None)


class AssignIn(Strict):
    user_id: str = Field(max_length=36, description="A user id from GET /api/incidents/assignees.")
    note: str | None = Field(None, max_length=MAX_NOTE)


class NoteIn(Strict):
    note: str | None = Field(None, max_length=MAX_NOTE)


class IncidentDispositionIn(Strict):
    disposition: str = Field(max_length=40, description="resolved, report_taken, arrest, citation, assisted, "
                                                        "unfounded, gone_on_arrival, no_action, duplicate or "
                                                        "cancelled.")
    note: str | None = Field(None, max_length=MAX_NOTE)


class IncidentEmergencyIn(Strict):
    radius_m: float = Field(gt=0, description="Emergency-only cameras this close to the incident open.")
    expires_in_minutes: int = Field(ge=1, le=24 * 60)
    reason: str | None = Field(None, max_length=300, description="Defaults to the incident's title.")


class AssigneeOut(BaseModel):
    id: str
    name: str
    role: str


class IntegrationIn(Strict):
    kind: Literal["cad", "gunshot"]
    name: str = Field(min_length=1, max_length=120)
    config: dict | None = Field(None, description="CAD: the code map {default_category, default_priority, "
                                                  "codes: {code: {category, priority, label, emergency}}}.")


class IntegrationOut(BaseModel):
    id: str
    kind: str
    name: str
    config: dict
    created_at: datetime
    revoked_at: datetime | None
    webhook_url: str

    @classmethod
    def of(cls, i: Integration, base_url: str) -> IntegrationOut:
        return cls(id=i.id, kind=i.kind, name=i.name, config=i.config, created_at=i.created_at,
                   revoked_at=i.revoked_at, webhook_url=f"{base_url}/api/integrations/{i.id}/{i.kind}")


class IntegrationCreatedOut(IntegrationOut):
    secret: str = Field(description="The signing secret: shown this once, store it in the sending system.")


class DeliveryOut(BaseModel):
    incident_id: str
    change: str
    status: str
