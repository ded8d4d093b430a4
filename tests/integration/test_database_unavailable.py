"""The database down is a 503 `database_unavailable` (try again), never a 500, and nothing is half-done."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openrtcc.adapters.bus.nats_server import free_port
from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
from openrtcc.domain.errors import Unavailable
from openrtcc.web.app import create_app


@pytest.fixture
def unreachable_hub(tmp_path, clock):
    """A hub whose PostgreSQL does not answer: nothing listens on its port."""
    url = f"postgresql+psycopg://rtcc:rtcc@127.0.0.1:{free_port()}/rtcc?connect_timeout=2"
    settings = Settings(data_dir=tmp_path / "data", database_url=url, smtp_host=None, tile_url="",
                        media_encryption=False)
    hub = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True)
    yield settings, hub
    hub.extras["engine"].dispose()


def test_unit_of_work_on_an_unreachable_database_refuses_with_unavailable(unreachable_hub):
    _, hub = unreachable_hub
    with pytest.raises(Unavailable) as refused:
        with hub.uow() as uow:
            uow.rollback()
    assert refused.value.code == "database_unavailable"


def test_api_answers_503_while_the_database_is_down(unreachable_hub):
    settings, hub = unreachable_hub
    client = TestClient(create_app(settings, hub))
    r = client.post("/api/auth/logon", json={"email": "officer@lakeport.test", "password": "Blue-Kettle-Orbit-42",
                                             "accept_banner": True})
    assert r.status_code == 503, r.text
    assert r.json()["error"] in {"database_unavailable", "audit_unavailable"}
    assert "127.0.0.1" not in r.text and "rtcc:rtcc" not in r.text  # the refusal names no address or credential
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"


def test_failure_inside_a_transaction_after_the_database_went_away_is_unavailable(pg_database_url, tmp_path, clock):
    """A connection the server dropped mid-transaction (a restart, a fail-over): 503, and the action rolled back."""
    from sqlalchemy import text

    settings = Settings(data_dir=tmp_path / "data", database_url=pg_database_url, smtp_host=None, tile_url="")
    hub = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True)
    before = _cameras(hub)
    with pytest.raises(Unavailable):
        with hub.uow() as uow:
            uow.conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
            uow.conn.execute(text("SELECT 1"))
    assert _cameras(hub) == before  # the pool replaced the dropped connection; nothing was written
    hub.extras["engine"].dispose()


def _cameras(hub) -> int:
    from sqlalchemy import text

    with hub.uow() as uow:
        n = uow.conn.execute(text("SELECT count(*) FROM camera")).scalar_one()
        uow.rollback()
    return n
