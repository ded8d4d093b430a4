"""MQTT to a real Mosquitto with credentials: QoS 1 envelopes acknowledged per message, refused credentials,
the SSRF guard, and a broker that stops and comes back on its port."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from openrtcc.adapters.notify.mqtt_sender import MqttSender
from openrtcc.domain.dissemination import ChannelKind, OutboundMessage
from tests.mqtt_broker import mosquitto

USER, PASSWORD = "ha-bridge", "Broker-Pass-77"


class Listener:
    """A Home Assistant stand-in: subscribed to everything, keeps (topic, payload, qos, retain)."""

    def __init__(self, port: int):
        self.got: list[tuple] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"listener-{port}-{time.monotonic_ns()}")
        self.client.username_pw_set(USER, PASSWORD)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("#", qos=1)
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.ready.set()  # the broker's SUBACK
        self.client.on_message = lambda c, u, m: self.got.append((m.topic, json.loads(m.payload), m.qos, m.retain))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.ready.wait(10)

    def wait_for(self, n: int, timeout: float = 15) -> list[tuple]:
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.got

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def envelope(delivery_id: int, url: str, topic: str | None = None) -> OutboundMessage:
    doc = {"type": "new", "before": None, "after": {"id": f"n{delivery_id}", "category": "burglary"}}
    return OutboundMessage(delivery_id, ChannelKind.MQTT, url, "s", "t", doc, topic=topic)


def test_envelopes_are_acknowledged_per_message_and_bad_credentials_fail_for_good(tmp_path):
    sender = MqttSender(connect_timeout_s=2, ack_timeout_s=3, allow_private=True)
    with mosquitto(tmp_path, username=USER, password=PASSWORD) as port:
        listener = Listener(port)
        url = f"mqtt://{USER}:{PASSWORD}@127.0.0.1:{port}/lakeport"
        batch = [envelope(i, url) for i in range(1, 301)] + [envelope(301, url, topic="custom/feed/events")]
        outcomes = sender.send(batch)
        wrong = sender.send([envelope(400, f"mqtt://{USER}:nope@127.0.0.1:{port}/lakeport")])[0]
        got = listener.wait_for(301)
        listener.stop()
    sender.close()
    assert len(outcomes) == 301 and all(o.ok for o in outcomes)
    assert len(got) == 301 and {(t, q, r) for t, _, q, r in got} == {("lakeport/events", 1, False),
                                                                     ("custom/feed/events", 1, False)}
    assert got[0][1] == {"type": "new", "before": None, "after": {"id": "n1", "category": "burglary"}}
    assert not wrong.ok and not wrong.retryable and "nope" not in wrong.error and PASSWORD not in wrong.error


def test_private_brokers_are_refused_unless_allowed_and_bad_urls_fail_for_good(tmp_path):
    sender = MqttSender(connect_timeout_s=1, ack_timeout_s=1)  # outbound_allow_private off
    outcomes = {o.delivery_id: o for o in sender.send([envelope(1, "mqtt://127.0.0.1:1883/x"),
                                                       envelope(2, "http://example.org/"),
                                                       envelope(3, "mqtt://example.org/city+x")])}
    local, http, wild = outcomes[1], outcomes[2], outcomes[3]
    sender.close()
    assert not local.ok and not local.retryable and "loopback" in local.error
    assert not http.ok and not http.retryable
    assert not wild.ok and not wild.retryable


def test_a_broker_restart_mid_batch_fails_the_unacknowledged_for_a_retry_that_reconnects(tmp_path):
    sender = MqttSender(connect_timeout_s=1, ack_timeout_s=1.5, allow_private=True)
    with contextlib.ExitStack() as first:
        port = first.enter_context(mosquitto(tmp_path, username=USER, password=PASSWORD))
        url = f"mqtt://{USER}:{PASSWORD}@127.0.0.1:{port}/lakeport"
        assert all(o.ok for o in sender.send([envelope(i, url) for i in range(1, 11)]))  # connected
        listener = Listener(port)
        # The broker is stopped once the batch is well under way (the listener has seen 100 of it).
        stopper = threading.Thread(target=lambda: (listener.wait_for(100, timeout=20), first.close()))
        stopper.start()
        batch = [envelope(i, url) for i in range(11, 2011)]
        outcomes = sender.send(batch)
        stopper.join()
    failed = [o.delivery_id for o in outcomes if not o.ok]
    assert len(outcomes) == 2000 and failed and all(o.retryable for o in outcomes if not o.ok)
    with mosquitto(tmp_path, username=USER, password=PASSWORD, port=port):
        listener = Listener(port)
        retry = sender.send([m for m in batch if m.delivery_id in set(failed)])
        got = listener.wait_for(len(failed))
        listener.stop()
    sender.close()
    assert all(o.ok for o in retry), {o.error for o in retry}  # the next batch reconnected to the restarted broker
    assert sorted(int(doc["after"]["id"][1:]) for _, doc, _, _ in got) == sorted(failed)
