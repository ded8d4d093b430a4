"""Composition of the read intake in city mode: serve processes take reads into JetStream, workers store them.

Every process gets the queue (`hub.extras["read_queue"]`), which turns services/ingest.py's `ingest_reads` into
checking and queueing (services/read_intake.py); the consumer that stores what is queued is worker work
(`hub.extras["background"]`), so every `rtcc worker` pulls from the one shared durable consumer.
"""

from __future__ import annotations

import asyncio

from openrtcc.adapters.bus.jetstream_reads import JetStreamReadQueue
from openrtcc.config import Settings
from openrtcc.services.edge_read_access import edge_read_access
from openrtcc.services.hub import Hub
from openrtcc.services.read_intake import is_transient, record_dead_letter, store_queued


def wire(hub: Hub, settings: Settings) -> None:
    queue = JetStreamReadQueue(hub.extras["nats"], namespace=settings.nats_namespace,
                               replicas=settings.nats_replicas)
    hub.extras["read_queue"] = queue
    consumer = queue.consumer(
        store=lambda reads: store_queued(hub, reads),
        transient=is_transient,
        dead_letter=lambda reason, queued, sequence: record_dead_letter(hub, reason, queued, sequence),
        # hub.metrics is looked up on each call: the Prometheus metrics are installed after this wiring.
        pending=lambda n: hub.metrics.gauge("rtcc_read_queue_pending", n))
    hub.extras["read_consumer"] = consumer
    hub.extras["background"].append(consumer)
    access = edge_read_access(hub)

    async def bus_back() -> None:  # announcements missed while cut off: forget everything, send our own
        access.forget_all()
        await asyncio.to_thread(access.announce_pending)

    hub.extras["nats"].on_reconnect(bus_back)
