"""Read sources (edge boxes, plate cameras, integrations): created with a key shown once, revoked, authenticated."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from openrtcc.domain.accounts import Permission
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.erasures import ErasureKind
from openrtcc.domain.errors import InvalidInput, NotFound, Unauthenticated
from openrtcc.domain.plates import normalize_state
from openrtcc.services import edge_read_access, erasures
from openrtcc.services.hub import Actor, Hub

SOURCE_KINDS = ("edge", "lpr_camera", "integration")
KEY_PREFIX = "rtcc_src_"  # recognisable in a leaked config file or a secret scanner's rules


@dataclass(frozen=True, slots=True)
class ReadSource:
    id: str
    agency_id: str
    name: str
    kind: str
    default_state: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _source(row) -> ReadSource:
    return ReadSource(row.id, row.agency_id, row.name, row.kind, row.default_state, row.created_at, row.revoked_at)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _checked(name: str, kind: str, default_state: str | None) -> tuple[str, str | None]:
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise InvalidInput("a source needs a name of 1 to 120 characters", code="bad_name")
    if kind not in SOURCE_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(SOURCE_KINDS)}", code="bad_kind")
    return name, normalize_state(default_state)


def create_source(hub: Hub, actor: Actor, name: str, kind: str, default_state: str | None) -> tuple[ReadSource, str]:
    """An agency administrator adds a source; returns it with its key, which the hub does not keep."""
    actor.require(Permission.MANAGE_READ_SOURCES)
    return _create(hub, actor.agency_id, name, kind, default_state, actor.user_id, actor.source)


def create_source_for_agency(hub: Hub, agency_slug: str, name: str, kind: str,
                             default_state: str | None) -> tuple[ReadSource, str]:
    """The operator's path (`rtcc source create`): no session, audited as the command line."""
    with hub.uow() as uow:
        agency = uow.accounts.agency_by_slug(agency_slug)
        uow.rollback()
    if agency is None:
        raise NotFound(f"no agency {agency_slug!r}")
    return _create(hub, agency.id, name, kind, default_state, None, "cli")


def _create(hub: Hub, agency_id: str, name: str, kind: str, default_state: str | None, by: str | None,
            client: str | None) -> tuple[ReadSource, str]:
    name, state = _checked(name, kind, default_state)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with hub.uow() as uow:
        now = hub.clock.now()
        source = ReadSource(hub.ids.new_id(), agency_id, name, kind, state, now, None)
        uow.read_sources.add(id=source.id, agency_id=agency_id, name=name, kind=kind, key_hash=key_hash(key),
                             default_state=state, created_by=by, created_at=now)
        uow.record(AuditEntry("source.create", "success", by, agency_id, f"source:{source.id}", client,
                              {"name": name, "kind": kind}))
        uow.commit()
    return source, key


def list_sources(hub: Hub, actor: Actor) -> list[ReadSource]:
    actor.require(Permission.MANAGE_READ_SOURCES)
    with hub.uow() as uow:
        rows = uow.read_sources.for_agency(actor.agency_id)
        uow.record(actor.entry("source.list", f"agency:{actor.agency_id}", count=len(rows)))
        uow.commit()
    return [_source(r) for r in rows]


def revoke_source(hub: Hub, actor: Actor, source_id: str) -> ReadSource:
    """From now on the key is refused; the reads it sent stay."""
    actor.require(Permission.MANAGE_READ_SOURCES)
    with hub.uow() as uow:
        row = uow.read_sources.get(actor.agency_id, source_id)
        if row is None:
            raise NotFound("no such read source in your agency")
        uow.read_sources.revoke(actor.agency_id, source_id, hub.clock.now())
        uow.record(actor.entry("source.revoke", f"source:{source_id}", already=row.revoked_at is not None))
        erasures.note(hub, ErasureKind.SOURCE_REVOKED, target=source_id, agency_id=actor.agency_id,
                      by=actor.user_id)
        uow.commit()
        edge_read_access.changed(hub, source_ids=(source_id,))  # an edge box's source: no process takes its reads
        return _source(uow.read_sources.get(actor.agency_id, source_id))


def authenticate_source(hub: Hub, key: str | None, client: str | None) -> ReadSource:
    """The source a key belongs to; unknown and revoked keys are refused (the refusal is audited, the key never)."""
    if not key:
        raise Unauthenticated("send the source key as `Authorization: Bearer <key>`", code="source_key_missing")
    with hub.uow() as uow:
        row = uow.read_sources.by_key_hash(key_hash(key))
        if row is None:
            uow.rollback()
            raise Unauthenticated("unknown source key", code="unknown_source_key")
        if row.revoked_at is not None:
            uow.record(AuditEntry("source.refused", "denied", None, row.agency_id, f"source:{row.id}", client,
                                  {"reason": "revoked"}))
            uow.commit()
            raise Unauthenticated("this source key has been revoked", code="source_revoked")
        uow.rollback()
    return _source(row)
