"""Plate reads from an owner's edge box: each read stored once for every agency the owner shares that
camera's reads with, through the same ingest as every other source (alerts, hot lists, search, idempotency).

The hub decides from its own camera row (`share_reads_with`, which only the owner changes), whatever the
box sent: the box checks too, but the hub does not take its word. Each (edge box, agency) pair is a
`read_source` of kind `edge`, created on first need with a key hash nobody holds (the box authenticates
with its edge key, never with a source key); its id is derived from the pair, so it is found again
without a column of its own and two concurrent first batches cannot create two.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.cameras import CameraStatus
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.reads import ReadBatch, ReadIn, check_batch
from openrtcc.services.edges import EdgeBox
from openrtcc.services.hub import Hub
from openrtcc.services.ingest import ReadAck, ingest_reads
from openrtcc.services.read_sources import ReadSource

log = logging.getLogger(__name__)

_SOURCE_NAMESPACE = uuid.UUID("5b0f3d1e-5f0c-4a53-9a51-0e6d6f1c2b7a")
NOT_SHARED = "not_shared"  # the camera's owner shares its reads with nobody (now): stored nowhere


@dataclass(frozen=True, slots=True)
class _Plan:
    by_agency: dict[str, list[int]]  # agency id -> indexes of the batch's reads it receives
    unshared: list[int]
    reads: list[ReadIn]  # as sent, placed at their camera when the box did not say where
    sources: dict  # agency id -> this box's read source row there, when it exists already


def edge_source_id(edge_id: str, agency_id: str) -> str:
    return str(uuid.uuid5(_SOURCE_NAMESPACE, f"{edge_id}/{agency_id}"))


def ingest_edge_reads(hub: Hub, edge: EdgeBox, batch: ReadBatch, client: str | None = None) -> list[ReadAck]:
    """Acks in the batch's order: `stored` when any agency stored it now, `duplicate` when every agency had
    it already, `not_shared` when the owner shares the camera's reads with nobody (the box keeps it)."""
    check_batch(batch, hub.clock.now())
    plan = _plan(hub, edge, batch, client)
    acks: list[list[ReadAck]] = [[] for _ in batch.reads]
    for agency_id, indexes in plan.by_agency.items():
        source = _edge_source(hub, edge, agency_id, plan.sources.get(agency_id))
        if not source.active:  # the agency revoked this box's source: it takes no more of its reads
            continue
        part = ReadBatch(version=1, reads=[plan.reads[i] for i in indexes])
        for i, ack in zip(indexes, ingest_reads(hub, source, part, client, cameras_checked=True), strict=True):
            acks[i].append(ack)
    return [_merged(r, acks[i]) for i, r in enumerate(batch.reads)]


def _merged(r: ReadIn, acks: list[ReadAck]) -> ReadAck:
    if not acks:
        return ReadAck(r.read_id, NOT_SHARED, "")
    stored = [a for a in acks if a.status == "stored"]
    return stored[0] if stored else acks[0]


def _plan(hub: Hub, edge: EdgeBox, batch: ReadBatch, client: str | None) -> _Plan:
    """Which agencies receive which reads; a read for a camera that is not linked to this box refuses the
    whole batch (nothing stored), naming the read."""
    by_agency: dict[str, list[int]] = {}
    unshared: list[int] = []
    reads: list[ReadIn] = []
    with hub.uow() as uow:
        cameras, recipients = {}, {}
        for i, r in enumerate(batch.reads):
            if r.camera_id not in cameras:
                cameras[r.camera_id] = uow.cameras.get_for_owner(edge.owner_id, r.camera_id) if r.camera_id else None
            cam = cameras[r.camera_id]
            if cam is None or cam.edge_id != edge.id:
                uow.record(AuditEntry("edge.reads.refused", "denied", None, None, f"edge:{edge.id}", client,
                                      {"read_id": r.read_id, "reason": "camera_not_on_edge"}))
                uow.commit()
                raise InvalidInput(f"reads.{i} ({r.read_id}): camera {r.camera_id!r} is not linked to this edge box",
                                   code="camera_not_on_edge", details={"index": i, "read_id": r.read_id})
            reads.append(r if r.lat is not None else
                         r.model_copy(update={"lat": cam.location.lat, "lon": cam.location.lon}))
            if cam.id not in recipients:
                recipients[cam.id] = _recipients(uow, cam)
            if not recipients[cam.id]:
                unshared.append(i)
            for agency_id in recipients[cam.id]:
                by_agency.setdefault(agency_id, []).append(i)
        # Read in the same unit of work: one fewer round of connection and transaction per batch.
        sources = {a: uow.read_sources.get(a, edge_source_id(edge.id, a)) for a in by_agency}
        uow.rollback()
    return _Plan(by_agency, unshared, reads, {a: row for a, row in sources.items() if row is not None})


def _recipients(uow, cam) -> list[str]:
    if cam.status is not CameraStatus.ACTIVE:
        return []
    return [a for a in dict.fromkeys(cam.policy.share_reads_with) if uow.accounts.agency(a) is not None]


def _edge_source(hub: Hub, edge: EdgeBox, agency_id: str, row=None) -> ReadSource:
    source_id = edge_source_id(edge.id, agency_id)
    row = row or _source_row(hub, agency_id, source_id)
    if row is None:
        _create_edge_source(hub, edge, agency_id, source_id)
        row = _source_row(hub, agency_id, source_id)
    return ReadSource(row.id, row.agency_id, row.name, row.kind, row.default_state, row.created_at, row.revoked_at)


def _source_row(hub: Hub, agency_id: str, source_id: str):
    with hub.uow().reading() as uow:
        row = uow.read_sources.get(agency_id, source_id)
        uow.rollback()
    return row


def _create_edge_source(hub: Hub, edge: EdgeBox, agency_id: str, source_id: str) -> None:
    """One unit of work at a time: a request never holds one database connection while waiting for a second (with
    many boxes sending their first batch at once, that exhausted the pool)."""
    with hub.uow() as uow:
        try:
            # A key hash nobody holds: this source is reached through the edge key only.
            unusable = hashlib.sha256(b"edge-source:" + secrets.token_bytes(32)).hexdigest()
            uow.read_sources.add(id=source_id, agency_id=agency_id, name=f"Edge box {edge.name}"[:120],
                                 kind="edge", key_hash=unusable, default_state=None, created_by=None,
                                 created_at=hub.clock.now())
            uow.record(AuditEntry("source.create", "success", None, agency_id, f"source:{source_id}", None,
                                  {"name": edge.name, "kind": "edge", "edge_id": edge.id}))
            uow.commit()
        except IntegrityError:  # a concurrent first batch created it
            uow.rollback()
