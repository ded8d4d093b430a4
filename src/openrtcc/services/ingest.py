"""Batch ingest of plate reads: all or nothing, idempotent per source key, matched and alerted in one commit."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import datetime

from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import Conflict, InvalidInput
from openrtcc.domain.plates import PlateCandidate, lookalike_key
from openrtcc.domain.reads import (
    MAX_SNAPSHOT_BYTES,
    PlateRead,
    ReadBatch,
    ReadIn,
    check_batch,
    content_hash,
    read_state,
    sniff_image,
)
from openrtcc.services.alerts import publish_alerts, raise_alerts
from openrtcc.services.hub import Hub
from openrtcc.services.read_sources import ReadSource

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReadAck:
    read_id: str  # the source's key, as sent
    status: str  # stored | duplicate
    id: str  # the hub's id of the stored read


def ingest_reads(hub: Hub, source: ReadSource, batch: ReadBatch, client: str | None = None, *,
                 cameras_checked: bool = False) -> list[ReadAck]:
    """Store the batch's new reads and their alerts in one transaction; acknowledge only after it commits.

    A read id sent before with the same content is a retry (`duplicate`); with other content it is refused
    (409) and nothing of the batch is stored. `cameras_checked`: the caller has checked each read's camera
    itself (an edge box's reads go to every agency the owner shares them with, not only the camera's own).

    In city mode the same checks and answers come from services/read_intake.py, which queues the new reads
    for a worker to store."""
    queue = hub.extras.get("read_queue")
    if queue is not None:
        from openrtcc.services.read_intake import accept_reads

        return accept_reads(hub, queue, source, batch, client, cameras_checked=cameras_checked)
    now = hub.clock.now()
    check_batch(batch, now)
    hashes = [content_hash(r) for r in batch.reads]
    media = [store_images(hub, source.agency_id, r) for r in batch.reads]
    with hub.uow() as uow:
        acks, fresh = sort_out(uow, source, batch, hashes)
        if not cameras_checked:
            check_cameras(uow, source.agency_id, fresh)
        reads = [plate_read(uow.ids.new_id(), source, r, hashes[i], media[i], now) for i, r in fresh]
        uow.reads.add_many(reads)
        raised = match_reads(hub, uow, source.agency_id, reads, now)
        for (i, _), read in zip(fresh, reads, strict=True):
            acks[i] = ReadAck(read.read_key, "stored", read.id)
        uow.record(AuditEntry("reads.ingest", "success", None, source.agency_id, f"source:{source.id}", client,
                              {"stored": len(reads), "duplicate": len(batch.reads) - len(reads),
                               "alerts": len(raised)}))
        uow.commit()
    if reads:
        hub.metrics.count("rtcc_reads_ingested_total", len(reads), source_kind=source.kind)
    publish_alerts(hub, raised)
    if raised:
        log.debug("source %s: %s reads stored, %s alerts", source.id, len(reads), len(raised))
    return acks


def sort_out(uow, source: ReadSource, batch: ReadBatch, hashes: list[str], *, lock: bool = True):
    """Acks for the retries, and (index, read) for the reads not seen before; a changed read is a conflict.
    `lock=False` when nothing is stored in this transaction (reads.existing)."""
    seen = uow.reads.existing(source.id, [r.read_id for r in batch.reads], lock=lock)
    acks: list[ReadAck | None] = [None] * len(batch.reads)
    fresh: list[tuple[int, ReadIn]] = []
    for i, r in enumerate(batch.reads):
        if r.read_id not in seen:
            fresh.append((i, r))
            continue
        stored_id, stored_hash = seen[r.read_id]
        if stored_hash != hashes[i]:
            raise Conflict(f"reads.{i}.read_id: {r.read_id!r} was stored before with different content; "
                           "a changed read needs a new read_id", code="read_id_conflict",
                           details={"index": i, "read_id": r.read_id})
        acks[i] = ReadAck(r.read_id, "duplicate", stored_id)
    return acks, fresh


def check_cameras(uow, agency_id: str, fresh: list[tuple[int, ReadIn]]) -> None:
    wanted = {r.camera_id for _, r in fresh if r.camera_id}
    known = uow.reads.known_cameras(agency_id, wanted)
    for i, r in fresh:
        if r.camera_id and r.camera_id not in known:
            raise InvalidInput(f"reads.{i}.camera_id: no camera {r.camera_id!r} in your agency's program",
                               code="unknown_camera", details={"index": i, "field": "camera_id"})


def store_images(hub: Hub, agency_id: str, r: ReadIn) -> tuple[str | None, str | None]:
    """Images go to the media store before the transaction, named by their digest: a retry rewrites the same
    file, and a batch that is then refused leaves at most an unreferenced file, never a read without its crop."""
    return (_put(hub, agency_id, r.crop), _put(hub, agency_id, r.snapshot))


def _put(hub: Hub, agency_id: str, data: bytes | None) -> str | None:
    if data is None:
        return None
    digest = hashlib.sha256(data).hexdigest()
    key = f"reads/{agency_id}/{digest[:2]}/{digest}.{sniff_image(data)[1]}"
    exists = getattr(hub.media, "exists", None)
    if exists is None or not exists(key):
        hub.media.put(key, io.BytesIO(data), MAX_SNAPSHOT_BYTES)
    return key


def plate_read(read_id: str, source: ReadSource, r: ReadIn, digest: str, media: tuple[str | None, str | None],
               now: datetime) -> PlateRead:
    return PlateRead(
        read_id, source.agency_id, source.id, r.read_id, r.camera_id, r.plate, lookalike_key(r.plate),
        read_state(r, source.default_state), r.region, r.confidence,
        tuple(PlateCandidate(c.text, c.confidence) for c in r.candidates), r.lat, r.lon, r.heading_deg,
        r.vehicle_make, r.vehicle_colour, r.vehicle_type, media[0], media[1], digest, r.captured_at, now,
    )


def match_reads(hub: Hub, uow, agency_id: str, reads: list[PlateRead], now: datetime) -> list[AlertRaised]:
    from openrtcc.services.hotlists import hotlist_index

    raised: list[AlertRaised] = []
    if not reads:
        return raised
    found = hotlist_index(hub).match_many(agency_id, [(read.plate, read.state) for read in reads])
    for read, hits in zip(reads, found, strict=True):
        if hits:
            raised += raise_alerts(uow, agency_id, read, hits, now)
    return raised
