"""The edge box's composition root: `rtcc edge --config edge.toml` builds every part here and runs them.

Threads, one job each: a capture per camera stream (RTSP demux, reconnects); one recording pump driving every
camera's recorder (remux into sealed segments; a sealer thread beside it); a plate worker per plate-reading
camera (decode, read, queue durably); the
read forwarder (queue -> hub); the hub link (WebSocket: policy in, health/access log/results out, requests
to the request handler); health, retention and the clock watchdog on timers. Nothing else in the box picks
a concrete class. SIGINT/SIGTERM stop everything in order within a few seconds: requests first (live
sessions end and say so), then the cameras (recorders seal their last segment), then the forwarder, and
the link last, so the hub hears the ends.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from openrtcc.adapters.alpr.model_files import ModelFilesError
from openrtcc.adapters.video.opencv_face_guard import disable_face_apis
from openrtcc.domain.clock import Clock, SystemClock
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.edge_protocol import CLOCK_SKEW_ALARM_S, CameraHealth
from openrtcc.edge.access_log import EdgeAccessLog, access_log_path
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.capture import CameraCapture
from openrtcc.edge.clock_watchdog import ClockWatchdog
from openrtcc.edge.config import CameraSection, EdgeConfig
from openrtcc.edge.credentials import Credentials, load_credentials
from openrtcc.edge.data_dir_lock import DataDirLock
from openrtcc.edge.day_keys import DayKeys
from openrtcc.edge.health import HealthReporter
from openrtcc.edge.hub_http import hub_client
from openrtcc.edge.hub_link import HubLink
from openrtcc.edge.hub_uploads import HubUploads
from openrtcc.edge.frames import decode_frames
from openrtcc.edge.packets import PacketSource
from openrtcc.edge.plate_pipeline import PipelineSettings, PlatePipeline, default_workers, load_reader
from openrtcc.edge.policy_gate import PolicyGate
from openrtcc.edge.read_forwarder import ReadForwarder
from openrtcc.edge.read_queue import ReadQueue
from openrtcc.edge.recorder import Recorder
from openrtcc.edge.request_handler import RequestHandler
from openrtcc.edge.retention import RetentionRunner
from openrtcc.edge.segment_store import SegmentStore
from openrtcc.edge.url_guard import UnresolvedCameraHost, UnsafeCameraUrl, check_camera_url, hub_endpoints
from openrtcc.periodic import PeriodicTask

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 300.0
CLOCK_CHECK_EVERY_S = 5.0
UNRESOLVED_RETRY_S = 30.0
STOP_BUDGET_S = 8.0
FIRST_HEALTH_AFTER_S = 3.0
PLATE_QUEUE = 120  # packets; a reader that falls behind skips to the next keyframe rather than lagging


class CameraFeed(PacketSource, Protocol):
    """A camera's stream as the box runs it: the RTSP capture, or a feed a `sources` factory supplies."""

    def start(self) -> CameraFeed: ...

    def stop(self, timeout: float | None = None) -> bool: ...

    def health(self) -> CameraHealth: ...


# Builds a camera's feed from its edge.toml section instead of opening its URL (the demo's synthetic cameras).
CameraSources = Callable[[CameraSection], CameraFeed]


@dataclass
class CameraParts:
    """What runs for one configured camera."""

    section: CameraSection
    main: CameraFeed | None = None
    sub: CameraFeed | None = None  # the substream, when configured: plate reading and live view use it
    workers: list = field(default_factory=list)  # recorder, plate pipeline: each has stop()

    def source(self) -> PacketSource | None:
        return self.sub or self.main

    def health(self) -> CameraHealth | None:
        return self.main.health() if self.main is not None else None


class PlateWorker:
    """Drives one camera's plate pipeline in a thread: decimated frames from its subscription in, reads out
    to the durable queue. A failure is logged and the pipeline restarted; the reads already queued stay."""

    RESTART_S = 5.0

    def __init__(self, source: PacketSource, pipeline: PlatePipeline, frames_per_second: float):
        self._source, self.pipeline, self._every_s = source, pipeline, 1.0 / frames_per_second
        self._stop = threading.Event()
        self._subscription = None
        self._thread: threading.Thread | None = None

    def start(self) -> PlateWorker:
        self._thread = threading.Thread(target=self._run, name=f"plates-{self.pipeline.camera_id}", daemon=True)
        self._subscription = self._source.subscribe(max_queue=PLATE_QUEUE)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pipeline.run(decode_frames(self._subscription, self._every_s), should_stop=self._stop.is_set)
            except Exception:  # a corrupt stream or a reader error must not end plate reading for good
                log.exception("camera %s: plate reading failed; restarting", self.pipeline.camera_id)
            if self._stop.wait(self.RESTART_S) or self._subscription.closed:
                return

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._subscription is not None:
            self._subscription.close()  # ends decode_frames
        if self._thread is not None:
            self._thread.join(timeout)


