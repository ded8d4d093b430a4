"""Stored plate reads: written once per source idempotency key, every query scoped to an agency."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, and_, insert, or_, select, text, tuple_

from openrtcc.adapters.db.tables import camera, plate_read
from openrtcc.domain.cameras import CameraStatus
from openrtcc.domain.plates import PlateCandidate
from openrtcc.domain.reads import PlateRead, ReadScan

t = plate_read
_COLUMNS = [c for c in t.c if c.name != "seq"]


def _read(r) -> PlateRead:
    return PlateRead(
        r.id, r.agency_id, r.source_id, r.read_key, r.camera_id, r.plate, r.plate_key, r.state, r.region,
        r.confidence, tuple(PlateCandidate(c["text"], c["confidence"]) for c in r.candidates), r.lat, r.lon,
        r.heading_deg, r.vehicle_make, r.vehicle_colour, r.vehicle_type, r.crop_key, r.snapshot_key,
        r.content_hash, r.captured_at, r.received_at,
    )


def _values(p: PlateRead) -> dict:
    return dict(
        id=p.id, agency_id=p.agency_id, source_id=p.source_id, read_key=p.read_key, camera_id=p.camera_id,
        plate=p.plate, plate_key=p.plate_key, state=p.state, region=p.region, confidence=p.confidence,
        candidates=[{"text": c.text, "confidence": c.confidence} for c in p.candidates], lat=p.lat, lon=p.lon,
        heading_deg=p.heading_deg, vehicle_make=p.vehicle_make, vehicle_colour=p.vehicle_colour,
        vehicle_type=p.vehicle_type, crop_key=p.crop_key, snapshot_key=p.snapshot_key, content_hash=p.content_hash,
        captured_at=p.captured_at, received_at=p.received_at,
    )


class SqlReadRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_many(self, reads: list[PlateRead]) -> None:
        if reads:
            self.conn.execute(insert(t), [_values(p) for p in reads])

    def existing(self, source_id: str, keys: list[str], *, lock: bool = True) -> dict[str, tuple[str, str]]:
        """{read_key: (read id, content hash)} for the keys this source has already sent. `lock=False`: a look
        that stores nothing after it (city mode's serving side) need not wait its turn."""
        if not keys:
            return {}
        if lock and self.conn.dialect.name == "postgresql":
            # On PostgreSQL reads are partitioned by time (migration 0007) and a unique index must include
            # captured_at, so it no longer stops a key being stored twice with two capture times. Batches of one
            # source take turns instead (to the end of the transaction): the second sees the first's reads here,
            # and a concurrent retry answers `duplicate` rather than failing on the index.
            self.conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                              {"key": f"plate_read:{source_id}"})
        rows = self.conn.execute(select(t.c.read_key, t.c.id, t.c.content_hash)
                                 .where(t.c.source_id == source_id, t.c.read_key.in_(keys)))
        return {r.read_key: (r.id, r.content_hash) for r in rows}

    def get(self, agency_id: str, read_id: str) -> PlateRead | None:
        r = self.conn.execute(select(*_COLUMNS).where(t.c.agency_id == agency_id, t.c.id == read_id)).first()
        return _read(r) if r else None

    def known_cameras(self, agency_id: str, camera_ids: set[str]) -> set[str]:
        """Which of these are active cameras in the agency's program."""
        if not camera_ids:
            return set()
        rows = self.conn.execute(select(camera.c.id).where(
            camera.c.agency_id == agency_id, camera.c.id.in_(sorted(camera_ids)),
            camera.c.status == CameraStatus.ACTIVE.value))
        return {r.id for r in rows}

    def scan(self, agency_id: str, q: ReadScan, *, before: tuple[datetime, int] | None, limit: int) -> list:
        """Rows newest first (captured_at, then seq), each with its `seq` for the next page's `before`."""
        where = [t.c.agency_id == agency_id]
        if q.plate is not None:
            where.append(t.c.plate == q.plate)
        if q.plate_key is not None:
            where.append(t.c.plate_key == q.plate_key)
        if q.like is not None:
            where.append(t.c.plate.like(q.like))
        if q.bbox is not None:
            b = q.bbox
            where += [t.c.lat.between(b.min_lat, b.max_lat), t.c.lon.between(b.min_lon, b.max_lon)]
        if q.since is not None:
            where.append(t.c.captured_at >= q.since)
        if q.until is not None:
            where.append(t.c.captured_at <= q.until)
        if before is not None:
            at, seq = before
            where.append(or_(t.c.captured_at < at, and_(t.c.captured_at == at, t.c.seq < seq)))
        query = select(t).where(*where).order_by(t.c.captured_at.desc(), t.c.seq.desc()).limit(limit)
        return [(_read(r), r.seq) for r in self.conn.execute(query)]

    def iter_since(self, agency_id: str, since: datetime, batch: int = 5000) -> Iterator[PlateRead]:
        """Every read of the agency captured since `since`, oldest first (a new hot-list entry's back-check)."""
        after: tuple[datetime, int] | None = None
        while True:
            query = select(t).where(t.c.agency_id == agency_id, t.c.captured_at >= since)
            if after is not None:
                query = query.where(tuple_(t.c.captured_at, t.c.seq) > tuple_(*after))
            rows = list(self.conn.execute(query.order_by(t.c.captured_at, t.c.seq).limit(batch)))
            for r in rows:
                yield _read(r)
            if len(rows) < batch:
                return
            after = (rows[-1].captured_at, rows[-1].seq)
