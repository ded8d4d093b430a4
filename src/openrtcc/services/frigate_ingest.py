"""Frigate installations as read sources: each enabled link's lpr messages become one read per vehicle event.

A read is stored once the event has settled (see EventTracker: at its `end`, or `settle_s` after its last
update), never earlier: the ingest service refuses a read id sent again with other content, so emitting a
first guess and a better one later would not work, and the alert would name the worse plate. The latency
this costs is the event's own length (Frigate ends an event a second or two after the car has left) or
`settle_s` when Frigate never sends the end."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta

from openrtcc.domain.errors import Conflict, DomainError
from openrtcc.domain.frigate_messages import (
    EventMessage,
    EventTracker,
    FrigateLinkConfig,
    MalformedMessage,
    Sighting,
    parse_message,
    sightings_of,
)
from openrtcc.domain.ports import MessageLink, MessageLinkFactory
from openrtcc.domain.reads import ReadBatch
from openrtcc.services.hub import Hub
from openrtcc.services.ingest import ingest_reads
from openrtcc.services.plate_integrations import PlateIntegration, integration_of, record_status

log = logging.getLogger(__name__)

STATUS_EVERY = timedelta(seconds=10)  # the status row is written at most this often while messages flow
RECONCILE_S = 10.0  # how soon a created or disabled integration is linked or unlinked


class FrigateIngest:
    """One Frigate link's sink (domain.ports.MessageSink): parses, folds and ingests. One thread calls it."""

    def __init__(self, hub: Hub, integration: PlateIntegration):
        self.hub = hub
        self.integration = integration
        self.config = FrigateLinkConfig.model_validate(integration.config)
        self.tracker = EventTracker(settle=timedelta(seconds=self.config.settle_s))
        prefix = self.config.topic_prefix.rstrip("/")
        self.topics = (f"{prefix}/tracked_object_update", f"{prefix}/events")
        self.places = self._camera_places()
        self.counts: Counter[str] = Counter()
        self.state: dict = {"connected": False, "last_error": None}
        self._status_at = None
        self._dirty = True

    def _camera_places(self) -> dict[str, tuple[float, float]]:
        """Where each mapped camera stands, so that its reads show on the map and in radius searches."""
        places = {}
        with self.hub.uow() as uow:
            for camera_id in set(self.config.cameras.values()):
                cam = uow.cameras.get_for_agency(self.integration.agency_id, camera_id)
                if cam is not None:
                    places[camera_id] = (cam.location.lat, cam.location.lon)
            uow.rollback()
        return places

    def handle(self, topic: str, payload: bytes) -> None:
        now = self.hub.clock.now()
        self.state["last_message_at"] = now.isoformat()
        try:
            message = parse_message(topic.rsplit("/", 1)[-1], payload)
        except MalformedMessage as exc:
            # The reason, never the payload: it may carry a plate or a name.
            log.warning("frigate link %s: malformed message on %s: %s", self.integration.id, topic, exc)
            return self._outcome("malformed")
        if message is None:
            return self._outcome("ignored")
        sighting = sightings_of(message)
        if sighting is not None:
            self._observe(sighting, now)
        if isinstance(message, EventMessage) and message.type == "end":
            self.tracker.end(message.after.id)
        self.tick()

    def _observe(self, sighting: Sighting, now) -> None:
        if sighting.camera not in self.config.cameras:
            log.info("frigate link %s: camera %s is not in the camera map; refused", self.integration.id,
                     sighting.camera)
            return self._outcome("unknown_camera")
        if sighting.score < self.config.min_score or not self.tracker.observe(sighting, now):
            return self._outcome("ignored")

    def tick(self) -> None:
        now = self.hub.clock.now()
        for sighting in self.tracker.settled(now):
            self._ingest(sighting)
        if self._dirty and (self._status_at is None or now - self._status_at >= STATUS_EVERY):
            self._write_status(now)

    def link_state(self, connected: bool, error: str | None) -> None:
        self.state["connected"] = connected
        if error is not None or connected:
            self.state["last_error"] = error
        self._write_status(self.hub.clock.now())

    def _ingest(self, s: Sighting) -> None:
        camera_id = self.config.cameras[s.camera]
        read = {"read_id": f"frigate:{s.event_id}", "camera_id": camera_id, "plate": s.plate,
                "confidence": s.score, "captured_at": s.at.isoformat()}
        if camera_id in self.places:
            read["lat"], read["lon"] = self.places[camera_id]
        try:
            batch = ReadBatch.model_validate({"version": 1, "reads": [read]})
            acks = ingest_reads(self.hub, self.integration.source(), batch, f"frigate:{self.integration.id}")
        except Conflict:  # the event was read before (a restart re-saw it): the stored read stands
            return self._outcome("duplicate")
        except (DomainError, ValueError) as exc:
            log.warning("frigate link %s: a read was refused: %s", self.integration.id,
                        getattr(exc, "code", "invalid read"))
            self.state["last_error"] = f"read refused: {getattr(exc, 'code', 'invalid read')}"
            return self._outcome("refused")
        except Exception:  # the database is away: the read is lost, the link goes on
            log.exception("frigate link %s: a read could not be stored", self.integration.id)
            return self._outcome("failed")
        self.state["last_read_at"] = self.hub.clock.now().isoformat()
        self._outcome("read" if acks[0].status == "stored" else "duplicate")

    def _outcome(self, outcome: str) -> None:
        self.counts[outcome] += 1
        self._dirty = True
        self.hub.metrics.count("rtcc_plate_integration_messages_total", kind="frigate", outcome=outcome)

    def _write_status(self, now) -> None:
        try:
            record_status(self.hub, self.integration.id, {**self.state, "counts": dict(self.counts),
                                                           "updated_at": now.isoformat()})
        except Exception:  # status is for display; the link goes on without it
            log.exception("frigate link %s: status not written", self.integration.id)
        self._status_at, self._dirty = now, False


