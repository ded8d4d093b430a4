"""What every public form does before its own work: the forms must be on, the client under its rate limit, and
anonymous refusals recorded under a keyed hash of the client's address."""

from __future__ import annotations

from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import NotFound
from openrtcc.domain.public_forms import RATE_WINDOW, PublicFormLimits, audit_source, client_hash, refuse_over_limit, retry_after_s
from openrtcc.services.hub import Hub


LINK_BUCKET = "link"


def limits(hub: Hub) -> PublicFormLimits:
    found = hub.extras.get("public_forms") or PublicFormLimits()
    if not found.enabled:
        raise NotFound("this deployment does not offer public sign-up or tips", code="public_forms_off")
    return found


def source(hub: Hub, client: str | None) -> str:
    return audit_source(hub.secret_key, client)


def count_request(hub: Hub, uow, bucket: str, client: str | None, limit: int, what: str) -> None:
    """Counts this request against the client's hourly limit, inside the caller's transaction (so a refused form
    is not counted); over the limit: refused with the seconds to wait."""
    key = client_hash(hub.secret_key, client)
    now = hub.clock.now()
    wait = retry_after_s(uow.tips.hits(bucket, key, now - RATE_WINDOW), limit, now)
    if wait is not None:
        raise refuse_over_limit(what, wait)
    uow.tips.add_hit(bucket, key, now)


def check_rate(hub: Hub, bucket: str, client: str | None, limit: int, what: str) -> None:
    """Refuses early (before an upload is read or a link checked) a client already over its limit; audited."""
    with hub.uow() as uow:
        key = client_hash(hub.secret_key, client)
        now = hub.clock.now()
        wait = retry_after_s(uow.tips.hits(bucket, key, now - RATE_WINDOW), limit, now)
        if wait is None:
            uow.rollback()
            return
        uow.record(AuditEntry("public.rate_limited", "denied", None, None, bucket, source(hub, client),
                              {"retry_after_s": wait}))
        uow.commit()
    raise refuse_over_limit(what, wait)


def refuse(hub: Hub, action: str, target: str | None, client: str | None, agency_id: str | None,
           **details) -> None:
    """Records a refused anonymous request (a forged link) in its own transaction: the refusal is evidence, and
    counts against the client's link checks."""
    with hub.uow() as uow:
        uow.tips.add_hit(LINK_BUCKET, client_hash(hub.secret_key, client), hub.clock.now())
        uow.record(AuditEntry(action, "denied", None, agency_id, target, source(hub, client), details))
        uow.commit()
