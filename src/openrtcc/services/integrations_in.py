"""Inbound integrations: a CAD or a gunshot detector posts signed webhooks that open, update and close
incidents. Each delivery is checked in order (known integration, signature and age, size, delivery id not
seen before, payload) and every refusal is audited with its reason, never with the body."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from pydantic import ValidationError

from openrtcc.domain.cad import (
    CadCall,
    CadCodeMap,
    EmergencyRule,
    field_problems,
    map_call,
    parse_code_map,
    parse_model,
)
from openrtcc.domain.cameras import check_in_jurisdiction
from openrtcc.domain.erasures import ErasureKind
from openrtcc.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from openrtcc.domain.geo import Point, area_from_geojson
from openrtcc.domain.gunshot import GunshotConfig, GunshotEvent, map_event
from openrtcc.domain.incidents import IncidentDraft, IncidentStatus, IncidentView, validate_draft
from openrtcc.domain.webhook_signing import TOLERANCE_S, verify
from openrtcc.periodic import PeriodicTask
from openrtcc.services import emergencies, erasures, incidents
from openrtcc.services.emergencies import EmergencyDraft
from openrtcc.services.hub import Actor, Hub

log = logging.getLogger(__name__)
KINDS = ("cad", "gunshot")
MAX_BODY_BYTES = 64 * 1024  # a call or a detection is a few hundred bytes
# Delivery ids are kept well past the signature tolerance: an older delivery is refused as stale anyway.
KEEP_SEEN = timedelta(seconds=TOLERANCE_S * 12)
CLEANUP_EVERY_S = 600.0


@dataclass(frozen=True, slots=True)
class Integration:
    id: str
    agency_id: str
    kind: str
    name: str
    config: dict
    created_at: datetime
    revoked_at: datetime | None


def _integration(row) -> Integration:
    return Integration(row.id, row.agency_id, row.kind, row.name, dict(row.config or {}), row.created_at,
                       row.revoked_at)


def check_config(kind: str, config: dict | None) -> dict:
    """The configuration as stored: a CAD's code map or a detector's options, refused with field errors."""
    if kind == "cad":
        return parse_code_map(config or {}).model_dump(mode="json")
    try:
        return GunshotConfig.model_validate(config or {}, strict=False).model_dump(mode="json")
    except ValidationError as exc:
        problems = field_problems(exc)
        raise InvalidInput(f"bad gunshot configuration: {problems[0]['field']}: {problems[0]['message']}",
                           code="bad_config", details={"problems": problems}) from None


# ---------------------------------------------------------------- administration


def create_integration(hub: Hub, actor: Actor, kind: str, name: str, config: dict | None) -> tuple[Integration, str]:
    """A new integration and its signing secret, which is shown this once."""
    actor.require(Permission.MANAGE_INTEGRATIONS)
    return _create(hub, actor.agency_id, kind, name, config, actor.user_id, actor.source)


def create_for_agency(hub: Hub, agency_slug: str, kind: str, name: str,
                      config: dict | None) -> tuple[Integration, str]:
    """The operator's path (`rtcc integration create`): no session, audited as the command line."""
    return _create(hub, _agency_id(hub, agency_slug), kind, name, config, None, "cli")


def _agency_id(hub: Hub, slug: str) -> str:
    with hub.uow() as uow:
        agency = uow.accounts.agency_by_slug(slug)
        uow.rollback()
    if agency is None:
        raise NotFound(f"no agency {slug!r}")
    return agency.id


def _create(hub: Hub, agency_id: str, kind: str, name: str, config: dict | None, by: str | None,
            client: str | None) -> tuple[Integration, str]:
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", code="bad_kind")
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise InvalidInput("a name has 1 to 120 characters", code="bad_name")
    stored = check_config(kind, config)
    secret = secrets.token_urlsafe(32)
    iid = hub.ids.new_id()
    with hub.uow() as uow:
        uow.integrations.add(id=iid, agency_id=agency_id, kind=kind, name=name, secret=secret, config=stored,
                             created_at=hub.clock.now())
        uow.record(AuditEntry("integration.create", "success", by, agency_id, f"integration:{iid}", client,
                              {"kind": kind, "name": name, "codes": len(stored.get("codes", {}))}))
        uow.commit()
        row = uow.integrations.get(agency_id, iid)
    return _integration(row), secret


def list_integrations(hub: Hub, actor: Actor) -> list[Integration]:
    actor.require(Permission.MANAGE_INTEGRATIONS)
    with hub.uow() as uow:
        rows = uow.integrations.for_agency(actor.agency_id)
        uow.record(actor.entry("integration.list", f"agency:{actor.agency_id}", count=len(rows)))
        uow.commit()
    return [_integration(r) for r in rows]


