"""The MQTT channel: Frigate-style envelopes published with QoS 1 to each subscriber's broker.

A subscriber's address is its broker URL, `mqtt://user:password@host:1883/<prefix>` or `mqtts://...` (TLS,
the system's CAs); the path is the topic prefix (default `rtcc`) and every message goes to
`<prefix>/events` (as Frigate publishes to `frigate/events`), retain off, unless the message names its own
topic. One connection per broker and credentials, kept open between batches with its network thread; a
batch is published all at once (up to `MAX_INFLIGHT` unacknowledged) and a message counts as handed when the
broker's PUBACK arrives. What is not acknowledged within the timeout is tried again later, and that
connection is dropped so that the next batch starts on a fresh one (a broker that restarted is reconnected
then; paho also reconnects by itself in between). A broker that refuses the credentials fails the
subscriber's deliveries for good. Broker URLs carry passwords: logs and errors name only scheme://host:port.
The broker's addresses are checked by outbound_guard before every new connection; plain mqtt:// connects to
the checked address itself."""

from __future__ import annotations

import json
import logging
import secrets
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from openrtcc.adapters.notify.outbound_guard import (OutboundTarget, UnresolvedOutboundHost, UnsafeOutboundUrl,
                                                    parse_outbound_url, resolve_checked)
from openrtcc.domain.dissemination import OutboundMessage, SendOutcome

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "rtcc"  # as domain/notice_templates.mqtt_topic
MAX_INFLIGHT = 1000
IDLE_CLOSE_S = 600.0  # a broker nobody has published to for this long is disconnected


def topic_for(message: OutboundMessage, target: OutboundTarget) -> str:
    """The message's own topic, else `<prefix from the URL path>/events`."""
    if message.topic:
        return message.topic
    prefix = target.path.strip("/") or DEFAULT_PREFIX
    return f"{prefix}/events"


def topic_refusal(topic: str) -> str | None:
    if not topic or len(topic) > 200 or any(c in topic for c in "+#\x00") or topic.startswith("$"):
        return "the topic prefix must be 1-200 characters without +, # or a leading $"
    return None


def _fragment_refusal(url: str) -> str | None:
    # A # would be read as a URL fragment and silently dropped from the prefix a subscriber meant.
    return "the broker URL holds a #: the topic prefix takes no wildcards" if "#" in url else None


class ConnectRefused(Exception):
    """The broker answered CONNACK with a refusal (bad credentials, not authorised)."""


@dataclass(eq=False)
class BrokerLink:
    target: OutboundTarget
    client: mqtt.Client
    connected: threading.Event = field(default_factory=threading.Event)
    refused: str | None = None
    last_used: float = field(default_factory=time.monotonic)

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


