"""`rtcc bench dissemination`: alerts and incidents to 10,000 subscribers over every channel, against real
local servers, from each source's commit to each receiving server.

A hub (SQLite) served by uvicorn on loopback; a Mosquitto broker; a receivers process (aiosmtpd, signed-webhook
and ntfy HTTP receiver, a Twilio-speaking HTTPS server behind a CONNECT proxy, an MQTT subscriber, WebSocket
screens); a load process posting plate hits to the ingest API and opening incidents through the incidents
API. Afterwards the hub's delivery log and the receivers' records are paired (dissemination_figures.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import string
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from openrtcc.bench.delivery_receivers import ReceiverPorts, StartOrder, serve_receivers
from openrtcc.bench.dissemination_figures import DeliveryRow, DisseminationFigures, tally
from openrtcc.bench.dissemination_load import LoadPlan, LoadResult, drive
from openrtcc.bench.dissemination_report import SECTION_TITLE, print_table, section
from openrtcc.bench.dissemination_world import INCIDENT_CATEGORIES, Endpoints, Population, build_population
from openrtcc.bench.edge_recording import cpu_seconds
from openrtcc.bench.mosquitto import MosquittoUnavailable, mosquitto_broker
from openrtcc.bench.report import replace_section
from openrtcc.bench.server import LoopbackServer
from openrtcc.bench.world import BenchWorld, add_staff, build_world, staff_session
from openrtcc.domain.accounts import Role
from openrtcc.domain.audit import AuditEntry

log = logging.getLogger(__name__)

INCIDENT_SHARE = 0.1  # of the alerts per second, this share are incidents opened through the API
MISSES_PER_HIT = 1.0  # reads that match nothing, per hit, in the same batches
DRAIN_TIMEOUT_S = 20.0
# A Twilio account as apprise checks it (AC + hex, a token); the requests never leave the machine.
TWILIO_SID, TWILIO_TOKEN = "AC" + "0123456789abcdef" * 2, "0123456789abcdef" * 2


def run_dissemination_bench(args) -> int:
    figures = run_bench(args.rate, args.seconds, args.subscribers, args.incident_share)
    print_table(figures)
    replace_section(Path(args.output), SECTION_TITLE, section(figures))
    print(f"\nresults written to {args.output}")
    return 0 if figures.skipped is None else 1


def run_bench(rate: float, seconds: float, subscribers: int, incident_share: float = INCIDENT_SHARE
              ) -> DisseminationFigures:
    figures = DisseminationFigures(rate=rate * (1 - incident_share), incident_rate=rate * incident_share,
                                   seconds=seconds, subscribers=subscribers)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-dissemination-") as tmp:
        try:
            with (mosquitto_broker(Path(tmp)) as (mqtt_port, broker), _receivers(mqtt_port) as (ports, conn, child),
                  _load_process() as load_pool):
                _run(figures, Path(tmp), mqtt_port, broker.pid, ports, conn, child.pid, load_pool)
        except MosquittoUnavailable as exc:
            figures.skipped = str(exc)
    figures.wall_s = time.monotonic() - began
    return figures


@contextmanager
def _load_process():
    """The load's process, spawned now (its interpreter starts while the hub is built) and used once."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        warm = pool.submit(os.getpid)
        yield pool
        warm.cancel()


@contextmanager
def _receivers(mqtt_port: int):
    """The receivers' process, started at once; the caller waits for its "ready" when it needs the servers."""
    ctx = multiprocessing.get_context("spawn")
    parent, child_end = ctx.Pipe()
    ports = ReceiverPorts.free()
    child = ctx.Process(target=serve_receivers, args=(child_end, mqtt_port, ports), name="bench-receivers",
                        daemon=True)
    child.start()
    try:
        yield ports, parent, child
    finally:
        child.join(timeout=20)
        if child.is_alive():
            child.kill()


def _hub_settings(tmp: Path, ports: ReceiverPorts) -> dict:
    return dict(smtp_host="127.0.0.1", smtp_port=ports.smtp, smtp_from="alerts@city.bench.example",
                sms_apprise_url=f"twilio://{TWILIO_SID}:{TWILIO_TOKEN}@+15550000000/{{to}}?verify=no",
                push_apprise_url=f"ntfy://127.0.0.1:{ports.http}/{{to}}", outbound_allow_private=True,
                dissemination_interval_s=0.5)