def list_for_agencies(hub: Hub, agency_slug: str | None) -> list[tuple[str, Integration]]:
    """(agency slug, integration) for one agency or every one: the operator's `rtcc integration list`."""
    with hub.uow() as uow:
        agencies = [a for a in uow.accounts.agencies() if agency_slug in (None, a.slug)]
        if agency_slug is not None and not agencies:
            raise NotFound(f"no agency {agency_slug!r}")
        found = [(a.slug, _integration(r)) for a in agencies for r in uow.integrations.for_agency(a.id)]
        uow.record(AuditEntry("integration.list", "success", None, agencies[0].id if agency_slug else None,
                              f"agency:{agency_slug or '*'}", "cli", {"count": len(found)}))
        uow.commit()
    return found


def revoke_integration(hub: Hub, actor: Actor, integration_id: str) -> Integration:
    """Its secret signs nothing from now on; its incidents stay."""
    actor.require(Permission.MANAGE_INTEGRATIONS)
    with hub.uow() as uow:
        if uow.integrations.get(actor.agency_id, integration_id) is None:
            raise NotFound("no such integration in your agency")
        if not uow.integrations.revoke(actor.agency_id, integration_id, hub.clock.now()):
            raise Conflict("this integration is already revoked", code="already_revoked")
        uow.record(actor.entry("integration.revoke", f"integration:{integration_id}"))
        erasures.note(hub, ErasureKind.INTEGRATION_REVOKED, target=integration_id, agency_id=actor.agency_id,
                      by=actor.user_id)
        uow.commit()
        row = uow.integrations.get(actor.agency_id, integration_id)
    return _integration(row)


# ---------------------------------------------------------------- deliveries


@dataclass(frozen=True, slots=True)
class Delivery:
    integration_id: str
    kind: str  # the route it arrived on: cad | gunshot
    headers: dict[str, str]
    body: bytes
    client: str | None
    oversized: bool = False  # the body was cut off at MAX_BODY_BYTES + 1


@dataclass(frozen=True, slots=True)
class Received:
    incident: IncidentView
    change: str  # opened | updated | closed


def receive(hub: Hub, delivery: Delivery) -> Received:
    """Check and apply one delivery; any refusal is audited (reason, integration, client) and raised."""
    agency_id = None
    try:
        integration, secret = _known(hub, delivery)
        agency_id = integration.agency_id
        if delivery.oversized:
            raise PayloadTooLarge(f"a webhook body has at most {MAX_BODY_BYTES} bytes")
        verified = verify(secret, delivery.headers, delivery.body, hub.clock.now())
        return _apply(hub, integration, verified.delivery_id, delivery)
    except DomainError as exc:
        _audit_refusal(hub, delivery, agency_id, exc)
        raise


def _known(hub: Hub, delivery: Delivery) -> tuple[Integration, str]:
    with hub.uow() as uow:
        row = uow.integrations.for_delivery(delivery.integration_id)
        uow.rollback()
    # Unknown, revoked or of the other kind: one answer, so a caller learns nothing about which ids exist.
    if row is None or row.revoked_at is not None or row.kind != delivery.kind:
        raise Forbidden(f"no active {delivery.kind} integration with this id", code="unknown_integration")
    return _integration(row), row.secret


def _audit_refusal(hub: Hub, delivery: Delivery, agency_id: str | None, exc: DomainError) -> None:
    try:
        with hub.uow() as uow:
            uow.record(AuditEntry("integration.refused", "denied", None, agency_id,
                                  f"integration:{delivery.integration_id}"[:200], delivery.client,
                                  {"kind": delivery.kind, "reason": exc.code, "message": exc.message[:200],
                                   "bytes": len(delivery.body)}))
            uow.commit()
    except Exception:  # the refusal stands even if it cannot be recorded
        log.exception("could not audit a refused %s delivery", delivery.kind)


def _apply(hub: Hub, integration: Integration, delivery_id: str, delivery: Delivery) -> Received:
    if integration.kind == "cad":
        message = parse_model(CadCall, delivery.body, "CAD call")
    else:
        message = parse_model(GunshotEvent, delivery.body, "gunshot event")
    with hub.uow() as uow:
        if not uow.integrations.mark_seen(integration.id, delivery_id, hub.clock.now()):
            raise Conflict("this delivery id was received before: replayed deliveries are refused",
                           code="replayed")
        if integration.kind == "cad":
            result, before, emergency = _cad_call(hub, uow, integration, message)
        else:
            result, before, emergency = _gunshot(hub, uow, integration, message)
        uow.record(AuditEntry("integration.delivery", "success", None, integration.agency_id,
                              f"incident:{result.incident.id}", delivery.client,
                              {"integration": integration.id, "delivery": delivery_id, "change": result.change}))
        uow.commit()
        emergency_row = uow.emergencies.get(integration.agency_id, emergency) if emergency else None
    if emergency_row is not None:
        emergencies.declared(hub, emergency_row)
    if before is None and result.change == "closed":  # a call first heard of as already closed
        incidents.announce(hub, result.incident, "opened")
    incidents.announce(hub, result.incident, result.change, before)
    return result


