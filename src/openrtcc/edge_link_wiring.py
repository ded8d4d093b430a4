"""Composition of the edge links and live video in city mode: a box's link is held by one serve process and the
others reach it through NATS; live segments live in a JetStream bucket every hub process shares."""

from __future__ import annotations

from openrtcc.adapters.bus.jetstream_live_segments import JetStreamLiveSegments
from openrtcc.adapters.bus.nats_edge_links import NatsEdgeRelay
from openrtcc.config import Settings
from openrtcc.services.hub import Hub


def wire(hub: Hub, settings: Settings) -> None:
    """Called by bootstrap after the in-process EdgeLinks and their handlers were set up (any role: a worker
    sends to boxes too, e.g. an emergency's expiry)."""
    link = hub.extras["nats"]
    links = hub.extras["edge_links"]
    relay = NatsEdgeRelay(link, namespace=settings.nats_namespace, process_name=hub.extras["process_name"],
                          replicas=settings.nats_replicas)
    relay.bind(links.deliver_here, links.close_here)
    relay.start()
    links.use_relay(relay)
    hub.extras["edge_relay"] = relay
    hub.extras["live_segments"] = JetStreamLiveSegments(link, namespace=settings.nats_namespace,
                                                        replicas=settings.nats_replicas)