def _run(f: DisseminationFigures, tmp: Path, mqtt_port: int, broker_pid: int, ports: ReceiverPorts, conn,
         receivers_pid: int, load_pool: ProcessPoolExecutor) -> None:
    from urllib3.exceptions import InsecureRequestWarning

    from openrtcc.web.app import create_app

    # The Twilio stand-in's certificate is its own (apprise's verify=no): urllib3 would warn on every SMS.
    warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    world = build_world(tmp / "hub", **_hub_settings(tmp, ports))
    hub = world.hub
    population = build_population(world, f.subscribers, Endpoints(ports.http, mqtt_port), hub.clock.now())
    _store_subscribers(world, population)
    f.subscriber_mix = {f"{a.value}/{c.value}": n for (a, c), n in sorted(population.counts.items())}
    hits = _hot_list(world, round(f.rate * f.seconds) + 10)
    read_key = _read_key(world)
    operator = add_staff(world, Role.SUPERVISOR, "bench-dispatcher")
    # apprise's Twilio plugin reaches api.twilio.com through this proxy (requests reads the environment).
    proxy_env = {"HTTPS_PROXY": f"http://127.0.0.1:{ports.connect_proxy}", "NO_PROXY": "127.0.0.1,localhost"}
    saved = {k: os.environ.get(k) for k in proxy_env}
    if not conn.poll(60) or conn.recv() != "ready":
        raise RuntimeError("the receivers did not start")
    try:
        with LoopbackServer(create_app(world.settings, hub)) as base_url:
            hub.base_url = base_url
            token = staff_session(base_url, operator, world.password).headers["Authorization"].split()[1]
            conn.send(StartOrder(base_url, population.webhook_secrets, population.sockets))
            f.sockets = (conn.recv(), len(population.sockets))
            os.environ.update(proxy_env)
            plan = LoadPlan(base_url, read_key, token, f.rate, f.incident_rate, f.seconds, hits, MISSES_PER_HIT,
                            (world.city_box.min_lat, world.city_box.min_lon, world.city_box.max_lat,
                             world.city_box.max_lon), INCIDENT_CATEGORIES)
            cpu0 = _cpu(broker_pid, receivers_pid)
            load: LoadResult = load_pool.submit(drive, plan).result()
            _drain(world)
            cpu1 = _cpu(broker_pid, receivers_pid)
            conn.send("stop")
            result = conn.recv()
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    f.cpu_s = {name: cpu1[name] - cpu0[name] for name in cpu0} | {"load (clients)": load.cpu_s}
    f.bad_signatures = result.bad_signatures
    f.reads_sent, f.alerts, f.incidents = load.reads_sent, load.hits_sent, load.incidents_sent
    f.sent_seconds, f.load_errors = load.send_seconds, load.errors[:20]
    f.ingest_ms, f.incident_ms = sorted(load.ingest_ms), sorted(load.incident_ms)
    tally(f, delivery_rows(world), result.receipts, population.by_key)
    hub.extras["engine"].dispose()


def _cpu(broker_pid: int, receivers_pid: int) -> dict[str, float]:
    return {"hub": time.process_time(), "mosquitto": cpu_seconds(broker_pid), "receivers": cpu_seconds(receivers_pid)}


def _store_subscribers(world: BenchWorld, population: Population) -> None:
    from openrtcc.services.dissemination import subscribers_changed

    with world.hub.uow() as uow:
        for row in population.rows:
            uow.dissemination.add_subscriber(row)
        uow.record(AuditEntry("bench.subscribers", "success", None, None, None, "bench",
                              {"subscribers": len(population.rows)}))
        uow.commit()
    subscribers_changed(world.hub)


def _hot_list(world: BenchWorld, hits: int) -> list[str]:
    from openrtcc.services.hotlists import import_hot_list

    rng = random.Random(3)
    chars = string.ascii_uppercase + string.digits
    plates: set[str] = set()
    while len(plates) < hits:
        plates.add("".join(rng.choice(chars) for _ in range(7)))
    listed = sorted(plates)
    ncic = "LIC,LIS,VMA,VCO\n" + "".join(f"{p},CA,TOYT,BLK\n" for p in listed)
    import_hot_list(world.hub, world.admin, name="Bench stolen vehicles", fmt="ncic", data=ncic.encode())
    rng.shuffle(listed)
    return listed


def _read_key(world: BenchWorld) -> str:
    from openrtcc.services.read_sources import create_source

    return create_source(world.hub, world.admin, "Bench edge box", "edge", None)[1]


def _drain(world: BenchWorld) -> None:
    """Until the worker has handled every notice and nothing is queued (or the time-out)."""
    from openrtcc.adapters.db.tables import delivery

    engine = world.hub.extras["engine"]
    worker = world.hub.extras.get("dissemination")
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        if worker is not None and not worker.drain(timeout=max(0.1, deadline - time.monotonic())):
            break
        with engine.connect() as c:
            waiting = c.execute(select(delivery.c.id).where(delivery.c.status == "queued").limit(1)).first()
        if waiting is None:
            time.sleep(1.0)  # what was handed last reaches its receiver
            return
        time.sleep(0.5)
    log.warning("deliveries still queued after %s s", DRAIN_TIMEOUT_S)


def delivery_rows(world: BenchWorld) -> list[DeliveryRow]:
    from openrtcc.adapters.db.tables import alert, delivery, incident, notice

    with world.hub.extras["engine"].connect() as c:
        alerts = dict(c.execute(select(alert.c.id, alert.c.created_at)).all())
        incidents = dict(c.execute(select(incident.c.id, incident.c.created_at)).all())
        rows = c.execute(select(delivery.c.id, delivery.c.subscriber_id, delivery.c.channel, delivery.c.status,
                                delivery.c.attempts, delivery.c.handed_at, notice.c.id.label("notice_id"),
                                notice.c.kind, notice.c.source_key, notice.c.created_at.label("stored_at"))
                         .join(notice, notice.c.id == delivery.c.notice_id)
                         .where(notice.c.kind.in_(("alert", "incident")))).all()
    out = []
    for r in rows:
        source_id = (r.source_key or "").split(":")[1] if r.source_key else None
        source_at: datetime | None = (alerts if r.kind == "alert" else incidents).get(source_id)
        if source_at is None:
            continue
        out.append(DeliveryRow(r.id, r.subscriber_id, r.channel, r.status, r.attempts, r.handed_at, r.notice_id,
                               r.kind, source_at, r.stored_at))
    return out
