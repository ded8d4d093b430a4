"""Composition of dissemination: the channel senders the settings turn on, and the dispatcher that feeds them."""

from __future__ import annotations

from openrtcc.adapters.notify.outbound_guard import check_broker_url, check_webhook_url
from openrtcc.config import Settings
from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.command_events import IncidentChanged
from openrtcc.domain.delivery_policy import RetryPolicy
from openrtcc.domain.dissemination import ChannelKind
from openrtcc.periodic import PeriodicTask
from openrtcc.services import dissemination
from openrtcc.services.dissemination_worker import DisseminationWorker
from openrtcc.services.hub import Hub


def wire(hub: Hub, settings: Settings) -> None:
    """Subscribe dissemination to the bus and add its background work to hub.extras["background"]."""
    hub.extras["outbound_check"] = _outbound_check(settings.outbound_allow_private)
    if settings.dissemination_interval_s == 0:
        return
    worker = DisseminationWorker(hub, RetryPolicy(max_attempts=settings.delivery_max_attempts))
    hub.extras["dissemination"] = worker
    hub.extras.setdefault("channels", _channel_senders(hub, settings))
    hub.bus.subscribe(AlertRaised, lambda event: dissemination.on_alert(hub, event))
    hub.bus.subscribe(IncidentChanged, lambda event: dissemination.on_incident(hub, event))
    hub.extras["background"].append(worker)
    hub.extras["background"].append(PeriodicTask("dissemination-retry", settings.dissemination_interval_s,
                                                 worker.retry_round))


def _outbound_check(allow_private: bool):
    """Refuses webhook and broker URLs that reach loopback or private networks (unless allowed)."""
    def check(channel: ChannelKind, url: str) -> None:
        if channel is ChannelKind.WEBHOOK:
            check_webhook_url(url, allow_private=allow_private)
        elif channel is ChannelKind.MQTT:
            check_broker_url(url, allow_private=allow_private)
    return check


def _channel_senders(hub: Hub, settings: Settings) -> dict:
    try:
        from openrtcc.adapters.notify.channels import build_channel_senders
    except ImportError:  # the channel adapters are not installed in this build: nothing is sent, all retried
        return {}
    return build_channel_senders(settings, hub)
