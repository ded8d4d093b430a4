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
from openrtcc.services.edge_enrolment import secret_hash
from openrtcc.services.edge_read_access import CameraReads, edge_read_access
from openrtcc.services.edges import EdgeBox, authenticate_edge
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
    sources: dict[str, ReadSource]  # agency id -> this box's read source there, when it exists already


def edge_source_id(edge_id: str, agency_id: str) -> str:
    return str(uuid.uuid5(_SOURCE_NAMESPACE, f"{edge_id}/{agency_id}"))


def authenticate_edge_reads(hub: Hub, key: str | None, client: str | None) -> EdgeBox:
    """services.edges.authenticate_edge, answered from this process's memory for a key it let through before
    (services/edge_read_access.py); a key it does not know goes to the database (refused and audited there)."""
    access = edge_read_access(hub)
    digest = secret_hash(key) if key else None
    box = access.box(digest) if digest else None
    if box is None:
        generation = access.generation
        box = authenticate_edge(hub, key, client)
        access.remember_box(box, digest, generation)
    return box


def ingest_edge_reads(hub: Hub, edge: EdgeBox, batch: ReadBatch, client: str | None = None) -> list[ReadAck]:
    """Acks in the batch's order: `stored` when any agency stored it now, `duplicate` when every agency had
    it already, `not_shared` when the owner shares the camera's reads with nobody (the box keeps it)."""
    check_batch(batch, hub.clock.now())
    plan = _plan(hub, edge, batch, client)
    acks: list[list[ReadAck]] = [[] for _ in batch.reads]
    for agency_id, indexes in plan.by_agency.items():
        source = plan.sources.get(agency_id) or _edge_source(hub, edge, agency_id)
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
    """Which agencies receive which reads, from this process's memory when it holds every camera and source
    of the batch, else from the database (one unit of work); a read for a camera that is not linked to this box
    refuses the whole batch (nothing stored), naming the read."""
    access = edge_read_access(hub)
    generation = access.generation
    cameras = {c: access.camera(edge.id, c) for c in dict.fromkeys(r.camera_id for r in batch.reads)}
    sources = {a: access.source(edge_source_id(edge.id, a))
               for cam in cameras.values() if cam is not None for a in cam.recipients}
    if None in cameras.values() or None in sources.values():
        cameras, sources = _load_plan(hub, edge, batch, client, generation)
    by_agency: dict[str, list[int]] = {}
    unshared: list[int] = []
    reads: list[ReadIn] = []
    for i, r in enumerate(batch.reads):
        cam = cameras[r.camera_id]
        reads.append(r if r.lat is not None else r.model_copy(update={"lat": cam.lat, "lon": cam.lon}))
        if not cam.recipients:
            unshared.append(i)
        for agency_id in cam.recipients:
            by_agency.setdefault(agency_id, []).append(i)
    return _Plan(by_agency, unshared, reads, {a: s for a, s in sources.items() if s is not None})


def _load_plan(hub: Hub, edge: EdgeBox, batch: ReadBatch, client: str | None, generation: int):
    """Every camera linked to the box (not only the batch's: its next batches will name the others) and the box's
    read sources, from the database, remembered for the next batches."""
    access = edge_read_access(hub)
    with hub.uow() as uow:
        linked = [c for c in uow.cameras.list_for_owner(edge.owner_id) if c.edge_id == edge.id]
        known: dict[str, bool] = {}  # agency id -> it exists
        cameras: dict[str | None, CameraReads] = {
            c.id: CameraReads(c.id, c.location.lat, c.location.lon, _recipients(uow, c, known)) for c in linked}
        for i, r in enumerate(batch.reads):
            if r.camera_id not in cameras:
                uow.record(AuditEntry("edge.reads.refused", "denied", None, None, f"edge:{edge.id}", client,
                                      {"read_id": r.read_id, "reason": "camera_not_on_edge"}))
                uow.commit()
                raise InvalidInput(f"reads.{i} ({r.read_id}): camera {r.camera_id!r} is not linked to this edge box",
                                   code="camera_not_on_edge", details={"index": i, "read_id": r.read_id})
        # Read in the same unit of work: one fewer round of connection and transaction per batch.
        agencies = {a for cam in cameras.values() for a in cam.recipients}
        rows = {a: uow.read_sources.get(a, edge_source_id(edge.id, a)) for a in agencies}
        uow.rollback()
    access.remember_cameras(edge.id, list(cameras.values()), generation)
    sources = {a: _source_of(row) if row is not None else None for a, row in rows.items()}
    for source in sources.values():
        if source is not None:
            access.remember_source(source, generation)
    return cameras, sources


def _recipients(uow, cam, known: dict[str, bool]) -> tuple[str, ...]:
    if cam.status is not CameraStatus.ACTIVE:
        return ()
    for a in cam.policy.share_reads_with:
        if a not in known:
            known[a] = uow.accounts.agency(a) is not None
    return tuple(a for a in dict.fromkeys(cam.policy.share_reads_with) if known[a])


def _source_of(row) -> ReadSource:
    return ReadSource(row.id, row.agency_id, row.name, row.kind, row.default_state, row.created_at, row.revoked_at)


def _edge_source(hub: Hub, edge: EdgeBox, agency_id: str) -> ReadSource:
    """The box's source in an agency that has none yet (its first shared read there): made, then remembered."""
    access = edge_read_access(hub)
    generation = access.generation
    source_id = edge_source_id(edge.id, agency_id)
    row = _source_row(hub, agency_id, source_id)
    if row is None:
        _create_edge_source(hub, edge, agency_id, source_id)
        row = _source_row(hub, agency_id, source_id)
    source = _source_of(row)
    access.remember_source(source, generation)
    return source


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
