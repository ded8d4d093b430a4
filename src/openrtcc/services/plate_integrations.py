"""Plate integrations of a read source: create, list, disable; Plate Recognizer webhooks authenticated and ingested."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from openrtcc.domain.frigate_messages import FrigateLinkConfig
from openrtcc.domain.plate_recognizer import PlateRecognizerConfig, parse_webhook, reads_of
from openrtcc.services.hub import Actor, Hub
from openrtcc.services.ingest import ReadAck, ingest_reads
from openrtcc.services.read_sources import ReadSource

KINDS = ("frigate", "plate_recognizer")
TOKEN_PREFIX = "rtcc_pr_"  # recognisable in a leaked Stream config or by a secret scanner
CONFIGS = {"frigate": FrigateLinkConfig, "plate_recognizer": PlateRecognizerConfig}


@dataclass(frozen=True, slots=True)
class PlateIntegration:
    id: str
    read_source_id: str
    agency_id: str
    kind: str
    config: dict
    status: dict
    created_at: datetime
    disabled_at: datetime | None
    source_kind: str
    source_name: str
    source_default_state: str | None
    source_revoked: bool

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None and not self.source_revoked

    def source(self) -> ReadSource:
        return ReadSource(self.read_source_id, self.agency_id, self.source_name, self.source_kind,
                          self.source_default_state, self.created_at, None)


def integration_of(row) -> PlateIntegration:
    return PlateIntegration(row.id, row.read_source_id, row.agency_id, row.kind, dict(row.config or {}),
                            dict(row.status or {}), row.created_at, row.disabled_at, row.source_kind,
                            row.source_name, row.source_default_state, row.source_revoked_at is not None)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def checked_config(kind: str, config: dict, password: str | None) -> dict:
    """The integration's settings as the hub keeps them; InvalidInput naming the first bad field."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", code="bad_kind")
    if password is not None and (kind != "frigate" or len(password) > 256):
        raise InvalidInput("a password is for a Frigate broker (at most 256 characters)", code="bad_password")
    try:
        return CONFIGS[kind].model_validate(config).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"config.{where}: {first['msg']}", code="bad_config", details={"field": where}) from None


def create_integration(hub: Hub, actor: Actor, source_id: str, kind: str, config: dict,
                       password: str | None = None) -> tuple[PlateIntegration, str | None]:
    """An agency administrator attaches an integration to one of the agency's read sources. Returns it with the
    Plate Recognizer token (shown once; the hub keeps its digest), or None for Frigate."""
    actor.require(Permission.MANAGE_READ_SOURCES)
    return _create(hub, actor.agency_id, source_id, kind, config, password, actor.user_id, actor.source)


def create_for_source(hub: Hub, source_id: str, kind: str, config: dict,
                      password: str | None = None) -> tuple[PlateIntegration, str | None]:
    """The operator's path (`rtcc plate-integration create`): no session, audited as the command line."""
    with hub.uow() as uow:
        agency_id = uow.plate_integrations.agency_of_source(source_id)
        uow.rollback()
    if agency_id is None:
        raise NotFound(f"no read source {source_id!r}", code="unknown_source")
    return _create(hub, agency_id, source_id, kind, config, password, None, "cli")


def _create(hub: Hub, agency_id: str, source_id: str, kind: str, config: dict, password: str | None,
            by: str | None, client: str | None) -> tuple[PlateIntegration, str | None]:
    config = checked_config(kind, config, password)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32) if kind == "plate_recognizer" else None
    with hub.uow() as uow:
        source = uow.read_sources.get(agency_id, source_id)
        if source is None or source.revoked_at is not None:
            raise NotFound("no such active read source in your agency", code="unknown_source")
        wanted = set(config["cameras"].values())
        missing = wanted - uow.reads.known_cameras(agency_id, wanted)
        if missing:
            raise InvalidInput(f"config.cameras: {len(missing)} camera id(s) are not active cameras of your "
                               "agency's program", code="unknown_camera")
        integration_id = hub.ids.new_id()
        uow.plate_integrations.add(id=integration_id, read_source_id=source_id, kind=kind, config=config,
                                   secret=token_hash(token) if token else password, created_at=hub.clock.now(),
                                   status={})
        uow.record(AuditEntry("plate_integration.create", "success", by, agency_id,
                              f"plate_integration:{integration_id}", client,
                              {"kind": kind, "source": source_id, "cameras": len(wanted)}))
        uow.commit()
        return integration_of(uow.plate_integrations.get(integration_id)), token


