"""Composition of dissemination: the channel senders the settings turn on, and the dispatcher that feeds them.

In city mode the workers disseminate: each alert and incident change reaches one of them through the bus
group "dissemination" (a shared durable consumer), acknowledged once its notice is stored; the WebSocket
channel reaches subscribers' screens on the serve processes through the notice relay."""

from __future__ import annotations

from openrtcc.adapters.notify.channels import address_checker, build_channel_senders
from openrtcc.bus_group_wiring import GroupSubscription
from openrtcc.config import Settings
from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.command_events import IncidentChanged
from openrtcc.domain.delivery_policy import ChannelRateLimiter, RetryPolicy
from openrtcc.domain.dissemination import ChannelKind
from openrtcc.periodic import PeriodicTask
from openrtcc.process_roles import city_mode
from openrtcc.services import dissemination
from openrtcc.services.dissemination_worker import DisseminationWorker
from openrtcc.services.hub import Hub

DISSEMINATION_GROUP = "dissemination"


def wire(hub: Hub, settings: Settings) -> None:
    """Subscribe dissemination to the bus and add its background work to hub.extras["background"]."""
    # Subscriptions are checked as they are made: addresses per channel, webhook and broker URLs against SSRF.
    hub.extras["address_check"] = address_checker(settings)
    if settings.dissemination_interval_s == 0:
        return
    # Senders hold connections and threads: they are made when the worker starts (a serving hub), not here.
    limits = ChannelRateLimiter({ChannelKind(k): max(1, v) for k, v in settings.channel_per_second.items()})
    worker = DisseminationWorker(hub, RetryPolicy(max_attempts=settings.delivery_max_attempts), channel_limits=limits,
                                 build_senders=lambda: build_channel_senders(settings, hub.clock, mailer=hub.mailer))
    hub.extras["dissemination"] = worker
    # The web app adds the WebSocket channel to this dict when it is created (web/notice_sockets.install).
    hub.extras.setdefault("channels", {})
    hub.extras["background"].append(worker)
    if city_mode(hub):
        _wire_across_processes(hub, settings)
    else:
        hub.bus.subscribe(AlertRaised, lambda event: dissemination.on_alert(hub, event))
        hub.bus.subscribe(IncidentChanged, lambda event: dissemination.on_incident(hub, event))
    hub.extras["background"].append(PeriodicTask("dissemination-retry", settings.dissemination_interval_s,
                                                 worker.retry_round))


def _wire_across_processes(hub: Hub, settings: Settings) -> None:
    from openrtcc.adapters.bus.nats_notices import NatsNoticeRelay

    relay = NatsNoticeRelay(hub.extras["nats"], settings.nats_namespace)
    hub.extras["notice_relay"] = relay  # serve processes' /ws/notices registries watch through it
    hub.extras["channels"][ChannelKind.WEBSOCKET] = relay
    # Joined when the worker's background work starts, after the DisseminationWorker it hands notices to.
    hub.extras["background"].append(GroupSubscription("dissemination-intake", hub.bus, DISSEMINATION_GROUP, [
        (AlertRaised, lambda event: dissemination.disseminate_alert(hub, event)),
        (IncidentChanged, lambda event: dissemination.disseminate_incident(hub, event)),
    ]))