class FrigateLinks:
    """Background work (start/stop, as hub.extras["background"] wants): one link per enabled Frigate
    integration, reconciled every RECONCILE_S so that created and disabled integrations take effect
    without a restart."""

    def __init__(self, hub: Hub, open_link: MessageLinkFactory, interval_s: float = RECONCILE_S):
        self.hub = hub
        self.open_link = open_link
        self.interval_s = interval_s
        self.links: dict[str, MessageLink] = {}
        self.sinks: dict[str, FrigateIngest] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="frigate-links", daemon=True)
        self._thread.start()

    name = "frigate-links"

    def alive(self) -> bool:
        """Its reconciling thread runs (readiness asks)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for integration_id in list(self.links):
            self._unlink(integration_id, "the hub stopped")

    def connected_count(self) -> int:
        return sum(1 for link in list(self.links.values()) if link.is_connected())

    def pending_events(self) -> int:
        """Vehicle events waiting to settle, over every link (a glance at a counter: no lock needed)."""
        return sum(sink.tracker.pending_count() for sink in list(self.sinks.values()))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.reconcile()
            except Exception:  # the next round tries again; one failed lookup must not end the links
                log.exception("frigate links: reconcile failed")
            self._stop.wait(self.interval_s)

    def reconcile(self) -> None:
        with self.hub.uow() as uow:
            rows = uow.plate_integrations.enabled("frigate")
            wanted = {row.id: (integration_of(row), uow.plate_integrations.secret_of(row.id)) for row in rows}
            uow.rollback()
        for integration_id in [i for i in self.links if i not in wanted]:
            self._unlink(integration_id, "integration disabled")
            log.info("frigate link %s closed (integration disabled)", integration_id)
        for integration_id, (integration, password) in wanted.items():
            if integration_id not in self.links:
                try:
                    self._link(integration, password)
                except Exception:  # one integration that cannot start must not keep the others from starting
                    log.exception("frigate link %s could not start", integration_id)

    def _link(self, integration: PlateIntegration, password: str | None) -> None:
        sink = FrigateIngest(self.hub, integration)
        link = self.open_link(sink.config.broker_url, sink.config.username, password, sink)
        link.start()
        self.links[integration.id], self.sinks[integration.id] = link, sink

    def _unlink(self, integration_id: str, why: str) -> None:
        self.links.pop(integration_id).close()
        sink = self.sinks.pop(integration_id)
        sink.tick()  # what had settled by now is still read
        sink.link_state(False, why)  # the link's worker has ended: this thread may call its sink now
