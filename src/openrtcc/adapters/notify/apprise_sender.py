"""The SMS and push channels through apprise: one URL template per channel, `{to}` filled per subscriber.

The template comes from the settings (`sms_apprise_url`, e.g. `twilio://SID:TOKEN@+15551234567/{to}`;
`push_apprise_url`, e.g. `ntfys://ntfy.example.org/{to}`) and holds the service's credentials, so neither it
nor the filled URL is ever logged or put in an outcome. The subscriber's address is URL-quoted before it goes
in, so it can only ever name a target, never change the host or add a credential. SMS numbers must be E.164.
apprise answers only yes or no per message: a no is tried again later (the service may be down); an address
this module refuses, or a template apprise cannot use, is refused for good.

The plugin object apprise makes for an address is kept (the last KEPT_SERVICES addresses) and used for that
address's next message, one message at a time, instead of parsing the URL again; apprise's own pacing per
object (Twilio: 0.2 s, most plugins 5.5 s between two messages) is turned off on it, as it was on the fresh
object each message got before: the hub paces each channel itself (the channel_per_second settings)."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import quote

import apprise

from openrtcc.adapters.notify.apprise_http import share_connections
from openrtcc.adapters.notify.sender_threads import SenderThreads
from openrtcc.domain.dissemination import ChannelKind, OutboundMessage, SendOutcome

log = logging.getLogger(__name__)
# apprise's own log lines name the phone number or topic, and at debug level the service URL: keep them out.
logging.getLogger("apprise").setLevel(logging.ERROR)

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
PUSH_TARGET = re.compile(r"^[A-Za-z0-9_.~@:+-]{1,200}$")  # ntfy topics, Gotify/Pushover keys, device ids
SMS_MAX_CHARS = 1600  # Twilio's limit for one message body
KEPT_SERVICES = 4000  # apprise plugin objects kept per sender, by address (a few KB each)


def address_refusal(channel: ChannelKind, address: str) -> str | None:
    """Why this SMS number or push target cannot be used, or None."""
    if channel is ChannelKind.SMS and not E164.match(address or ""):
        return "not an E.164 phone number (+ and country code, e.g. +15551234567)"
    if channel is ChannelKind.PUSH and not PUSH_TARGET.match(address or ""):
        return "not a push target (letters, digits and _.~@:+- only)"
    return None


class AppriseSender:
    def __init__(self, channel: ChannelKind, url_template: str, *, concurrency: int = 8):
        if "{to}" not in url_template:
            raise ValueError(f"the {channel} apprise URL template has no {{to}}")
        self.channel = channel
        self._template = url_template
        self._threads = SenderThreads(concurrency, f"{channel}-send")
        # apprise loads its plugins on the first URL it parses (seconds on a busy machine): pay that now, when
        # the hub starts, not in the first alert's latency. Parsing sends nothing.
        service = apprise.Apprise.instantiate(url_template.replace("{to}", "warmup"))
        # Its plugin then posts over kept-alive connections instead of a new TLS context per message.
        self._http = share_connections(service) if service is not None else None
        self._services: OrderedDict[str, object] = OrderedDict()  # address -> apprise plugin object, idle
        self._services_lock = threading.Lock()

    def __repr__(self) -> str:  # the template carries credentials
        return f"AppriseSender({self.channel})"

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        if len(messages) == 1:
            return [self._notify(messages[0])]
        return self._threads.map(self._notify, messages)

    def close(self) -> None:
        self._threads.close()
        with self._services_lock:
            self._services.clear()
        if self._http is not None:
            self._http.close()

    def _notify(self, message: OutboundMessage) -> SendOutcome:
        did = message.delivery_id
        refusal = address_refusal(self.channel, message.address)
        if refusal:
            return SendOutcome(did, False, refusal, retryable=False)
        try:
            service = self._service(message.address)
            if service is None:
                log.error("%s: the apprise URL template does not give a URL apprise can use", self.channel)
                return SendOutcome(did, False, f"the {self.channel} service URL is not usable (check the "
                                   "settings)", retryable=False)
            ok = service.notify(**self._content(message))
            self._keep(message.address, service)
        except Exception as exc:  # a plugin's bug must not stop the batch; the URL stays out of the log
            log.warning("%s delivery %s: apprise raised %s", self.channel, did, type(exc).__name__)
            return SendOutcome(did, False, f"apprise error: {type(exc).__name__}")
        if ok:
            return SendOutcome(did, True)
        return SendOutcome(did, False, f"the {self.channel} service did not accept the message")

    def _service(self, address: str):
        """The address's kept plugin object, taken out while it sends (two threads never share one), or a new
        one; None when the template gives no URL apprise can use."""
        with self._services_lock:
            service = self._services.pop(address, None)
        if service is None:
            service = apprise.Apprise.instantiate(self._template.replace("{to}", quote(address, safe="")))
            if service is not None:
                service.request_rate_per_sec = 0  # see the module's docstring
        return service

    def _keep(self, address: str, service) -> None:
        with self._services_lock:
            self._services[address] = service
            if len(self._services) > KEPT_SERVICES:
                self._services.popitem(last=False)

    def _content(self, message: OutboundMessage) -> dict:
        if self.channel is ChannelKind.SMS:  # one text, no title: SMS has no subject line
            return {"body": message.text[:SMS_MAX_CHARS], "title": ""}
        return {"body": message.text, "title": message.subject}
