"""The pipeline with the real channel senders against real local servers: a plate hit reaches a police unit's
webhook receiver (which verifies the HMAC signature) and a Mosquitto broker as a Frigate-style envelope; a
receiver that answers 410 is dead-lettered at once, one that answers 503 is retried."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest

from openrtcc.config import Settings
from tests.conftest import MutableClock
from tests.integration import db_probe as db
from tests.mqtt_broker import mosquitto
from tests.plate_reads import NCIC_LIST, import_list, new_source, post_reads, read_body
from tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # storage is covered on both elsewhere


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, smtp_host=None, tile_url="",
                    max_upload_bytes=2 * 1024 * 1024, outbound_allow_private=True)  # the servers are on loopback


@pytest.fixture
def clock() -> MutableClock:
    """Today's time: the receivers check signatures' timestamps against their own clocks."""
    return MutableClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def worker(hub):
    w = hub.extras["dissemination"]
    w.start()  # builds the real senders (build_channel_senders), as a serving hub does
    yield w
    w.stop()


class Listener:
    """A Home Assistant-like MQTT client subscribed to the unit's topic."""

    def __init__(self, port: int, topic: str):
        self.messages: list[dict] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda c, u, m: self.messages.append(json.loads(m.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def add(world, channel: str, address: str, name: str) -> dict:
    r = world.admin().post("/api/dissemination/subscribers", json={
        "audience": "police_unit", "channel": channel, "name": name, "address": address})
    assert r.status_code == 201, r.text
    world.hub.extras["dissemination"].index(fresh=True)  # rebuilt in the background: wait for it here
    return r.json()


def test_a_plate_hit_reaches_a_real_webhook_receiver_and_broker(world, anon, hub, clock, worker, tmp_path):
    with webhook_receiver("") as rx, webhook_receiver("") as rx_gone, webhook_receiver("") as rx_busy, \
            mosquitto(tmp_path) as port:
        # Each receiver verifies with the secret its subscription was given (shown once, at creation).
        rx.secret = add(world, "webhook", f"{rx.url}/ok", "Unit 12 laptop")["secret"]
        gone = add(world, "webhook", f"{rx_gone.url}/status/410", "Old laptop")
        rx_gone.secret = gone["secret"]
        busy = add(world, "webhook", f"{rx_busy.url}/status/503", "Busy laptop")
        rx_busy.secret = busy["secret"]
        add(world, "mqtt", f"mqtt://127.0.0.1:{port}/units", "Precinct board")
        listener = Listener(port, "units/events")
        try:
            import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
            key, _ = new_source(world)
            r = post_reads(anon, key, [read_body("r-1", "ABC123", clock.now() - timedelta(seconds=5), state="CA")])
            assert r.status_code == 200, r.text
            assert worker.drain(15)
            wait_for(lambda: rx.received and listener.messages)
        finally:
            listener.close()
    [doc] = rx.received  # its signature verified against the secret shown at creation
    assert doc["type"] == "new" and doc["after"]["plate"] == "ABC123" and doc["after"]["state"] == "CA"
    assert rx.delivery_ids[0].startswith("rtcc-")
    [envelope] = listener.messages
    assert envelope == doc
    status = {r.subscriber_id: (r.status, r.attempts) for r in db.rows(
        hub, "SELECT subscriber_id, status, attempts FROM delivery")}
    assert status[gone["id"]] == ("dead", 1) and status[busy["id"]] == ("failed", 1)
    assert sorted(s for s, _ in status.values()) == ["dead", "failed", "sent", "sent"]
    assert rx.refusals == rx_gone.refusals == rx_busy.refusals == []
