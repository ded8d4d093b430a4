"""/metrics answers a scraper with the token, or a loopback client when no token is set; anyone else is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openrtcc.web.app import create_app

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

TOKEN = "scrape-token-0123456789"


def test_without_a_token_only_loopback_clients_are_answered(app):
    r = TestClient(app, client=("203.0.113.9", 5000)).get("/metrics")
    assert (r.status_code, r.json()["error"]) == (403, "metrics_loopback_only")
    local = TestClient(app, client=("::1", 5000))
    assert local.post("/api/auth/logon", content=b"x" * 300_000).status_code == 413  # refused before routing
    r = local.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert 'rtcc_http_requests_total{method="GET",route="/metrics",status="403"} 1.0' in r.text
    assert 'rtcc_http_requests_total{method="POST",route="unmatched",status="413"} 1.0' in r.text


def test_with_a_token_every_client_needs_it(settings, hub):
    app = create_app(settings.model_copy(update={"metrics_token": TOKEN}), hub)
    local = TestClient(app, client=("127.0.0.1", 5000))
    assert local.get("/metrics").status_code == 401
    assert local.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    r = TestClient(app, client=("203.0.113.9", 5000)).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and "rtcc_edge_links 0.0" in r.text
    with hub.uow() as uow:
        refused = [rec for rec in uow.audit.iter_records() if rec.action == "http.refused"]
        uow.rollback()
    assert len(refused) == 2 and all(rec.target == "GET /metrics" for rec in refused)