def _declare(hub: Hub, uow, view: IncidentView, rule: EmergencyRule, why: str) -> tuple[IncidentView, str]:
    """An emergency opened with the incident, in its transaction, tied to it (incident.emergency_id)."""
    draft = EmergencyDraft(view.lat, view.lon, rule.radius_m, why[:300], view.external_id, rule.minutes)
    eid = emergencies.declare_in(hub, uow, view.agency_id, None, draft)
    uow.record(AuditEntry("emergency.declare", "success", None, view.agency_id, f"emergency:{eid}", None,
                          {"radius_m": rule.radius_m, "minutes": rule.minutes, "incident": view.id,
                           "declared_by": "integration"}))
    now = hub.clock.now()
    view = incidents.change_incident(hub, uow, view, "emergency", {"emergency_id": eid},
                                     {"emergency_id": eid, "radius_m": rule.radius_m, "minutes": rule.minutes,
                                      "automatic": True}, None, now)
    return view, eid


def _cad_call(hub: Hub, uow, integration: Integration, call: CadCall):
    codes: CadCodeMap = parse_code_map(integration.config)
    mapped = map_call(call, codes)
    draft = _tagged(mapped.draft, integration)
    existing = uow.incidents.by_external(integration.agency_id, "cad", call.incident_number)
    emergency = None
    if existing is None:
        view = incidents.open_incident(hub, uow, integration.agency_id, draft, None)
        if mapped.emergency is not None and call.status == "open":
            view, emergency = _declare(hub, uow, view, mapped.emergency, f"CAD {call.incident_number}: {view.title}")
        before, change = None, "opened"
    else:
        view, change = _cad_update(hub, uow, integration, existing, draft)
        before = existing
        if mapped.emergency is not None and call.status == "open" and existing.emergency_id is None:
            view, emergency = _declare(hub, uow, view, mapped.emergency, f"CAD {call.incident_number}: {view.title}")
    if call.status == "closed" and view.status is not IncidentStatus.CLOSED:
        view = _close_by_cad(hub, uow, view)
        change = "closed"
    return Received(view, change), before, emergency


def _tagged(draft: IncidentDraft, integration: Integration) -> IncidentDraft:
    return replace(draft, details={**draft.details, "integration": integration.id,
                                   "integration_name": integration.name})


_UPDATABLE = ("category", "priority", "title", "description", "lat", "lon", "address")


def _cad_update(hub: Hub, uow, integration: Integration, existing: IncidentView,
                draft: IncidentDraft) -> tuple[IncidentView, str]:
    """A later message about a known call: what changed is applied and named on the timeline."""
    if existing.status is IncidentStatus.CLOSED:
        raise Conflict(f"CAD incident {existing.external_id} is closed here: open a new incident number",
                       code="incident_closed")
    draft = validate_draft(draft)
    agency = uow.accounts.agency(integration.agency_id)
    check_in_jurisdiction(Point(draft.lat, draft.lon), area_from_geojson(agency.jurisdiction), agency.name)
    values = {f: getattr(draft, f) for f in _UPDATABLE if getattr(draft, f) != getattr(existing, f)}
    values["details"] = {**existing.details, **draft.details}
    view = incidents.change_incident(hub, uow, existing, "cad_update", values,
                                     {"changed": sorted(k for k in values if k != "details")}, None, hub.clock.now())
    return view, "updated"


def _close_by_cad(hub: Hub, uow, view: IncidentView) -> IncidentView:
    now = hub.clock.now()
    return incidents.change_incident(hub, uow, view, "cad_close", {
        "status": IncidentStatus.CLOSED.value, "disposition": "closed_by_cad", "closed_at": now},
        {"disposition": "closed_by_cad"}, None, now)


def _gunshot(hub: Hub, uow, integration: Integration, event: GunshotEvent):
    config = GunshotConfig.model_validate(integration.config, strict=False)
    mapped = map_event(event, config)
    view = incidents.open_incident(hub, uow, integration.agency_id, _tagged(mapped.draft, integration), None)
    emergency = None
    if mapped.emergency is not None:
        view, emergency = _declare(hub, uow, view, mapped.emergency, f"Gunshot detection {event.event_id}")
    return Received(view, "opened"), None, emergency


# ---------------------------------------------------------------- upkeep


def forget_old_deliveries(hub: Hub) -> int:
    with hub.uow() as uow:
        n = uow.integrations.forget_seen(hub.clock.now() - KEEP_SEEN)
        uow.commit_bookkeeping()
    return n


def register_upkeep(hub: Hub) -> None:
    hub.extras.setdefault("background", []).append(
        PeriodicTask("webhook-delivery-upkeep", CLEANUP_EVERY_S, lambda: forget_old_deliveries(hub)))
