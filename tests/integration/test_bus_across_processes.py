"""The event bus across hub processes (city mode): two Hub objects built from the same city settings stand for
two processes sharing PostgreSQL and a real nats-server. Broadcast events reach every process's screens; a bus
group does work once per event, again after a failure; dissemination sends one notice per subscriber however
often its event arrives, to a screen held by another process; a bus that is down loses no alert; a hot-list
import in one process reloads the other's index."""

from __future__ import annotations

from functools import partial

import json
import secrets
import threading
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from websockets.sync.client import connect

from openrtcc.adapters.bus.nats_bus import NatsBus, events_stream
from openrtcc.adapters.bus.nats_link import NatsLink
from openrtcc.adapters.bus.nats_server import NatsServerProcess
from openrtcc.adapters.db.tables import delivery, notice, outbox
from openrtcc.bench.server import LoopbackServer
from openrtcc.bootstrap import build_hub
from openrtcc.domain.alerts import AlertRaised
from openrtcc.domain.command_events import EmergencyChanged
from openrtcc.domain.dissemination import ChannelKind, OutboundMessage
from openrtcc.services.alerts import ALERT_TOPIC, relay_unpublished
from openrtcc.services.hotlists import hotlist_index
from openrtcc.web.app import create_app
from openrtcc.web.routers.notices_socket import token_hash
from tests.conftest import World
from tests.edge_hub import wait_for
from tests.integration.test_notices_socket import next_notice
from tests.plate_reads import NCIC_LIST, earlier, import_list, new_source, post_reads, read_body

NEW_LIST = NCIC_LIST + "XYZ789,CA,2027,PC,HOND,RED,V555555555,CA0010000,24-1234\n"


class Processes:
    """Hubs built from one set of city settings, each with the web app it would serve; closed at the end."""

    def __init__(self, settings, clock):
        self.settings, self.clock = settings, clock
        self.hubs: list = []

    def hub(self, role: str = "serve", settings=None):
        hub = build_hub(settings or self.settings, clock=self.clock, run_migrations=False, fast_hashing=True,
                        role=role)
        # Reads are stored in-process here, as a worker stores them from the read intake (tested on its own):
        # what is under test is what happens to the alerts they raise.
        hub.extras.pop("read_queue", None)
        self.hubs.append(hub)
        return hub, create_app(settings or self.settings, hub)

    def close(self) -> None:
        for hub in self.hubs:
            hub.extras["nats"].close()
            hub.extras["engine"].dispose()


@pytest.fixture
def processes(city_settings, clock):
    built = Processes(city_settings, clock)
    yield built
    built.close()


eventually = partial(wait_for, timeout_s=10.0)  # the bus needs longer than a box link to settle


def background(hub, name: str):
    return next(t for t in hub.extras["background"] if getattr(t, "name", None) == name)


def count(hub, table, *where) -> int:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def add_subscriber(hub, agency_id: str, audience: str) -> tuple[str, str]:
    """A subscriber on the WebSocket channel (as tests/integration/test_notices_socket.py makes one)."""
    token = secrets.token_urlsafe(32)
    sid = hub.ids.new_id()
    with hub.uow() as uow:
        uow.dissemination.add_subscriber({
            "id": sid, "agency_id": agency_id, "audience": audience, "channel": "websocket", "address": "",
            "name": "Unit 12 terminal", "categories": [], "geofence": None, "secret": token_hash(token),
            "status": "active", "created_at": hub.clock.now()})
        uow.commit_bookkeeping()
    return sid, token


def next_alert(ws) -> dict:
    while True:
        message = ws.receive_json()
        if message["type"] == "alert":
            return message["alert"]


def test_an_alert_reaches_screens_on_every_process_and_a_reconnecting_screen_resumes_from_any(processes, clock):
    hub_a, app_a = processes.hub()
    _hub_b, app_b = processes.hub()
    world = World(hub_a, app_a, clock)
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    key, _ = new_source(world)
    officer, anon = world.staff("officer"), TestClient(app_a)
    on_b = TestClient(app_b)  # the same session, answered by the other process (sessions are in the database)
    with officer.client.websocket_connect("/ws/alerts", headers=officer.headers) as ws_a, \
            on_b.websocket_connect("/ws/alerts", headers=officer.headers) as ws_b:
        r = post_reads(anon, key, [read_body("r-1", "ABC123", earlier(clock, seconds=3), state="CA")])
        assert r.status_code == 200, r.text
        first_a, first_b = next_alert(ws_a), next_alert(ws_b)
        assert first_a == first_b and first_a["plate"] == "ABC123"
    # Disconnected, a second alert is raised; the screen reconnects to process B and asks what it missed.
    clock.advance(seconds=5)
    r = post_reads(anon, key, [read_body("r-2", "8OS5521", earlier(clock, seconds=2), state="WI")])
    assert r.status_code == 200, r.text
    missed = on_b.get(f"/api/agency/alerts?after={first_a['id']}", headers=officer.headers)
    assert missed.status_code == 200, missed.text
    assert [a["plate"] for a in missed.json()] == ["8OS5521"]
    assert on_b.get("/api/agency/alerts?after=no-such-alert", headers=officer.headers).status_code == 404
    # Published once, announced once: the outbox rows are marked by the process that published them.
    assert count(hub_a, outbox, outbox.c.topic == ALERT_TOPIC, outbox.c.dispatched_at.is_(None)) == 0


