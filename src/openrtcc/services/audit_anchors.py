"""Daily signed anchors of the audit chain's head: stored, published, served, and a chain checked against one."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from openrtcc.domain.anchors import (
    AnchorCheck,
    AnchorPublisher,
    SignatureVerifier,
    SignedAnchor,
    Signer,
    check_chain_against,
    check_chain_against_all,
    head_statement,
    signature_problem,
    utc_day,
    valid_day,
)
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import NotFound, Unavailable
from openrtcc.domain.public_forms import audit_source
from openrtcc.services.hub import Hub
from openrtcc.services.public_cache import admit_public, cached_answer

log = logging.getLogger(__name__)
MAX_LISTED = 400  # a little over a year of daily anchors per page
MAX_STORED = 100_000  # checked together: centuries of daily anchors


@dataclass(frozen=True, slots=True)
class AnchorResult:
    anchor: SignedAnchor
    created: bool  # False: the day already had its anchor (made by this run's caller or another process)
    published_to: str | None


def signer(hub: Hub) -> Signer:
    found = hub.extras.get("signer")
    if found is None:
        raise Unavailable("this hub has no signing key (see anchor_wiring)", code="signing_unavailable")
    return found


def _publisher(hub: Hub) -> AnchorPublisher | None:
    return hub.extras.get("anchor_publisher")


def make_anchor(hub: Hub, source: str = "schedule") -> AnchorResult:
    """Today's (UTC) anchor: signed and stored once, whoever asks first; published (again, if the file is
    missing) on every call, so a failed write is made good by the next round."""
    key = signer(hub)
    now = hub.clock.now()
    day = utc_day(now)
    with hub.uow().reading() as uow:
        anchor = uow.anchors.for_day(day)
    created = False
    if anchor is None:
        anchor, created = _sign_and_store(hub, key, now, source)
    return AnchorResult(anchor, created, _publish(hub, anchor, force=created))


def _sign_and_store(hub: Hub, key: Signer, now, source: str) -> tuple[SignedAnchor, bool]:
    day = utc_day(now)
    with hub.uow() as uow:
        seq, head = uow.audit.head()
        statement = head_statement(hub.deployment_name, seq, head, now, key.key_id)
        anchor = SignedAnchor(statement, key.sign(statement.canonical()))
        if uow.anchors.add(anchor):
            uow.record(AuditEntry("audit.anchor", "success", None, None, f"anchor:{day}", source,
                                  {"seq": seq, "hash": head, "key_id": key.key_id}))
            uow.commit()
            return anchor, True
    # Another process anchored the day between our look and our insert: theirs is the day's anchor.
    with hub.uow().reading() as uow:
        anchor = uow.anchors.for_day(day)
    if anchor is None:
        raise Unavailable(f"the anchor of {day} could not be stored; try again", code="anchor_unavailable")
    return anchor, False


def _publish(hub: Hub, anchor: SignedAnchor, force: bool) -> str | None:
    publisher = _publisher(hub)
    day = anchor.statement.day
    if publisher is None or (not force and publisher.has(day)):
        return None
    try:
        where = publisher.publish(day, anchor.document_bytes())
    except OSError as exc:  # stored and signed all the same: the next round writes the file again
        raise Unavailable(f"the anchor of {day} is stored but could not be written out: {exc.strerror or exc}",
                          code="anchor_unpublished") from None
    log.info("audit anchor of %s published to %s (record %s)", day, where, anchor.statement.seq)
    return where


def check_anchor(hub: Hub, anchor: SignedAnchor, key: SignatureVerifier) -> AnchorCheck:
    """The anchor's signature under `key`, then this hub's chain against it. Reads only: checking a chain must
    not extend it."""
    problem = signature_problem(anchor, key)
    if problem is not None:
        return AnchorCheck(anchor.statement, 0, problem)
    with hub.uow().reading() as uow:
        return check_chain_against(anchor.statement, uow.audit.iter_records())


def check_stored_anchors(hub: Hub, key: SignatureVerifier) -> list[AnchorCheck]:
    """Every anchor the hub keeps, oldest first, checked for its signature and against the chain in one pass.
    An intruder can delete stored anchors but cannot forge one without the key; outside copies are the
    stronger check (check_anchor)."""
    with hub.uow().reading() as uow:
        anchors = list(reversed(uow.anchors.recent(MAX_STORED)))
        forged = {a.statement: signature_problem(a, key) for a in anchors}
        good = [a.statement for a in anchors if forged[a.statement] is None]
        checked = {c.anchor: c for c in check_chain_against_all(good, uow.audit.iter_records())}
    return [checked.get(a.statement) or AnchorCheck(a.statement, 0, forged[a.statement]) for a in anchors]


def _public(hub: Hub, client: str | None, key: tuple, build):
    """A public answer through the portal's shared cache: a client over its budget is refused in memory and only
    a fresh build is recorded, so a crawler can neither load the database nor fill the audit trail."""
    return cached_answer(admit_public(hub, client, f"audit:{key[0]}"), ("audit-anchors", *key), build)


def _record(hub: Hub, action: str, outcome: str, target: str, client: str | None, **details) -> None:
    with hub.uow() as uow:
        uow.record(AuditEntry(action, outcome, None, None, target, audit_source(hub.secret_key, client), details))
        uow.commit()


def public_anchors(hub: Hub, client: str | None, limit: int = 100, before_day: str | None = None) -> list:
    """The most recent anchors, newest first; anyone may list them."""
    if before_day is not None:
        valid_day(before_day)
    limit = max(1, min(limit, MAX_LISTED))

    def build() -> list:
        with hub.uow().reading() as uow:
            anchors = uow.anchors.recent(limit, before_day)
        _record(hub, "audit.anchor_list", "success", "anchor:*", client, count=len(anchors))
        return anchors

    return _public(hub, client, ("list", limit, before_day), build)


def public_anchor(hub: Hub, day: str, client: str | None) -> SignedAnchor:
    valid_day(day)

    def build() -> SignedAnchor | None:
        with hub.uow().reading() as uow:
            anchor = uow.anchors.for_day(day)
        _record(hub, "audit.anchor_read", "success" if anchor else "failed", f"anchor:{day}", client)
        return anchor

    anchor = _public(hub, client, ("day", day), build)
    if anchor is None:
        raise NotFound(f"no audit anchor for {day}", code="no_anchor")
    return anchor


def public_key(hub: Hub, client: str | None) -> Signer:
    """The hub's public key (the signer carries it); its fetch is recorded like the anchors'."""
    key = signer(hub)

    def build() -> Signer:
        _record(hub, "audit.public_key_read", "success", f"key:{key.key_id}", client)
        return key

    return _public(hub, client, ("public-key",), build)
