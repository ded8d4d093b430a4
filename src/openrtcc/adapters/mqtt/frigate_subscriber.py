"""A subscription to a Frigate installation's MQTT broker (paho) that feeds a MessageSink and keeps reconnecting.

paho's network thread only queues what arrives; one worker thread per link hands it to the sink in order and
ticks it, so the sink (database writes included) never holds up the broker's keep-alive. paho reconnects
with back-off (1 s doubling to 60 s), the first connection included. The broker's address is checked as
every outbound address is (no loopback, private or link-local targets unless the deployment allows them)
and pinned for plain MQTT; the credentials are never logged, and errors name the broker without them."""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from openrtcc.adapters.notify.outbound_guard import (
    UnresolvedOutboundHost,
    UnsafeOutboundUrl,
    parse_outbound_url,
    resolve_checked,
)
from openrtcc.domain.ports import MessageSink

log = logging.getLogger(__name__)

QUEUE_LIMIT = 10_000  # messages waiting for the sink; beyond, new ones are dropped (and said so)
TICK_S = 0.5
RESOLVE_RETRY_S = 30.0
_STATE = object()  # marks a connection-state change in the queue, so the sink hears it in order


class FrigateSubscriber:
    """domain.ports.MessageLink for one broker."""

    def __init__(self, broker_url: str, username: str | None, password: str | None, sink: MessageSink, *,
                 allow_private: bool = False, connect_timeout_s: float = 5.0, client_id: str | None = None,
                 reconnect_max_s: int = 60):
        self.target = parse_outbound_url(broker_url, ("mqtt", "mqtts"))
        self.sink = sink
        self.allow_private = allow_private
        self.reconnect_max_s = reconnect_max_s
        self._queue: queue.Queue = queue.Queue(QUEUE_LIMIT)
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._dropped = 0
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or "",
                                  protocol=mqtt.MQTTv311)
        self.client.connect_timeout = connect_timeout_s
        self.client.reconnect_delay_set(min_delay=1, max_delay=reconnect_max_s)
        if username:
            self.client.username_pw_set(username, password)
        if self.target.scheme == "mqtts":
            self.client.tls_set_context(ssl.create_default_context())
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self._worker = threading.Thread(target=self._work, name="frigate-link", daemon=True)

    def start(self) -> None:
        self._worker.start()

    def close(self) -> None:
        self._stop.set()
        if self._worker.is_alive():
            self._worker.join(timeout=10)  # first, so that it cannot start paho's loop after we stopped it
        self.client.disconnect()
        self.client.loop_stop()
        self._connected.clear()

    def is_connected(self) -> bool:
        return self._connected.is_set()

    # ------------------------------------------------------------ paho's thread

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self._state(False, f"{self.target.redacted} refused the connection: {reason}")
            return
        client.subscribe([(topic, 1) for topic in self.sink.topics])

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:
        # Connected in earnest once the broker has taken the subscriptions: nothing published after this is missed.
        if any(r.is_failure for r in reasons):
            self._state(False, f"{self.target.redacted} refused the subscription to the Frigate topics")
            return
        self._connected.set()
        self._state(True, None)

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was and not self._stop.is_set():
            self._state(False, f"lost the connection to {self.target.redacted}; reconnecting")

    def _on_message(self, client, userdata, message) -> None:
        try:
            self._queue.put_nowait((message.topic, message.payload))
        except queue.Full:
            self._dropped += 1
            if self._dropped in (1, 100, 10_000):
                log.warning("frigate link to %s: %s messages dropped, the hub cannot keep up",
                            self.target.redacted, self._dropped)

    def _state(self, connected: bool, error: str | None) -> None:
        if error:
            log.warning("frigate link: %s", error)
        try:
            self._queue.put_nowait((_STATE, (connected, error)))
        except queue.Full:
            pass

    # ------------------------------------------------------------ the link's worker

    def _work(self) -> None:
        self._connect()
        while not self._stop.is_set():
            try:
                topic, payload = self._queue.get(timeout=TICK_S)
            except queue.Empty:
                self._safely(self.sink.tick)
                continue
            if topic is _STATE:
                self._safely(self.sink.link_state, *payload)
            else:
                self._safely(self.sink.handle, topic, payload)

    def _connect(self) -> None:
        """Resolve and check the broker's address (again after a failure), then let paho keep the link."""
        delay = 1.0
        while not self._stop.is_set():
            try:
                addresses = resolve_checked(self.target.host, self.target.port, allow_private=self.allow_private)
                break
            except UnsafeOutboundUrl as exc:
                self._safely(self.sink.link_state, False, exc.message)
                delay = RESOLVE_RETRY_S
            except UnresolvedOutboundHost as exc:
                self._safely(self.sink.link_state, False, exc.message)
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, RESOLVE_RETRY_S)
        else:
            return
        # mqtts keeps the name for the certificate check; plain MQTT connects to the address just checked.
        host = self.target.host if self.target.scheme == "mqtts" else addresses[0]
        if not self._stop.is_set():
            self.client.connect_async(host, self.target.port, keepalive=30)
            self.client.loop_start()

    def _safely(self, call, *args) -> None:
        try:
            call(*args)
        except Exception:  # one bad message or round must not end the link
            log.exception("frigate link to %s: the sink failed", self.target.redacted)
            time.sleep(0.1)