def test_a_group_handles_each_event_once_across_processes_and_again_after_a_failure(processes):
    hub_a, _ = processes.hub("worker")
    hub_b, _ = processes.hub("worker")
    handled: list[tuple[str, str]] = []
    heard: list[str] = []
    failed = threading.Event()
    lock = threading.Lock()

    def handler(name):
        def handle(event: EmergencyChanged) -> None:
            if event.emergency_id == "e-fails" and not failed.is_set():
                failed.set()
                raise RuntimeError("the database went away")  # not acknowledged: the event comes back
            with lock:
                handled.append((name, event.emergency_id))
        return handle

    leave = [hub_a.bus.subscribe(EmergencyChanged, handler("a"), group="test"),
             hub_b.bus.subscribe(EmergencyChanged, handler("b"), group="test"),
             hub_b.bus.subscribe(EmergencyChanged, lambda e: heard.append(e.emergency_id))]  # a broadcast beside it
    with pytest.raises(ValueError):
        hub_a.bus.subscribe(EmergencyChanged, handler("c"), group="no.dots>")
    ids = [f"e-{i}" for i in range(40)] + ["e-fails"]
    for eid in ids:
        hub_a.bus.publish(EmergencyChanged(eid, "agency-1", "declared", datetime.now(UTC)))
    eventually(lambda: len(handled) >= len(ids) and len(heard) >= len(ids), what="every event handled")
    time.sleep(0.5)  # nothing more arrives
    assert sorted(eid for _, eid in handled) == sorted(ids)  # each once, the failed one included
    assert {name for name, _ in handled} == {"a", "b"}  # shared between the processes
    assert sorted(heard) == sorted(ids) and failed.is_set()
    for stop in leave:
        stop()


def test_an_event_held_by_a_process_that_dies_goes_to_another_of_its_group(processes, city_settings):
    hub_b, _ = processes.hub("worker")
    dying = NatsLink(city_settings.nats_url, name="dying-worker").start()
    stuck = threading.Event()
    # The first member makes the durable consumer: here with a one-second acknowledgement wait, to be quick.
    bus = NatsBus(dying, namespace=city_settings.nats_namespace, group_ack_wait_s=1.0)
    bus.subscribe(EmergencyChanged, lambda event: stuck.set() or time.sleep(30), group="die")
    hub_b.bus.publish(EmergencyChanged("e-held", "agency-1", "declared", datetime.now(UTC)))
    eventually(stuck.is_set, what="the first member takes the event")
    dying.close()  # gone without acknowledging it
    handled: list[str] = []
    leave = hub_b.bus.subscribe(EmergencyChanged, lambda event: handled.append(event.emergency_id), group="die")
    eventually(lambda: handled, timeout_s=10, what="the event redelivered to the member left")
    time.sleep(1.5)
    leave()
    assert handled == ["e-held"]


def test_dissemination_sends_once_per_subscriber_to_a_screen_on_another_process_and_bulletins_too(processes,
                                                                                                 clock):
    hub_a, app_a = processes.hub("serve")
    hub_b, _ = processes.hub("worker")
    world, anon = World(hub_a, app_a, clock), TestClient(app_a)
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    key, _ = new_source(world)
    sid, token = add_subscriber(hub_a, world.agency().id, audience="police_unit")  # plate hits: police alone
    worker, intake = hub_b.extras["dissemination"], background(hub_b, "dissemination-intake")
    counters = [background(hub_a, "bus-metrics"), background(hub_b, "bus-metrics")]  # two workers count
    for task in (worker, intake, *counters):
        task.start()
    relay = hub_b.extras["notice_relay"]
    nobody = relay.send([OutboundMessage(1, ChannelKind.WEBSOCKET, sid, "s", "t", {})])[0]
    assert not nobody.ok and nobody.retryable  # no screen anywhere: failed, to be tried again
    assert not relay.send([OutboundMessage(2, ChannelKind.WEBSOCKET, "a.*", "s", "t", {})])[0].ok  # no wildcards
    try:
        with LoopbackServer(app_a) as base_url:
            url = base_url.replace("http://", "ws://") + f"/ws/notices?subscriber={sid}&token={token}"
            with connect(url) as screen:
                eventually(lambda: hub_a.extras["notice_relay"].watching() == 1, what="the serve process listens")
                r = post_reads(anon, key, [read_body("r-1", "ABC123", earlier(clock, seconds=3), state="CA")])
                assert r.status_code == 200, r.text
                got = next_notice(screen)
                assert eventually(lambda: alerts_counted(hub_a) + alerts_counted(hub_b) == 1, what="counted")
                assert got["notice"]["after"]["plate"] == "ABC123" and got["notice"]["after"]["kind"] == "alert"
                # The same alert announced again (a relay after a crash, past the duplicate window): no second.
                with hub_a.uow() as uow:
                    view = uow.alerts.newest(world.agency().id, after=None, status=None, limit=1)[0]
                    uow.rollback()
                hub_a.bus.publish(AlertRaised(view, 10_000_001))
                eventually(lambda: unfinished(hub_b, "dissemination-AlertRaised") == 0, timeout_s=8,
                           what="the re-announced alert is handled (acknowledged), adding nothing")
                time.sleep(0.5)
                with pytest.raises(TimeoutError):
                    _no_notice(screen)
                # A bulletin posted on the serve process is stored due at once; a worker's retry round sends it.
                bulletin = {"title": "Parade", "text": "Main St closed 9-12", "audiences": ["police_unit"]}
                assert world.admin().post("/api/dissemination/bulletins", json=bulletin).status_code == 201
                eventually(lambda: worker.retry_round(), what="a worker claims the bulletin's delivery")
                assert "Parade" in next_notice(screen)["subject"]
    finally:
        for task in (*counters, intake, worker):
            task.stop()
    assert count(hub_a, notice, notice.c.source_key == f"alert:{view.id}:new") == 1
    assert count(hub_a, delivery, delivery.c.subscriber_id == sid) == 2  # the alert's and the bulletin's


