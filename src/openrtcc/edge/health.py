"""Every ~10 s the box tells the hub how it is: each camera's health, the disk, its alarms, queued reads.

It takes callables, not the capture, store or queue classes, so it depends on none of them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from openrtcc.domain.clock import Clock
from openrtcc.domain.edge_protocol import CameraHealth, DiskUsage, Health
from openrtcc.edge.alarms import Alarms
from openrtcc.periodic import PeriodicTask

log = logging.getLogger(__name__)
HEALTH_EVERY_S = 10.0


class HealthReporter:
    def __init__(self, send: Callable[[Health], bool], is_connected: Callable[[], bool], clock: Clock,
                 alarms: Alarms, *, cameras: Callable[[], list[CameraHealth]] = list,
                 disk: Callable[[], DiskUsage | None] = lambda: None, queued_reads: Callable[[], int] = lambda: 0,
                 interval_s: float = HEALTH_EVERY_S):
        self._send, self._is_connected, self._clock, self._alarms = send, is_connected, clock, alarms
        self._cameras, self._disk, self._queued = cameras, disk, queued_reads
        self._task = PeriodicTask("edge-health", interval_s, self.report)

    def build(self) -> Health:
        return Health(sent_at=self._clock.now(), cameras=self._cameras(), disk=self._disk(),
                      alarms=self._alarms.take_report(), queued_reads=max(0, self._queued()))

    def report(self) -> bool:
        """One report now; skipped while the link is down, so cleared alarms wait for a link that hears them."""
        if not self._is_connected():
            return False
        return self._send(self.build())

    def start(self) -> None:
        self._task.start()

    def stop(self) -> None:
        self._task.stop()