def check_camera_urls(config: EdgeConfig, hub) -> None:
    """A URL that can never be safe (scheme, link-local, metadata, the hub...) stops the box at start; a name
    that does not resolve yet is retried by the camera's thread instead."""
    for camera in config.cameras:
        for url in (camera.url, camera.substream_url):
            if url is None:
                continue
            try:
                check_camera_url(url, hub=hub)
            except UnresolvedCameraHost:
                pass
            except UnsafeCameraUrl as exc:
                raise UnsafeCameraUrl(f"camera {camera.id}: {exc.message}") from None


class EdgeAgent:
    def __init__(self, config: EdgeConfig, *, clock: Clock | None = None, credentials: Credentials | None = None,
                 sources: CameraSources | None = None):
        disable_face_apis()  # no facial recognition by construction: OpenCV's face APIs refuse on the box
        self.config = config
        self.clock = clock or SystemClock()
        self.credentials = credentials or load_credentials(config)  # no credentials: "run rtcc edge enrol"
        self._hub = hub_endpoints(config.edge.hub_url)
        self._sources = sources  # None: every camera is its RTSP URL
        if sources is None:
            check_camera_urls(config, self._hub)  # before anything is created on disk
        data_dir = Path(config.edge.data_dir)
        self._dir_lock = DataDirLock(data_dir)  # before anything in the folder is opened
        self.alarms = Alarms(self.clock.now)
        self.gate = PolicyGate(config, data_dir / "policy.json")
        self.access_log = EdgeAccessLog(access_log_path(config), now=self.clock.now)
        self.day_keys = DayKeys(data_dir)
        self.store = SegmentStore(data_dir, config.recording, self.alarms, self.clock, day_keys=self.day_keys)
        self.watchdog = ClockWatchdog(self.clock, self.alarms)
        self.retention = RetentionRunner(self.store, self.day_keys, self.gate.retention_days, self.clock, self.alarms,
                                         watchdog=self.watchdog)
        self.reads = ReadQueue(data_dir / "reads.sqlite3")
        self.link = HubLink(config, self.credentials, self.gate, clock=self.clock, alarms=self.alarms,
                            access_log=self.access_log)
        self.forwarder = ReadForwarder(self.reads, self.credentials.edge_id, self._hub_client,
                                       self.gate.read_recipients, self.alarms, access_log=self.access_log,
                                       now=self.clock.now)
        self._uploads_client = self._hub_client()
        self.requests = RequestHandler(config, self.gate, self.access_log, HubUploads(self._uploads_client),
                                       self.link.send, self.clock, self._source, self.store)
        self.health = HealthReporter(self.link.send, self.link.connected.is_set, self.clock, self.alarms,
                                     cameras=self._camera_health, disk=self.store.usage,
                                     queued_reads=self.reads.pending)
        self.cameras = {c.id: CameraParts(c) for c in config.cameras}
        self._pipeline_settings = PipelineSettings(frames_per_second=config.plate_reading.frames_per_second,
                                                   region=config.plate_reading.region, workers=default_workers())
        self.plate_reader = self._load_plate_reader() if any(c.plate_reading for c in config.cameras) else None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._timers = [PeriodicTask("edge-retention", RETENTION_EVERY_S, self.retention.run_once),
                        PeriodicTask("edge-clock", CLOCK_CHECK_EVERY_S, self.watchdog.check)]

    def _load_plate_reader(self):
        """One reader for every camera (onnxruntime sessions serve concurrent calls); loaded at start, so
        missing model files stop the box with a clear error rather than leaving reads silently off."""
        pr = self.config.plate_reading
        try:
            return load_reader(pr.model_dir, self._pipeline_settings.workers, pr.threads)
        except (ModelFilesError, ValueError, OSError) as exc:
            raise InvalidInput(f"cannot load the plate reader: {exc}", code="plate_reader_unavailable") from None

    def _hub_client(self):
        return hub_client(self.config, self.credentials.key)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        log.info("edge %s starting: %s camera(s), hub %s", self.credentials.edge_id, len(self.cameras),
                 self.config.edge.hub_url)
        self.requests.register(self.link)
        self.link.on_connect(self._on_connect)
        self.link.start()
        self._spawn("read-forwarder", self.forwarder.run, self._stop)
        for parts in self.cameras.values():
            self._spawn(f"camera-{parts.section.id}", self._start_camera, parts)
        self.health.start()
        for timer in self._timers:
            timer.start()

    def _spawn(self, name: str, target: Callable, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _on_connect(self) -> None:
        # The first health report soon after connecting (the cameras have had a moment to come online), not
        # a whole interval later: the map shows the box's cameras as soon as they are up.
        first = threading.Timer(FIRST_HEALTH_AFTER_S, self.health.report)
        first.daemon = True
        first.start()
        skew = self.link.clock_skew_s
        if skew is not None and abs(skew) <= CLOCK_SKEW_ALARM_S:
            # The hub agrees with our clock: whatever jump was seen is over (an RTC set right by NTP).
            self.retention.accept_clock()  # and the watchdog's

    def _start_camera(self, parts: CameraParts) -> None:
        """Check the URLs (retrying a name that does not resolve yet), then start capture and its workers."""
        section = parts.section
        if self._sources is not None:  # no URL is opened: nothing to check
            parts.main = self._sources(section)
            parts.workers = self._workers(parts)
            parts.main.start()
            return
        while not self._stop.is_set():
            try:
                main = check_camera_url(section.url, hub=self._hub)
                sub = check_camera_url(section.substream_url, hub=self._hub) if section.substream_url else None
                break
            except UnsafeCameraUrl as exc:
                self.alarms.raise_("camera_offline", exc.message, section.id)
                self._stop.wait(UNRESOLVED_RETRY_S)
        else:
            return
        # The capture opens the URL pinned to the address just checked: no second DNS answer is trusted.
        parts.main = CameraCapture(section.id, main.connect_url, self.clock, self.alarms)
        if sub is not None:
            parts.sub = CameraCapture(section.id, sub.connect_url, self.clock, self.alarms)
        parts.workers = self._workers(parts)
        for capture in (parts.main, parts.sub):
            if capture is not None:
                capture.start()

    def _workers(self, parts: CameraParts) -> list:
        """The recorder and the plate worker for one camera, subscribed before the capture starts."""
        section, workers = parts.section, []
        if section.record:
            workers.append(Recorder(parts.main, self.store, self.config.recording.segment_seconds, self.clock,
                                    self.alarms).start())
        if section.plate_reading and self.plate_reader is not None:
            camera_id = section.id
            pipeline = PlatePipeline(camera_id, self.plate_reader, lambda: self.gate.masks(camera_id),
                                     lambda: self.gate.read_recipients(camera_id), self.reads, self.clock.now,
                                     self._pipeline_settings, self.alarms, on_read=self.forwarder.wake.set)
            workers.append(PlateWorker(parts.source(), pipeline, self._pipeline_settings.frames_per_second).start())
        return workers

    def _source(self, camera_id: str) -> PacketSource | None:
        parts = self.cameras.get(camera_id)
        return parts.source() if parts is not None else None

    def _camera_health(self) -> list[CameraHealth]:
        return [h for h in (p.health() for p in self.cameras.values()) if h is not None]

    def stop(self, budget_s: float = STOP_BUDGET_S) -> None:
        """Stop in order; each step gets what is left of the budget."""
        deadline = time.monotonic() + budget_s
        self._stop.set()
        self.requests.close()
        # Workers first: a recorder writes what is queued and seals its segment while the capture still runs.
        _stop_together([w for p in self.cameras.values() for w in p.workers], min(3.0, budget_s / 2))
        _stop_together([c for p in self.cameras.values() for c in (p.main, p.sub) if c is not None],
                       max(0.5, deadline - time.monotonic() - 1.0))
        for timer in self._timers:
            timer.stop()
        self.health.stop()
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        self.link.stop(timeout_s=max(0.5, deadline - time.monotonic()))
        self._uploads_client.close()
        self.reads.close()
        self.store.close()
        self.access_log.close()
        self._dir_lock.release()
        log.info("edge %s stopped", self.credentials.edge_id)


def _stop_together(parts: list, timeout: float) -> None:
    """stop(timeout) on every part at once (a hundred cameras must not stop one after another)."""
    threads = [threading.Thread(target=p.stop, kwargs={"timeout": timeout}, daemon=True) for p in parts]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout + 0.5
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


def run_agent(config: EdgeConfig) -> int:
    """Run until SIGINT or SIGTERM; 0 after an orderly stop."""
    agent = EdgeAgent(config)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        agent.start()
        while not stop.wait(1.0):
            pass
        log.info("stopping")
    finally:
        agent.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