def list_integrations(hub: Hub, actor: Actor) -> list[PlateIntegration]:
    actor.require(Permission.MANAGE_READ_SOURCES)
    with hub.uow() as uow:
        rows = uow.plate_integrations.for_agency(actor.agency_id)
        uow.record(actor.entry("plate_integration.list", f"agency:{actor.agency_id}", count=len(rows)))
        uow.commit()
    return [integration_of(r) for r in rows]


def list_all(hub: Hub) -> list[PlateIntegration]:
    """Every agency's integrations, for the operator's command line (audited as it)."""
    with hub.uow() as uow:
        rows = uow.plate_integrations.for_agency(None)
        uow.record(AuditEntry("plate_integration.list", "success", None, None, "plate_integration:*", "cli",
                              {"count": len(rows)}))
        uow.commit()
    return [integration_of(r) for r in rows]


def disable_integration(hub: Hub, actor: Actor, integration_id: str) -> PlateIntegration:
    """From now on its webhook is refused and its Frigate link closes (within a reconcile round)."""
    actor.require(Permission.MANAGE_READ_SOURCES)
    with hub.uow() as uow:
        row = uow.plate_integrations.get_for_agency(actor.agency_id, integration_id)
        if row is None:
            raise NotFound("no such plate integration in your agency", code="unknown_integration")
        changed = uow.plate_integrations.disable(integration_id, hub.clock.now())
        uow.record(actor.entry("plate_integration.disable", f"plate_integration:{integration_id}",
                               already=not changed))
        uow.commit()
        return integration_of(uow.plate_integrations.get(integration_id))


def record_status(hub: Hub, integration_id: str, status: dict) -> None:
    """A link's state (connected, last message, counts, last error) for the admin's listing: bookkeeping."""
    with hub.uow() as uow:
        uow.plate_integrations.set_status(integration_id, status)
        uow.commit_bookkeeping()


def authenticate_plate_recognizer(hub: Hub, integration_id: str, token: str | None,
                                  client: str | None) -> PlateIntegration:
    """The enabled Plate Recognizer integration this token opens; refusals audited, the token never."""
    if not token:
        raise Unauthenticated("send the integration's token as `Authorization: Token <token>` or in the URL",
                              code="token_missing")
    with hub.uow() as uow:
        row = uow.plate_integrations.get(integration_id)
        stored = uow.plate_integrations.secret_of(integration_id) if row is not None else None
        uow.rollback()
    ok = row is not None and row.kind == "plate_recognizer" and stored is not None and hmac.compare_digest(
        stored, token_hash(token))
    integration = integration_of(row) if ok else None
    if integration is None or not integration.enabled:
        hub.metrics.count("rtcc_plate_integration_messages_total", kind="plate_recognizer", outcome="unauthorised")
        if integration is None:
            raise Unauthenticated("unknown integration or wrong token", code="bad_token")
        raise Unauthenticated("this integration is disabled", code="integration_disabled")
    return integration


def ingest_plate_recognizer(hub: Hub, integration: PlateIntegration, document: bytes | str,
                            frame: bytes | None, client: str | None) -> list[ReadAck]:
    """One Stream recognition as reads of the integration's source; bad input refused, audited and counted."""
    try:
        hook = parse_webhook(document)
        config = PlateRecognizerConfig.model_validate(integration.config)
        batch = None if hook is None else reads_of(hook, config, frame)
        if batch is None:
            hub.metrics.count("rtcc_plate_integration_messages_total", kind="plate_recognizer", outcome="ignored")
            return []
        acks = ingest_reads(hub, integration.source(), batch, client)
    except DomainError as exc:
        refused(hub, integration, exc.code, client)
        raise
    stored = any(a.status == "stored" for a in acks)
    hub.metrics.count("rtcc_plate_integration_messages_total", kind="plate_recognizer",
                      outcome="read" if stored else "duplicate")
    return acks


def refused(hub: Hub, integration: PlateIntegration, code: str, client: str | None) -> None:
    """Bad input from an integration is evidence too: who sent what kind of refusal (never the content)."""
    outcome = "unknown_camera" if code == "unknown_camera" else "refused"
    hub.metrics.count("rtcc_plate_integration_messages_total", kind="plate_recognizer", outcome=outcome)
    with hub.uow() as uow:
        uow.record(AuditEntry("plate_integration.refused", "denied", None, integration.agency_id,
                              f"plate_integration:{integration.id}", client, {"code": code}))
        uow.commit()