def unfinished(hub, durable: str) -> int:
    """Events of a bus group not yet handled: waiting, or taken and not acknowledged."""
    link, stream = hub.extras["nats"], events_stream(hub.bus.namespace)
    info = link.call(lambda: link.js.consumer_info(stream, durable))
    return info.num_pending + info.num_ack_pending


def alerts_counted(hub) -> float:
    families = text_string_to_metric_families(hub.metrics.exposition().decode())
    return sum(s.value for f in families for s in f.samples if s.name == "rtcc_alerts_raised_total")


def _no_notice(screen) -> None:
    """Raises TimeoutError when no notice arrives within a second (heartbeats are skipped)."""
    deadline = time.monotonic() + 1.0
    while True:
        message = json.loads(screen.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] != "heartbeat":
            raise AssertionError(f"a second notice arrived: {message}")


def test_alerts_raised_while_the_bus_is_down_are_announced_once_it_is_back(processes, city_settings, clock,
                                                                             tmp_path):
    nats = NatsServerProcess(tmp_path / "own-nats").start()
    try:
        settings = city_settings.model_copy(update={"nats_url": nats.url})
        hub, app = processes.hub("serve", settings)
        world, anon = World(hub, app, clock), TestClient(app)
        import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
        key, _ = new_source(world)
        heard: list[AlertRaised] = []
        hub.bus.subscribe(AlertRaised, heard.append)
        nats.kill()
        eventually(lambda: not hub.extras["nats"].connected, what="the link notices")
        r = post_reads(anon, key, [read_body("r-1", "ABC123", earlier(clock, seconds=3), state="CA")])
        assert r.status_code == 200, r.text  # stored and acknowledged: the bus being away costs the read nothing
        assert count(hub, outbox, outbox.c.topic == ALERT_TOPIC, outbox.c.dispatched_at.is_(None)) == 1
        clock.advance(seconds=60)
        assert relay_unpublished(hub) == 0  # still down: the row stays for the next round
        assert count(hub, outbox, outbox.c.topic == ALERT_TOPIC, outbox.c.dispatched_at.is_(None)) == 1
        nats.start()
        eventually(lambda: hub.extras["nats"].connected, what="the link reconnects")
        clock.advance(seconds=60)
        assert relay_unpublished(hub) == 1
        eventually(lambda: heard, what="the relayed alert is heard")
        assert count(hub, outbox, outbox.c.topic == ALERT_TOPIC, outbox.c.dispatched_at.is_(None)) == 0
        clock.advance(seconds=60)
        assert relay_unpublished(hub) == 0
        time.sleep(0.3)
        assert [e.alert.plate for e in heard] == ["ABC123"]
    finally:
        nats.stop()


def test_a_hot_list_import_in_one_process_reloads_the_others_index(processes, clock):
    hub_a, app_a = processes.hub()
    hub_b, _ = processes.hub("worker")
    world = World(hub_a, app_a, clock)
    listed = import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    agency = world.agency().id
    assert hotlist_index(hub_b).match(agency, "XYZ789", "CA") == []  # B loads version 1
    r = world.admin().post("/api/agency/hotlists/import", data={"name": "NCIC stolen", "format": "ncic"},
                           files={"file": ("list.csv", NEW_LIST.encode(), "text/csv")})
    assert r.status_code in (200, 201), r.text
    assert r.json()["list"]["id"] == listed["id"]
    hits = eventually(lambda: hotlist_index(hub_b).match(agency, "XYZ789", "CA"), timeout_s=5,
                      what="the other process's index reloaded")
    assert hits[0].list_id == listed["id"]
