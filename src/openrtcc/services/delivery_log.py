"""The agency's delivery log and dead letters: read, send again or discard (each audited)."""

from __future__ import annotations

from openrtcc.domain.accounts import Permission
from openrtcc.domain.dissemination import DeliveryStatus
from openrtcc.domain.errors import Conflict, InvalidInput, NotFound
from openrtcc.services.hub import Actor, Hub

MAX_LIST = 500
MAX_BATCH = 500
_FINAL = {DeliveryStatus.DEAD.value, DeliveryStatus.DISCARDED.value}


def delivery_log(hub: Hub, actor: Actor, status: str | None, before_id: int | None, limit: int) -> list:
    actor.require(Permission.MANAGE_DISSEMINATION)
    if status is not None and status not in {s.value for s in DeliveryStatus}:
        raise InvalidInput(f"status must be one of {', '.join(s.value for s in DeliveryStatus)}", code="bad_status")
    with hub.uow() as uow:
        rows = uow.dissemination.delivery_log(actor.agency_id, status, before_id, min(limit, MAX_LIST))
        uow.record(actor.entry("dissemination.log.read", None, status=status, count=len(rows)))
        uow.commit()
    return rows


def counts(hub: Hub, actor: Actor) -> dict[str, int]:
    actor.require(Permission.MANAGE_DISSEMINATION)
    with hub.uow() as uow:
        found = uow.dissemination.counts(actor.agency_id)
        uow.rollback()
    return {s.value: found.get(s.value, 0) for s in DeliveryStatus}


def _dead_letters(uow, actor: Actor, ids: list[int]) -> list[int]:
    if not ids or len(ids) > MAX_BATCH:
        raise InvalidInput(f"give 1 to {MAX_BATCH} delivery ids", code="bad_ids")
    rows = uow.dissemination.deliveries_of(actor.agency_id, sorted(set(ids)))
    if len(rows) != len(set(ids)):
        raise NotFound("a delivery is not in this agency's log", code="delivery_not_found")
    if any(r.status not in _FINAL for r in rows):
        raise Conflict("only dead letters can be sent again or discarded", code="not_dead")
    return [r.id for r in rows]


def retry_dead_letters(hub: Hub, actor: Actor, ids: list[int]) -> int:
    """Back to the retry queue with fresh attempts; the next retry round sends them."""
    actor.require(Permission.MANAGE_DISSEMINATION)
    with hub.uow() as uow:
        found = _dead_letters(uow, actor, ids)
        uow.dissemination.set_status(found, DeliveryStatus.FAILED.value, hub.clock.now(), reset_attempts=True)
        uow.record(actor.entry("dissemination.dead_letter.retry", None, deliveries=found[:100], count=len(found)))
        uow.commit()
    return len(found)


def discard_dead_letters(hub: Hub, actor: Actor, ids: list[int]) -> int:
    actor.require(Permission.MANAGE_DISSEMINATION)
    with hub.uow() as uow:
        found = _dead_letters(uow, actor, ids)
        uow.dissemination.set_status(found, DeliveryStatus.DISCARDED.value, None, reset_attempts=False)
        uow.record(actor.entry("dissemination.dead_letter.discard", None, deliveries=found[:100], count=len(found)))
        uow.commit()
    return len(found)
