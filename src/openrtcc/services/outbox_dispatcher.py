"""Delivering the outbox in the background (a worker process, or the embedded hub)."""

from __future__ import annotations

import logging

from openrtcc.periodic import PeriodicTask
from openrtcc.services.hub import Hub
from openrtcc.services.outbox import dispatch_due

log = logging.getLogger(__name__)


class OutboxDispatcher(PeriodicTask):
    """Delivers due outbox events every `interval_s` seconds until stopped; undelivered events stay due."""

    def __init__(self, hub: Hub, interval_s: float):
        super().__init__("outbox-dispatcher", interval_s, self._deliver)
        self.hub = hub

    def _deliver(self) -> None:
        sent = dispatch_due(self.hub)
        if sent:
            log.info("outbox: delivered %s notification(s)", sent)
