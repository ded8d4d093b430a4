"""Frigate over a real Mosquitto: a vehicle event's lpr updates and events become exactly one read with the best
plate, a hot-list hit alerts, the link survives a broker restart, malformed messages and unknown cameras are
refused and counted, and the Prometheus exposition says how many without a plate, an address or an id in it."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from openrtcc.adapters.db.tables import plate_read
from tests.mqtt_broker import mosquitto
from tests.plate_reads import NCIC_LIST, import_list, new_source

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # storage is ingest's, tested on both elsewhere


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"outbound_allow_private": True})  # the broker is on loopback


def publish(port: int, messages: list[tuple[str, object]]) -> None:
    """A real paho publisher, as Frigate is: QoS 1, each message acknowledged by the broker."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for topic, doc in messages:
            payload = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
            client.publish(topic, payload, qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def reads_of(hub, source_id: str) -> list:
    with hub.extras["engine"].connect() as conn:
        return list(conn.execute(select(plate_read.c.read_key, plate_read.c.plate, plate_read.c.camera_id,
                                        plate_read.c.confidence, plate_read.c.lat)
                                 .where(plate_read.c.source_id == source_id).order_by(plate_read.c.read_key)))


def event(kind: str, event_id: str, ts: float, plate=None, camera: str = "driveway") -> tuple[str, dict]:
    after = {"id": event_id, "camera": camera, "label": "car", "start_time": ts, "end_time": None,
             "score": 0.8, "top_score": 0.85, "zones": ["street"], "sub_label": None}
    if plate is not None:
        after["recognized_license_plate"] = plate
    return "frigate/events", {"type": kind, "before": dict(after), "after": after}


def lpr(event_id: str, plate: str, score: float, ts: float, camera: str = "driveway") -> tuple[str, dict]:
    return "frigate/tracked_object_update", {"type": "lpr", "id": event_id, "name": None, "plate": plate,
                                             "score": score, "camera": camera, "timestamp": ts}


@pytest.fixture
def frigate(world, hub, tmp_path):
    """A hot list, a camera, a read source and a Frigate integration linked to a real broker (restartable)."""
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    camera = world.camera(world.owner())
    _, source = new_source(world, kind="integration", name="Frigate at the corner shop", default_state="CA")
    broker = ExitStack()
    port = broker.enter_context(mosquitto(tmp_path))

    def restart_broker() -> None:
        nonlocal broker
        broker.close()
        broker = ExitStack()
        broker.enter_context(mosquitto(tmp_path, port=port))

    r = world.admin().post("/api/agency/plate-integrations", json={
        "read_source_id": source["id"], "kind": "frigate",
        "config": {"broker_url": f"mqtt://127.0.0.1:{port}", "cameras": {"driveway": camera["id"]}, "settle_s": 2}})
    assert r.status_code == 201, r.text
    assert r.json()["token"] is None and r.json()["webhook_url"] is None
    links = hub.extras["frigate_links"]
    try:
        links.reconcile()
        wait_for(lambda: links.connected_count() == 1)
        yield {"port": port, "camera": camera, "source": source, "links": links, "id": r.json()["id"],
               "restart_broker": restart_broker}
    finally:
        links.stop()
        broker.close()


def test_one_read_per_vehicle_event_with_its_best_plate_and_an_alert(world, hub, app, clock, frigate, caplog):
    port, ts = frigate["port"], (clock.now() - timedelta(seconds=8)).timestamp()
    publish(port, [
        event("new", "1700000000.1-abc", ts),
        lpr("1700000000.1-abc", "A8C123", 0.71, ts + 0.4),
        lpr("1700000000.1-abc", "ABC123", 0.93, ts + 0.9),  # better: this one is the read
        event("update", "1700000000.1-abc", ts, plate=["A8C123", 0.6]),  # an older build's pair, worse
        # Malformed: refused, counted, and the link goes on.
        ("frigate/events", b"not json at all"), ("frigate/events", b"[1, 2, 3]"),
        lpr("1700000000.1-abc", "ZZZ999", 5.0, ts + 1),  # a score out of range: malformed
        lpr("1700000001.2-def", "QQQ777", 0.9, ts + 1, camera="backyard"),  # not in the camera map
        event("end", "1700000000.1-abc", ts, plate="ABC123"),
        lpr("1700000000.1-abc", "ABC128", 0.99, ts + 3),  # after the end: no second read
    ])
    reads = wait_for(lambda: reads_of(hub, frigate["source"]["id"]))
    time.sleep(0.6)  # a tick or so: anything wrongly emitted late would show now
    reads = reads_of(hub, frigate["source"]["id"])
    assert [(r.read_key, r.plate, r.camera_id, r.confidence) for r in reads] == [
        ("frigate:1700000000.1-abc", "ABC123", frigate["camera"]["id"], 0.93)]
    assert reads[0].lat == pytest.approx(43.0)  # the camera's place, so the read shows on the map
    officer = world.staff("officer")
    alerts = officer.get("/api/agency/alerts").json()
    assert [(a["plate"], a["state"], a["match_kind"], a["camera_id"]) for a in alerts] == [
        ("ABC123", "CA", "exact", frigate["camera"]["id"])]

    # An lpr-only setup never sends an end: the event is read once it has been quiet for settle_s.
    publish(port, [lpr("1700000002.3-ghi", "XYZ789", 0.88, ts + 4)])
    wait_for(lambda: frigate["links"].pending_events() == 1)  # taken, waiting to settle
    time.sleep(0.6)
    assert len(reads_of(hub, frigate["source"]["id"])) == 1
    clock.advance(seconds=3)
    wait_for(lambda: len(reads_of(hub, frigate["source"]["id"])) == 2)

    status = wait_for(lambda: _status(world, frigate["id"]).get("counts", {}).get("malformed"))
    assert status == 3

    r = officer.post("/api/incidents", json={"category": "burglary", "priority": 2, "title": "Break-in at 12 Elm Rd",
                                             "lat": 43.01, "lon": -87.91, "address": "12 Elm Rd, Lakeport"})
    assert r.status_code == 201, r.text

    # The exposition counts it all, and carries no plate, camera, place, person or id.
    with officer.client.websocket_connect("/ws/alerts", headers=officer.headers):  # a command-center screen
        scrape = TestClient(app, client=("127.0.0.1", 40000)).get("/metrics")
    assert scrape.status_code == 200, scrape.text
    text = scrape.text
    assert 'rtcc_alerts_raised_total{match_kind="exact"} 1.0' in text
    assert 'rtcc_reads_ingested_total{source_kind="integration"} 2.0' in text
    assert 'rtcc_plate_integration_messages_total{kind="frigate",outcome="read"} 2.0' in text
    assert 'rtcc_plate_integration_messages_total{kind="frigate",outcome="malformed"} 3.0' in text
    assert 'rtcc_plate_integration_messages_total{kind="frigate",outcome="unknown_camera"} 1.0' in text
    assert 'route="/api/agency/plate-integrations",status="201"' in text
    assert 'rtcc_plate_integrations_connected{kind="frigate"} 1.0' in text
    assert 'rtcc_websocket_clients{route="/ws/alerts"} 1.0' in text
    assert 'rtcc_queue_depth{queue="frigate"} 0.0' in text  # every event has settled
    assert 'rtcc_incidents_opened_total{source="operator"} 1.0' in text
    forbidden = ["ABC123", "A8C123", "XYZ789", "QQQ777", "driveway", "backyard", "1700000000", "Main St", "Elm Rd",
                 r.json()["id"], officer.email,
                 "lakeport.test", "owners.test", frigate["camera"]["id"], frigate["source"]["id"], frigate["id"],
                 world.agency().id]
    assert [f for f in forbidden if f.lower() in text.lower()] == []
    assert [r.getMessage() for r in caplog.records if r.name.endswith("prometheus")] == []  # nothing dropped


def _status(world, integration_id: str) -> dict:
    listed = world.admin().get("/api/agency/plate-integrations").json()
    return next(i["status"] for i in listed if i["id"] == integration_id)


def test_the_link_survives_a_broker_restart(world, hub, clock, frigate):
    port, ts, links = frigate["port"], (clock.now() - timedelta(seconds=8)).timestamp(), frigate["links"]
    publish(port, [lpr("1700000010.1-aaa", "JKL456", 0.9, ts), event("end", "1700000010.1-aaa", ts)])
    wait_for(lambda: len(reads_of(hub, frigate["source"]["id"])) == 1)
    frigate["restart_broker"]()  # Mosquitto goes away and comes back on the same port
    wait_for(lambda: links.connected_count() == 0, timeout=5)
    wait_for(lambda: links.connected_count() == 1, timeout=20)  # paho's back-off: 1 s, then doubling
    publish(port, [lpr("1700000011.2-bbb", "MNO321", 0.9, ts + 5), event("end", "1700000011.2-bbb", ts + 5)])
    wait_for(lambda: len(reads_of(hub, frigate["source"]["id"])) == 2)
    assert [r.plate for r in reads_of(hub, frigate["source"]["id"])] == ["JKL456", "MNO321"]
    clock.advance(seconds=11)  # the status row is rewritten at most every 10 s while messages flow
    status = wait_for(lambda: (s := _status(world, frigate["id"]))["counts"] == {"read": 2} and s)
    assert status["connected"] is True and status["last_error"] is None


def test_a_disabled_integration_is_unlinked_and_bad_configs_are_refused(world, hub, frigate, tmp_path, caplog):
    admin = world.admin()
    assert admin.post(f"/api/agency/plate-integrations/{frigate['id']}/disable").json()["enabled"] is False
    frigate["links"].reconcile()
    assert frigate["links"].links == {} and frigate["links"].connected_count() == 0
    status = _status(world, frigate["id"])
    assert (status["connected"], status["last_error"]) == (False, "integration disabled")
    base = {"read_source_id": frigate["source"]["id"], "kind": "frigate"}
    cases = [({"broker_url": "http://example.org", "cameras": {"a": frigate["camera"]["id"]}}, "bad_config"),
             ({"broker_url": "mqtt://user:pw@example.org", "cameras": {"a": "x"}}, "bad_config"),
             ({"broker_url": "mqtt://example.org", "cameras": {}}, "bad_config"),
             ({"broker_url": "mqtt://example.org", "cameras": {"a": "no-such-camera"}}, "unknown_camera"),
             ({"broker_url": "mqtt://example.org", "cameras": {"a b": frigate["camera"]["id"]}}, "bad_config"),
             ({"broker_url": "mqtt://example.org", "cameras": {"a": frigate["camera"]["id"]}, "extra": 1},
              "bad_config")]
    for config, code in cases:
        r = admin.post("/api/agency/plate-integrations", json={**base, "config": config})
        assert (r.status_code, r.json()["error"]) == (422, code), (config, r.text)
    other = world.admin("harbor")
    r = other.post("/api/agency/plate-integrations", json={**base, "config": {
        "broker_url": "mqtt://example.org", "cameras": {"a": frigate["camera"]["id"]}}})
    assert r.status_code == 404  # another agency's read source does not exist for it
    assert world.staff("officer").get("/api/agency/plate-integrations").status_code == 403

    # A broker that wants a password: the wrong one is refused (said in the status, never logged), the right
    # one links.
    with mosquitto(tmp_path, username="rtcc", password="Right-Horse-9") as port:
        made = {}
        for name, password in (("wrong", "Wrong-Battery-7"), ("right", "Right-Horse-9")):
            r = admin.post("/api/agency/plate-integrations", json={**base, "password": password, "config": {
                "broker_url": f"mqtt://127.0.0.1:{port}", "username": "rtcc",
                "cameras": {"driveway": frigate["camera"]["id"]}}})
            assert r.status_code == 201 and password not in r.text, r.text
            made[name] = r.json()["id"]
        frigate["links"].reconcile()
        wait_for(lambda: frigate["links"].connected_count() == 1)
        wrong = wait_for(lambda: _status(world, made["wrong"]).get("last_error"))
        assert "refused the connection" in wrong and f"127.0.0.1:{port}" in wrong
        assert _status(world, made["right"])["connected"] is True
        frigate["links"].stop()
    assert "Wrong-Battery-7" not in caplog.text and "Right-Horse-9" not in caplog.text
    listed = admin.get("/api/agency/plate-integrations").text
    assert "Wrong-Battery-7" not in listed and "Right-Horse-9" not in listed
