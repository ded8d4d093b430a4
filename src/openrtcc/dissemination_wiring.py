"""Composition of dissemination: the channel senders the settings turn on, and the dispatcher that feeds them."""

from __future__ import annotations

from openrtcc.adapters.notify.channels import address_checker, build_channel_senders
from openrtcc.config import Settings
from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.command_events import IncidentChanged
from openrtcc.domain.delivery_policy import ChannelRateLimiter, RetryPolicy
from openrtcc.domain.dissemination import ChannelKind
from openrtcc.periodic import PeriodicTask
from openrtcc.services import dissemination
from openrtcc.services.dissemination_worker import DisseminationWorker
from openrtcc.services.hub import Hub


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
    hub.bus.subscribe(AlertRaised, lambda event: dissemination.on_alert(hub, event))
    hub.bus.subscribe(IncidentChanged, lambda event: dissemination.on_incident(hub, event))
    hub.extras["background"].append(worker)
    hub.extras["background"].append(PeriodicTask("dissemination-retry", settings.dissemination_interval_s,
                                                 worker.retry_round))

