"""Operations of city-mode processes: a worker's /readyz follows its NATS server (killed, restarted) and its read
consumer; its /metrics tells the role, the database pool and the NATS link; and after real reads with a hot-list
hit, neither a metric label nor a log line of either process carries the plate or the source's key."""

from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from openrtcc import __version__
from openrtcc.adapters.bus.nats_server import NatsServerProcess
from openrtcc.adapters.metrics.prometheus import RouteTemplates, catalogue
from openrtcc.bootstrap import build_hub
from openrtcc.log_setup import log_handler
from openrtcc.web.app import create_app
from openrtcc.web.worker_app import create_worker_app
from tests.conftest import World
from tests.edge_hub import wait_for
from tests.integration import db_probe as db
from tests.plate_reads import NCIC_LIST, earlier, import_list, new_source, post_reads, read_body

LOOPBACK = ("127.0.0.1", 5000)  # /metrics answers loopback scrapers when no token is set


def hub_of(settings, clock, role: str):
    return build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True, role=role)


def close(*hubs) -> None:
    for hub in hubs:
        hub.extras["nats"].close()
        hub.extras["engine"].dispose()


def samples(exposition: str) -> dict[str, float]:
    """`name{label="v",...}` -> value, labels sorted by name."""
    found = {}
    for family in text_string_to_metric_families(exposition):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            found[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return found


@pytest.fixture
def json_logs():
    """Every record of the process, as the JSON handler writes them (the handler `rtcc` installs)."""
    out = io.StringIO()
    handler = log_handler("json", role="worker", process_name="worker-7", stream=out)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def test_worker_readiness_follows_nats_and_its_consumer_and_its_metrics_say_so(city_settings, clock, tmp_path):
    nats = NatsServerProcess(tmp_path / "own-nats").start()  # its own server: this test kills it
    settings = city_settings.model_copy(update={"nats_url": nats.url})
    worker = hub_of(settings, clock, "worker")
    link = worker.extras["nats"]
    app = create_worker_app(settings, worker)
    try:
        with TestClient(app, client=LOOPBACK) as c:  # the lifespan starts the read consumer
            r = c.get("/readyz", headers={"X-Request-Id": "lb-probe-0001"})
            assert r.status_code == 200, r.text
            assert r.json() == {"status": "ready", "checks": {"database": "ok", "nats": "ok", "media": "ok"}}
            assert r.headers["x-request-id"] == "lb-probe-0001"

            nats.kill()
            wait_for(lambda: not link.connected, 10, "the link to notice the server is gone")
            clock.advance(seconds=2)
            r = c.get("/readyz")
            assert r.status_code == 503 and r.json()["checks"]["nats"] == "disconnected"
            assert nats.url not in r.text and str(nats.port) not in r.text
            assert samples(c.get("/metrics").text)["rtcc_nats_connected"] == 0

            nats.start()
            wait_for(lambda: link.connected, 15, "the link to reconnect")
            clock.advance(seconds=2)
            assert c.get("/readyz").status_code == 200
            figures = samples(c.get("/metrics").text)
            assert figures["rtcc_nats_connected"] == 1 and figures["rtcc_nats_reconnects_total"] == 1
            assert figures[f'rtcc_process_info{{role="worker",version="{__version__}"}}'] == 1
            assert figures['rtcc_db_pool_connections{state="capacity"}'] == (settings.database_pool_size
                                                                             + settings.database_max_overflow)
            assert figures['rtcc_http_requests_total{method="GET",route="/readyz",status="503"}'] == 1
            assert figures["rtcc_ready"] == 1
        clock.advance(seconds=2)
        r = TestClient(app).get("/readyz")  # the lifespan ended: the consumer's loop stopped
        assert r.status_code == 503 and "read-consumer" in r.json()["checks"]["background"].split(", ")
    finally:
        close(worker)
        nats.stop()


def test_no_plate_or_key_in_the_metrics_or_the_logs_of_either_process(city_settings, clock, json_logs):
    serve, worker = hub_of(city_settings, clock, "serve"), hub_of(city_settings, clock, "worker")
    app = create_app(city_settings, serve)
    world = World(serve, app, clock)
    try:
        key, _ = new_source(world, default_state="WI")
        import_list(world, "stolen", "ncic", NCIC_LIST)
        anon = TestClient(app, client=LOOPBACK)
        r = post_reads(anon, key, [read_body("cam1-0001", "ABC 123", earlier(clock, seconds=5), state="CA"),
                                   read_body("cam1-0002", "QRS 777", earlier(clock, seconds=4))])
        assert r.status_code == 200, r.text
        assert post_reads(anon, key + "x", []).status_code == 401  # a refused key: logged, never the key
        with TestClient(create_worker_app(city_settings, worker), client=LOOPBACK) as w:
            wait_for(lambda: db.count(serve, "alert") == 1, 15, "the worker to store the reads and raise the alert")
            worker_metrics = w.get("/metrics").text
        serve_metrics = anon.get("/metrics").text
    finally:
        close(serve, worker)
    declared = {s.name.removesuffix("_total") for s in catalogue(RouteTemplates())}
    for text in (worker_metrics, serve_metrics):
        # Nothing undeclared (the parser reads a counter's `_created` sample as a family of its own).
        assert {f.name.removesuffix("_created") for f in text_string_to_metric_families(text)} <= declared
        for plate in ("ABC123", "ABC 123", "QRS777", "QRS 777"):
            assert plate not in text
    assert samples(worker_metrics)['rtcc_reads_ingested_total{source_kind="lpr_camera"}'] == 2
    logged = json_logs.getvalue()
    records = [json.loads(line) for line in logged.splitlines()]
    assert records and all(rec["process"] == "worker-7" for rec in records)
    refused = [rec for rec in records if rec["logger"] == "openrtcc.web.errors"]
    assert [rec["message"] for rec in refused] == ["refused POST /api/ingest/reads: unknown_source_key"]
    assert len(refused[0]["request_id"]) == 32
    # The import's handler runs in the thread pool: its records carry the request's id too.
    [imported] = [rec for rec in records if rec["message"].endswith("imported: version 1, 2 entries")]
    assert len(imported["request_id"]) == 32 and imported["request_id"] != refused[0]["request_id"]
    for secret in ("ABC123", "ABC 123", "QRS777", "QRS 777", key):
        assert secret not in logged
