"""What a serving process remembers about edge boxes between their plate-read batches: whose key is whose, which
agencies each linked camera's reads go to, and the box's read sources.

Without it every batch spent two database transactions on facts that change a few times a year per box (the
key check, the sharing plan). Only answers that let reads through are remembered: an unknown or revoked key, a
camera not on the box, always go to the database (which refuses and audits them).

Forgetting is exact: whatever changes one of these facts calls `changed(...)` after its commit (a revoked box,
a camera updated, moved or withdrawn, a read source revoked); the process that made the change forgets at once
and announces it on the bus (EdgeAccessChanged), and every other process forgets on hearing it (in embedded
mode the bus is in-process and this is the one process). A load that raced with a change is not remembered (a
generation counter), an announcement that could not be sent is sent when the bus is back, a process that was
cut off from the bus forgets everything on reconnecting (`forget_all`), and nothing is remembered longer than
`TTL` whatever happens.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from openrtcc.domain.edge_access import EdgeAccessChanged
from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)

TTL = timedelta(seconds=60)  # the bound on a memory whose change was never announced (a process crashed)


@dataclass(frozen=True, slots=True)
class CameraReads:
    """A camera linked to the box: where it stands and the agencies its reads go to now (none: not shared)."""

    camera_id: str
    lat: float
    lon: float
    recipients: tuple[str, ...]


@dataclass(slots=True)
class _Box:
    box: object  # services.edges.EdgeBox (not imported: edges imports this module)
    key_hash: str
    until: datetime
    cameras: dict[str, CameraReads] = field(default_factory=dict)


class EdgeReadAccess:
    def __init__(self, hub: Hub):
        self._hub = hub
        self._lock = threading.Lock()
        self._by_key: dict[str, _Box] = {}
        self._key_of: dict[str, str] = {}  # edge id -> key hash
        self._sources: dict[str, tuple[object, datetime]] = {}  # source id -> (ReadSource, until)
        self._generation = 0
        self._unannounced: list[EdgeAccessChanged] = []
        self.origin = uuid.uuid4().hex
        if hub.bus is not None:
            hub.bus.subscribe(EdgeAccessChanged, self._heard)

    @property
    def generation(self) -> int:
        """Read before loading from the database; `remember_*` with it stores nothing if anything was forgotten
        meanwhile (the load may predate the change)."""
        return self._generation

    # ------------------------------------------------------------------ lookups

    def box(self, key_hash: str):
        entry = self._by_key.get(key_hash)
        if entry is None or entry.until <= self._hub.clock.now():
            return None
        return entry.box

    def camera(self, edge_id: str, camera_id: str | None) -> CameraReads | None:
        entry = self._by_key.get(self._key_of.get(edge_id, ""))
        if entry is None or camera_id is None or entry.until <= self._hub.clock.now():
            return None
        return entry.cameras.get(camera_id)

    def source(self, source_id: str):
        found = self._sources.get(source_id)
        if found is None or found[1] <= self._hub.clock.now():
            return None
        return found[0]

    # ------------------------------------------------------------------ remembering

    def remember_box(self, box, key_hash: str, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            old = self._key_of.get(box.id)
            if old is not None and old != key_hash:
                self._by_key.pop(old, None)
            current = self._by_key.get(key_hash)
            if current is None or current.box.id != box.id or current.until <= self._hub.clock.now():
                self._by_key[key_hash] = _Box(box, key_hash, self._hub.clock.now() + TTL)
            self._key_of[box.id] = key_hash

    def remember_cameras(self, edge_id: str, cameras: list[CameraReads], generation: int) -> None:
        with self._lock:
            entry = self._by_key.get(self._key_of.get(edge_id, ""))
            if generation != self._generation or entry is None:
                return
            for cam in cameras:
                entry.cameras[cam.camera_id] = cam

    def remember_source(self, source, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._sources[source.id] = (source, self._hub.clock.now() + TTL)

    # ------------------------------------------------------------------ forgetting

    def forget(self, edge_ids: tuple[str, ...] = (), source_ids: tuple[str, ...] = ()) -> None:
        with self._lock:
            self._generation += 1
            if not edge_ids and not source_ids:
                self._by_key.clear()
                self._key_of.clear()
                self._sources.clear()
                return
            for edge_id in edge_ids:
                self._by_key.pop(self._key_of.pop(edge_id, ""), None)
            for source_id in source_ids:
                self._sources.pop(source_id, None)

    def forget_all(self) -> None:
        self.forget()

    def changed(self, edge_ids: tuple[str, ...] = (), source_ids: tuple[str, ...] = ()) -> None:
        """After a committed change: forget here, now, and tell every other process."""
        edge_ids = tuple(sorted({e for e in edge_ids if e}))
        if not edge_ids and not source_ids:
            return
        self.forget(edge_ids, source_ids)
        self._announce(EdgeAccessChanged(edge_ids, tuple(source_ids), self.origin))

    def announce_pending(self) -> None:
        """The bus is back: send the announcements it refused while it was away."""
        with self._lock:
            pending, self._unannounced = self._unannounced, []
        for event in pending:
            self._announce(event)

    def _announce(self, event: EdgeAccessChanged) -> None:
        if self._hub.bus is None:
            return
        try:
            self._hub.bus.publish(event)
        except Exception as exc:  # the change stands; it is announced again when the bus is back
            log.warning("edge access change not announced yet (%s); kept to send again", type(exc).__name__)
            with self._lock:
                self._unannounced.append(event)

    def _heard(self, event: EdgeAccessChanged) -> None:
        if event.origin != self.origin:
            self.forget(event.edge_ids, event.source_ids)


_made = threading.Lock()


def edge_read_access(hub: Hub) -> EdgeReadAccess:
    """The hub's memory of its edge boxes (made on first use: one per hub, subscribed to the bus once)."""
    access = hub.extras.get("edge_read_access")
    if access is None:
        with _made:
            access = hub.extras.get("edge_read_access")
            if access is None:
                access = hub.extras["edge_read_access"] = EdgeReadAccess(hub)
    return access


def changed(hub: Hub, edge_ids: tuple[str | None, ...] = (), source_ids: tuple[str, ...] = ()) -> None:
    """After a committed change to a box, its cameras or its read sources (see the module's docstring)."""
    edge_read_access(hub).changed(tuple(e for e in edge_ids if e), source_ids)
