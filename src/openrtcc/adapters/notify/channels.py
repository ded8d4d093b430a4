"""The channel senders the settings turn on, and the address check a subscription goes through per channel.

`build_channel_senders` gives email (when smtp_host is set), SMS and push (when their apprise URL templates
are set), webhook and MQTT (always: their addresses are the subscribers' own). The WebSocket channel is added
by the web layer (web/notice_sockets.install), which owns the open sockets. `check_subscriber_address` is what
a subscription is checked with when it is made (the senders check again at send time)."""

from __future__ import annotations

from collections.abc import Callable

from openrtcc.adapters.notify.apprise_sender import AppriseSender, address_refusal
from openrtcc.adapters.notify.mqtt_sender import MqttSender, topic_refusal
from openrtcc.adapters.notify.outbound_guard import (UnsafeOutboundUrl, check_broker_url, check_webhook_url,
                                                    parse_outbound_url)
from openrtcc.adapters.notify.smtp_mailer import SmtpMailer
from openrtcc.adapters.notify.smtp_sender import EMAIL_ADDRESS, SmtpSender
from openrtcc.adapters.notify.webhook_sender import WebhookSender
from openrtcc.config import Settings
from openrtcc.domain.clock import Clock
from openrtcc.domain.dissemination import ChannelKind
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.ports import ChannelSender

AddressCheck = Callable[[ChannelKind, str], str]


def build_channel_senders(settings: Settings, clock: Clock, *, mailer: SmtpMailer | None = None
                          ) -> dict[ChannelKind, ChannelSender]:
    """One sender per channel this deployment can use; `mailer` reuses the hub's SMTP settings object."""
    senders: dict[ChannelKind, ChannelSender] = {}
    if mailer is None and settings.smtp_host:
        mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                            starttls=settings.smtp_starttls, username=settings.smtp_username,
                            password=settings.smtp_password)
    if mailer is not None:
        senders[ChannelKind.EMAIL] = SmtpSender(mailer)
    if settings.sms_apprise_url:
        senders[ChannelKind.SMS] = AppriseSender(ChannelKind.SMS, settings.sms_apprise_url)
    if settings.push_apprise_url:
        senders[ChannelKind.PUSH] = AppriseSender(ChannelKind.PUSH, settings.push_apprise_url)
    senders[ChannelKind.WEBHOOK] = WebhookSender(clock, timeout_s=settings.webhook_timeout_s,
                                                 allow_private=settings.outbound_allow_private)
    senders[ChannelKind.MQTT] = MqttSender(connect_timeout_s=settings.mqtt_connect_timeout_s,
                                           ack_timeout_s=max(5.0, 2 * settings.mqtt_connect_timeout_s),
                                           allow_private=settings.outbound_allow_private)
    return senders


def close_channel_senders(senders: dict[ChannelKind, ChannelSender]) -> None:
    """Close the connections and threads the senders hold (the hub is stopping)."""
    for sender in senders.values():
        close = getattr(sender, "close", None)
        if close is not None:
            close()


def check_subscriber_address(channel: ChannelKind, address: str, *, allow_private: bool) -> str:
    """The address as it will be used, or InvalidInput (code bad_address / unsafe_outbound_url /
    outbound_host_unresolved) saying why the subscription cannot have it. Never echoes credentials."""
    address = (address or "").strip()
    if channel is ChannelKind.EMAIL:
        if not EMAIL_ADDRESS.match(address):
            raise InvalidInput("not a deliverable email address", code="bad_address")
        return address
    if channel in (ChannelKind.SMS, ChannelKind.PUSH):
        refusal = address_refusal(channel, address)
        if refusal:
            raise InvalidInput(refusal, code="bad_address")
        return address
    if channel is ChannelKind.WEBHOOK:
        check_webhook_url(address, allow_private=allow_private)
        return address
    if channel is ChannelKind.MQTT:
        target = parse_outbound_url(address, ("mqtt", "mqtts"))
        prefix = target.path.strip("/")
        refusal = (topic_refusal(prefix) if prefix else None) or ("the topic prefix takes no wildcards (#)"
                                                                   if "#" in address else None)
        if refusal:
            raise UnsafeOutboundUrl(refusal)
        check_broker_url(address, allow_private=allow_private)
        return address
    return ""  # websocket: the subscriber's own screen connects to us


def address_checker(settings: Settings) -> AddressCheck:
    """check_subscriber_address bound to the deployment's outbound_allow_private (for hub.extras)."""
    return lambda channel, address: check_subscriber_address(channel, address,
                                                             allow_private=settings.outbound_allow_private)
