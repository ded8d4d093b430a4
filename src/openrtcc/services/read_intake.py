"""Plate reads in city mode: a serving process checks a batch and queues its new reads; a worker stores them.

Serving side (`accept_reads`): the same checks and answers as the embedded ingest (services/ingest.py): the
batch's rules, images into the media store, retries and changed reads of reads already stored answered from
the database, unknown cameras refused. The new reads go to the ReadQueue, and `stored` is answered only once
the queue has made every one durable; nothing is acknowledged when the queue does not answer (503), so the
sender keeps its reads and sends them again.

Worker side (`store_queued`): one transaction per pulled batch: reads already stored are skipped (a message
delivered again after a crash between commit and acknowledgement raises no second alert), a read whose
content differs from the one stored under its key is refused as an audited conflict, the rest are stored
under the ids the serving process answered with, matched against the agency's hot lists, alerted, and
audited with one record per source. The queue's message is acknowledged only after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.audit_scope import mark_covered
from openrtcc.domain.errors import Unavailable
from openrtcc.domain.ports import ReadQueue
from openrtcc.domain.read_envelope import QueuedRead, hub_read_id
from openrtcc.domain.reads import ReadBatch, ReadIn, check_batch, content_hash
from openrtcc.services.alerts import publish_alerts
from openrtcc.services.hub import Hub
from openrtcc.services.ingest import ReadAck, check_cameras, match_reads, plate_read, sort_out, store_images
from openrtcc.services.read_sources import ReadSource

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- serving side


def accept_reads(hub: Hub, queue: ReadQueue, source: ReadSource, batch: ReadBatch, client: str | None = None, *,
                 cameras_checked: bool = False) -> list[ReadAck]:
    """Acks in the batch's order, as the embedded ingest answers them; `stored` means queued durably."""
    now = hub.clock.now()
    check_batch(batch, now)
    hashes = [content_hash(r) for r in batch.reads]
    media = [store_images(hub, source.agency_id, r) for r in batch.reads]
    with hub.uow() as uow:  # read only: answers for reads stored before, and the cameras' check
        # Without the source's lock: it would wait for a worker's commit, and a read committed meanwhile is
        # found by the worker (stored once, no second alert) or dropped by JetStream's duplicate window.
        acks, fresh = sort_out(uow, source, batch, hashes, lock=False)
        if not cameras_checked:
            check_cameras(uow, source.agency_id, fresh)
        uow.rollback()
    queued = [_queued(source, r, hashes[i], media[i], client, now) for i, r in fresh]
    if queued:
        known = queue.publish(queued)  # Unavailable (503): nothing acknowledged
        # The worker's `reads.ingest` record accounts for these reads; this request needs no record of its own.
        mark_covered()
        for (i, r), q, dup in zip(fresh, queued, known, strict=True):
            acks[i] = ReadAck(r.read_id, "duplicate" if dup else "stored", q.id)
    return acks


def _queued(source: ReadSource, r: ReadIn, digest: str, media: tuple[str | None, str | None], client: str | None,
            now: datetime) -> QueuedRead:
    return QueuedRead(id=hub_read_id(source.id, r.read_id), source_id=source.id, agency_id=source.agency_id,
                      source_kind=source.kind, default_state=source.default_state,
                      client=client[:64] if client else None,  # as long as the audit record keeps it
                      read=r.model_copy(update={"crop": None, "snapshot": None}),  # stored already: keys only
                      content_hash=digest, crop_key=media[0], snapshot_key=media[1], accepted_at=now)


# ---------------------------------------------------------------------------------------------- worker side


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    stored: int = 0
    duplicate: int = 0  # delivered again after being stored: skipped
    conflict: int = 0  # another content under a key already stored: refused, audited
    alerts: int = 0

    def __add__(self, other: StoreOutcome) -> StoreOutcome:
        return StoreOutcome(self.stored + other.stored, self.duplicate + other.duplicate,
                            self.conflict + other.conflict, self.alerts + other.alerts)