class MqttSender:
    def __init__(self, *, connect_timeout_s: float = 5.0, ack_timeout_s: float = 10.0, allow_private: bool = False,
                 client_id_prefix: str = "openrtcc"):
        self.connect_timeout_s = connect_timeout_s
        self.ack_timeout_s = ack_timeout_s
        self.allow_private = allow_private
        self.client_id_prefix = client_id_prefix
        self._links: dict[tuple, BrokerLink] = {}
        self._lock = threading.Lock()

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        outcomes: list[SendOutcome] = []
        by_broker: dict[tuple, list[tuple[OutboundMessage, OutboundTarget]]] = {}
        for message in messages:
            try:
                target = parse_outbound_url(message.address, ("mqtt", "mqtts"))
            except UnsafeOutboundUrl as exc:
                outcomes.append(SendOutcome(message.delivery_id, False, str(exc), retryable=False))
                continue
            refusal = topic_refusal(topic_for(message, target)) or _fragment_refusal(message.address)
            if refusal:
                outcomes.append(SendOutcome(message.delivery_id, False, refusal, retryable=False))
                continue
            key = (target.scheme, target.host, target.port, target.username, target.password)
            by_broker.setdefault(key, []).append((message, target))
        with self._lock:  # one batch at a time: links are opened, used and closed by the caller's thread
            pending = [(key, self._publish_all(key, group, outcomes)) for key, group in by_broker.items()]
            for key, infos in pending:
                outcomes += self._await_acks(key, infos)
            self._close_idle()
        return outcomes

    def close(self) -> None:
        with self._lock:
            for key in list(self._links):
                self._drop(key, wait=True)

    def _publish_all(self, key: tuple, group: list, outcomes: list[SendOutcome]) -> list:
        """Publish the group on its broker's link; returns (message, info) pairs, or [] when it failed."""
        try:
            link = self._link(key, group[0][1])
        except (ConnectRefused, UnsafeOutboundUrl) as exc:
            outcomes += [SendOutcome(m.delivery_id, False, str(exc), retryable=False) for m, _ in group]
            return []
        except (UnresolvedOutboundHost, OSError, TimeoutError, ssl.SSLError) as exc:
            log.warning("mqtt: cannot connect to %s (%s)", group[0][1].redacted, type(exc).__name__)
            why = f"cannot connect to {group[0][1].redacted}: {type(exc).__name__}"
            outcomes += [SendOutcome(m.delivery_id, False, why) for m, _ in group]
            return []
        link.last_used = time.monotonic()
        infos = []
        for message, target in group:
            payload = json.dumps(message.data, separators=(",", ":"), ensure_ascii=False, default=str)
            infos.append((message, link.client.publish(topic_for(message, target), payload, qos=1, retain=False)))
        return infos

    def _await_acks(self, key: tuple, infos: list) -> list[SendOutcome]:
        """Collect the PUBACKs. The deadline slides while acknowledgements keep coming, so a big batch on a
        slow but working broker is not cut off; ack_timeout_s without any progress means trouble."""
        deadline = time.monotonic() + self.ack_timeout_s
        outcomes, late = [], 0
        for message, info in infos:
            if _acknowledged(info, deadline):
                outcomes.append(SendOutcome(message.delivery_id, True))
                deadline = max(deadline, time.monotonic() + self.ack_timeout_s) if not late else deadline
            else:
                late += 1
                outcomes.append(SendOutcome(message.delivery_id, False, "the broker did not acknowledge in time"))
        if late:
            link = self._links.get(key)
            log.warning("mqtt: %s of %s messages not acknowledged by %s; reconnecting for the next batch", late,
                        len(infos), link.target.redacted if link else "the broker")
            self._drop(key)  # unacknowledged messages queued in the old client are discarded with it
        return outcomes

    def _link(self, key: tuple, target: OutboundTarget) -> BrokerLink:
        link = self._links.get(key)
        if link is not None and link.refused is None:
            return link
        if link is not None:
            self._drop(key)
        link = self._connect(target)
        self._links[key] = link
        return link

    def _connect(self, target: OutboundTarget) -> BrokerLink:
        addresses = resolve_checked(target.host, target.port, allow_private=self.allow_private)
        # A random client id: two hubs (or two links) on one broker must not evict each other.
        client_id = f"{self.client_id_prefix}-{secrets.token_hex(6)}"
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        client.connect_timeout = self.connect_timeout_s
        client.max_inflight_messages_set(MAX_INFLIGHT)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if target.username:
            client.username_pw_set(target.username, target.password)
        host = target.host
        if target.scheme == "mqtts":
            client.tls_set_context(ssl.create_default_context())  # verifies the certificate against the name
        else:
            host = addresses[0]  # pinned: nothing is resolved again between the check and the connection
        link = BrokerLink(target, client)
        client.on_connect = lambda c, u, flags, reason, props: _on_connect(link, reason)
        client.on_disconnect = lambda c, u, flags, reason, props: link.connected.clear()
        client.connect(host, target.port, keepalive=30)
        client.loop_start()
        if not link.connected.wait(self.connect_timeout_s) or link.refused:
            why = link.refused
            link.close()
            if why:
                raise ConnectRefused(f"{target.redacted} refused the connection: {why}")
            raise TimeoutError("no CONNACK")
        return link

    def _drop(self, key: tuple, wait: bool = False) -> None:
        """Forget the link and close it; in the background unless `wait` (paho's thread may take a second to
        notice, and the batch should not wait for that)."""
        link = self._links.pop(key, None)
        if link is None:
            return
        if wait:
            _close_quietly(link)
        else:
            threading.Thread(target=_close_quietly, args=(link,), name="mqtt-close", daemon=True).start()

    def _close_idle(self) -> None:
        now = time.monotonic()
        for key, link in list(self._links.items()):
            if now - link.last_used > IDLE_CLOSE_S:
                self._drop(key)


def _close_quietly(link: BrokerLink) -> None:
    try:
        link.close()
    except Exception as exc:  # closing a dead connection may complain; it is gone either way
        log.debug("mqtt: closing %s: %s", link.target.redacted, type(exc).__name__)


def _acknowledged(info: mqtt.MQTTMessageInfo, deadline: float) -> bool:
    """Wait (until the deadline) for the broker's PUBACK of one message."""
    try:
        info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        return info.is_published()
    except (ValueError, RuntimeError):  # not queued, or the client is not connected
        return False


def _on_connect(link: BrokerLink, reason) -> None:
    if reason.is_failure:
        link.refused = str(reason)
    link.connected.set()
