"""Composition of the integrations that run beside the hub: Frigate MQTT links and Prometheus metrics."""

from __future__ import annotations

from openrtcc.adapters.metrics.prometheus import PrometheusMetrics
from openrtcc.adapters.mqtt.frigate_subscriber import FrigateSubscriber
from openrtcc.bus_group_wiring import GroupSubscription
from openrtcc.config import Settings
from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.command_events import IncidentChanged
from openrtcc.process_roles import city_mode
from openrtcc.services.frigate_ingest import FrigateLinks
from openrtcc.services.hub import Hub

METRICS_GROUP = "metrics"


def wire(hub: Hub, settings: Settings) -> None:
    """Install hub.metrics and add the Frigate links' background work to hub.extras["background"]."""
    hub.metrics = PrometheusMetrics()
    if hub.bus is not None:
        _count_bus_events(hub)
    _link_frigate(hub, settings)


def _count_bus_events(hub: Hub) -> None:
    """Alerts and incidents are counted as they are announced (after commit), by kind only. In city mode every
    process hears every announcement: one worker counts each (the bus group "metrics"), so the sum over the
    deployment's processes counts each alert once."""
    metrics = hub.metrics

    def alert_raised(event: AlertRaised) -> None:
        metrics.count("rtcc_alerts_raised_total", match_kind=event.alert.match_kind)

    def incident_changed(event: IncidentChanged) -> None:
        if event.change == "opened":
            metrics.count("rtcc_incidents_opened_total", source=str(event.incident.source))

    if city_mode(hub):  # taken by the workers' background work, never by a one-off command's hub
        hub.extras["background"].append(GroupSubscription("bus-metrics", hub.bus, METRICS_GROUP, [
            (AlertRaised, alert_raised), (IncidentChanged, incident_changed)]))
        return
    hub.bus.subscribe(AlertRaised, alert_raised)
    hub.bus.subscribe(IncidentChanged, incident_changed)


def _link_frigate(hub: Hub, settings: Settings) -> None:
    """A link per enabled Frigate integration, started with the hub's other background work."""

    def open_link(broker_url: str, username: str | None, password: str | None, sink) -> FrigateSubscriber:
        return FrigateSubscriber(broker_url, username, password, sink, allow_private=settings.outbound_allow_private,
                                 connect_timeout_s=settings.mqtt_connect_timeout_s)

    links = FrigateLinks(hub, open_link)
    hub.extras["frigate_links"] = links
    hub.extras.setdefault("background", []).append(links)