def store_queued(hub: Hub, reads: Sequence[QueuedRead]) -> StoreOutcome:
    """Store a pulled batch in one transaction; raises (and stores nothing) when the database fails."""
    now = hub.clock.now()
    groups: dict[tuple[str, str], list[QueuedRead]] = {}
    for q in reads:
        groups.setdefault((q.agency_id, q.source_id), []).append(q)
    outcome, raised, stored_by_kind, accepted = StoreOutcome(), [], {}, []
    with hub.uow() as uow:
        # Sources in one order: each takes a per-source lock (reads.existing), so two workers never deadlock.
        for (agency_id, source_id), group in sorted(groups.items(), key=lambda item: item[0][1]):
            done, alerts, stored = _store_source(hub, uow, agency_id, source_id, group, now)
            outcome += done
            raised += alerts
            for q in stored:
                stored_by_kind[q.source_kind] = stored_by_kind.get(q.source_kind, 0) + 1
                accepted.append(q.accepted_at)
        if outcome.stored or outcome.conflict:
            uow.commit()
        else:  # every read was stored before (a redelivery): nothing to write or audit
            uow.rollback()
    for kind, n in stored_by_kind.items():
        hub.metrics.count("rtcc_reads_ingested_total", n, source_kind=kind)
    committed = hub.clock.now()
    for at in accepted:
        hub.metrics.observe("rtcc_read_intake_seconds", max(0.0, (committed - at).total_seconds()))
    _announce(hub, raised)
    return outcome


def _store_source(hub: Hub, uow, agency_id: str, source_id: str, group: list[QueuedRead], now: datetime):
    seen = uow.reads.existing(source_id, list(dict.fromkeys(q.read.read_id for q in group)))
    fresh: list[QueuedRead] = []
    duplicate, conflicts = 0, []
    for q in group:
        known = seen.get(q.read.read_id)
        if known is None:
            seen[q.read.read_id] = (q.id, q.content_hash)  # a second message for it in this batch is found here
            fresh.append(q)
        elif known[1] == q.content_hash:
            duplicate += 1
        else:
            conflicts.append(q)
    reads = [plate_read(q.id, _source_of(q), q.read, q.content_hash, (q.crop_key, q.snapshot_key), q.accepted_at)
             for q in fresh]
    uow.reads.add_many(reads)
    raised = match_reads(hub, uow, agency_id, reads, now)
    for q in conflicts:
        uow.record(AuditEntry("reads.conflict", "denied", None, agency_id, f"source:{source_id}", q.client,
                              {"read_id": q.read.read_id, "reason": "read_id_conflict", "queued": True}))
    if reads:
        uow.record(AuditEntry("reads.ingest", "success", None, agency_id, f"source:{source_id}", fresh[0].client,
                              {"stored": len(reads), "duplicate": duplicate, "conflict": len(conflicts),
                               "alerts": len(raised), "queued": True}))
    return StoreOutcome(len(reads), duplicate, len(conflicts), len(raised)), raised, fresh


def _source_of(q: QueuedRead) -> ReadSource:
    """The source as it was when the read was accepted (the read is stored even if it was revoked since)."""
    return ReadSource(q.source_id, q.agency_id, "", q.source_kind, q.default_state, q.accepted_at, None)


def _announce(hub: Hub, raised: list[AlertRaised]) -> None:
    """After commit. The alerts and their outbox rows are stored: an announcement that fails now is made by
    the alert relay later, so it must not hold back the queue's acknowledgement."""
    try:
        publish_alerts(hub, raised)
    except Exception as exc:
        log.warning("%s alerts stored but not announced (%s): the alert relay will announce them",
                    len(raised), type(exc).__name__)


def is_transient(exc: BaseException) -> bool:
    """A failure of the database or the bus, not of the message: the batch is tried again as it is."""
    return isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, Unavailable))


def record_dead_letter(hub: Hub, reason: str, queued: QueuedRead | None, sequence: int) -> None:
    """The audit record of a queued read set aside (never its plate): an operator looks at the dead-letter
    stream for it (docs/operations/read-intake.md)."""
    with hub.uow() as uow:
        uow.record(AuditEntry(
            "reads.dead_letter", "failed", None, queued.agency_id if queued else None,
            f"source:{queued.source_id}" if queued else None, queued.client if queued else None,
            {"reason": reason, "stream_sequence": sequence,
             **({"read_id": queued.read.read_id} if queued else {})}))
        uow.commit()
