"""`rtcc bench city`: one run per hub process count, each on a fresh scratch database and a fresh CityCluster.

    seed the city in-process -> start NATS + N serve + M workers -> operators log on (password + TOTP) ->
    operators' screens open /ws/alerts (a spawned process) -> the edge fleet posts reads (another) ->
    drain -> stop, drop the database
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import secrets
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from openrtcc.bench.city_load import DRAIN_S, EdgePlan, EdgeResult, OperatorResult, drive_edges, drive_operators
from openrtcc.bench.city_resources import ResourceSample, ResourceSampler
from openrtcc.bench.city_world import MIN_LIST_ENTRIES, SeededCity, scratch_database, seed_city
from openrtcc.bench.cluster import CityCluster
from openrtcc.bench.world import staff_session

log = logging.getLogger(__name__)
LOCAL_PG = "postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres"
ALERT_DRAIN_S = 10.0  # after the last read is answered: alerts are awaited while one arrived this recently
ALERT_DRAIN_MAX_S = 120.0
LOGON_THREADS = 8


@dataclass(frozen=True, slots=True)
class CityOptions:
    cameras: int = 40_000
    edges: int = 2_000
    rate: float = 500.0
    hit_share: float = 0.1
    operators: int = 200
    seconds: float = 600.0
    workers: int = 1
    pg_url: str = LOCAL_PG
    min_list_entries: int = MIN_LIST_ENTRIES  # the hot list's size when the hits need fewer entries


@dataclass(slots=True)
class CityRun:
    serve: int
    workers: int
    city: SeededCity
    edges: EdgeResult
    operators: OperatorResult
    resources: ResourceSample
    startup_s: float  # cluster start: NATS, migrations, every process ready
    logon_s: float


def run_city(options: CityOptions, serve: int) -> CityRun:
    expected_hits = int(options.rate * options.seconds * options.hit_share) + 10
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-city-") as tmp, \
            scratch_database(options.pg_url, f"s{serve}") as url:
        secret = secrets.token_hex(32)
        cluster = CityCluster(Path(tmp), url, serve=serve, workers=options.workers,
                              env={"RTCC_SECRET_KEY": secret})
        log.info("seeding %s cameras, %s edge boxes, %s operators", options.cameras, options.edges,
                 options.operators)
        city = seed_city(url, cluster.data_dir, secret, cameras=options.cameras, edges=options.edges,
                         operators=options.operators, expected_hits=expected_hits,
                         min_list_entries=options.min_list_entries)
        started = time.perf_counter()
        cluster.start(timeout_s=120)
        try:
            startup_s = time.perf_counter() - started
            started = time.perf_counter()
            tokens = log_on_operators(cluster.base_url, city)
            logon_s = time.perf_counter() - started
            log.info("cluster of %s serve + %s worker(s) ready in %.1f s; %s operators logged on in %.1f s", serve,
                     options.workers, startup_s, len(tokens), logon_s)
            edges, operators, resources = _drive(cluster, options, city, tokens, url.rsplit("/", 1)[1])
        finally:
            cluster.stop()
            _report_process_errors(cluster)
    return CityRun(serve, options.workers, city, edges, operators, resources, startup_s, logon_s)


def _report_process_errors(cluster: CityCluster, most: int = 5) -> None:
    """A hub process's logged errors (a 500 answered, a crash) go to the bench's log: the figures alone do not
    say why."""
    for proc in cluster.processes:
        lines = [ln for ln in cluster.log_tail(proc, 200_000).splitlines() if "ERROR" in ln or "Traceback" in ln]
        for line in lines[:most]:
            log.warning("%s: %s", proc.name, line[:300] + " ... " + line[-1500:])


def log_on_operators(base_url: str, city: SeededCity) -> list[str]:
    """Every operator logs on through the API with password and authenticator (TOTP), as at a first log-on."""
    def one(email: str) -> str:
        client = staff_session(base_url, email, city.password)
        try:
            return client.headers["Authorization"].removeprefix("Bearer ")
        finally:
            client.close()

    with ThreadPoolExecutor(LOGON_THREADS) as pool:
        return list(pool.map(one, city.operator_emails))


def _drive(cluster: CityCluster, options: CityOptions, city: SeededCity, tokens: list[str],
           database_name: str) -> tuple[EdgeResult, OperatorResult, ResourceSample]:
    ctx = multiprocessing.get_context("spawn")
    send_times = ctx.Array("d", len(city.hits), lock=False)  # hit index -> monotonic time its batch was sent
    delivered = ctx.Value("q", 0, lock=False)  # alerts received, all operators together
    ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    ws_url = cluster.base_url.replace("http://", "ws://") + "/ws/alerts"
    screens = ctx.Process(target=drive_operators, name="bench-operators",
                          args=(ws_url, tokens, city.hits, send_times, delivered, ready, stop, results))
    plan = EdgePlan(cluster.base_url, options.rate, options.seconds, options.hit_share,
                    [(e.key, e.camera_ids) for e in city.edges], city.hits, city.misses)
    fleet = ctx.Process(target=drive_edges, name="bench-edges", args=(plan, send_times, results))
    screens.start()
    try:
        if not ready.wait(180):
            raise RuntimeError("the operators' screens did not connect within 180 s")
        drivers = {"driver-operators": screens.pid}

        def pids() -> dict[str, int]:
            return {**cluster.pids(), **drivers}

        with ResourceSampler(pids, database_name) as sampler:
            fleet.start()
            drivers["driver-edges"] = fleet.pid
            # Generous: on a starved machine the read maker itself falls behind its schedule.
            got = _collect(results, {"edges"}, 3 * options.seconds + DRAIN_S + 180)
            _await_alerts(delivered, got["edges"].hits_sent * len(tokens))
            stop.set()
            got.update(_collect(results, {"operators"}, 120))
        return got["edges"], got["operators"], sampler.sample
    finally:
        stop.set()
        for proc in (fleet, screens):
            if proc.pid is not None:
                proc.join(30)
                if proc.is_alive():
                    proc.kill()


def _await_alerts(delivered, expected: int) -> None:
    """Until every alert reached every screen, or none arrived for ALERT_DRAIN_S (at most ALERT_DRAIN_MAX_S)."""
    last, quiet_since, end = delivered.value, time.monotonic(), time.monotonic() + ALERT_DRAIN_MAX_S
    while delivered.value < expected and time.monotonic() < end and time.monotonic() - quiet_since < ALERT_DRAIN_S:
        time.sleep(0.1)
        if delivered.value != last:
            last, quiet_since = delivered.value, time.monotonic()


def _collect(results, names: set[str], timeout_s: float) -> dict:
    got, deadline = {}, time.monotonic() + timeout_s
    while names - got.keys():
        try:
            name, value = results.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError(f"no result from the {', '.join(sorted(names - got.keys()))} driver") from None
        if isinstance(value, Exception):
            raise value
        got[name] = value
    return got


def pg_url_of(arg: str | None) -> str:
    return arg or os.environ.get("RTCC_TEST_PG_URL", LOCAL_PG)
