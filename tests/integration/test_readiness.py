"""/healthz and /readyz of a hub process: each check (database reachable and migrated, media store, background
work alive) fails on its own and says only which check failed and why in a word, never a URL or host."""

from __future__ import annotations

import shutil

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import PG_ADMIN_URL


def ready(app) -> tuple[int, dict]:
    r = TestClient(app).get("/readyz")
    assert r.headers["cache-control"] == "no-store"
    return r.status_code, r.json()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_ready_while_the_background_work_runs_and_not_once_it_stopped(app, clock):
    with TestClient(app) as running:  # the lifespan starts the background work, as uvicorn does
        r = running.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "ready", "checks": {"database": "ok", "media": "ok"}}
        assert running.get("/healthz").json() == {"status": "ok", "process": "embedded"}
    clock.advance(seconds=2)
    status, body = ready(app)
    assert (status, body["status"]) == (503, "not_ready")
    assert body["checks"]["background"].startswith("stopped: ") and "hotlist-upkeep" in body["checks"]["background"]
    assert TestClient(app).get("/healthz").status_code == 200  # alive, though not ready


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_schema_behind_the_migrations_is_not_ready_until_migrated(hub, app, clock):
    engine = hub.extras["engine"]
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    status, body = ready(app)
    assert (status, body["checks"]["database"]) == (503, "not_migrated")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert ready(app)[1]["checks"]["database"] == "not_migrated"  # the answer is kept for a second
    clock.advance(seconds=1.5)
    assert ready(app)[1]["checks"]["database"] == "ok"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_media_folder_that_went_away_is_not_ready(settings, app, clock):
    assert ready(app)[1]["checks"]["media"] == "ok"
    shutil.rmtree(settings.media_dir)
    settings.media_dir.write_text("a file where the mount was")
    clock.advance(seconds=2)
    status, body = ready(app)
    assert status == 503 and body["checks"]["media"] not in ("ok", None)
    assert str(settings.media_dir) not in str(body)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_dropped_database_is_named_without_its_address(app, database_url, clock):
    assert ready(app)[1]["checks"]["database"] == "ok"
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    clock.advance(seconds=2)
    r = TestClient(app).get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["database"] == "unavailable"
    for secret in (name, "127.0.0.1", "5432", "postgresql", "rtcc:rtcc"):
        assert secret not in r.text
