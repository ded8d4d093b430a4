"""A real hub on a loopback port (SQLite, system clock) and one headless Chromium per test module."""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
import uvicorn

from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
from openrtcc.services.admin import create_agency
from openrtcc.web.app import create_app
from tests.api_log_on import api_log_on
from tests.conftest import LAKEPORT, PASSWORD
from tests.services import require_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass
class LiveHub:
    base_url: str
    hub: object
    agency_id: str
    admin_email: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, name="e2e-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub did not start on its loopback port")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory) -> LiveHub:
    """The real clock, not the fake one: the browser's TOTP codes are computed at real time."""
    data = tmp_path_factory.mktemp("e2e-hub")
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 'rtcc.db'}", smtp_host=None, tile_url="",
                        max_upload_bytes=2 * 1024 * 1024)
    hub = build_hub(settings, run_migrations=True, fast_hashing=True)
    admin_email = "admin@lakeport.test"
    agency_id = create_agency(hub, slug="lakeport", name="Lakeport Police", jurisdiction=LAKEPORT,
                              admin_email=admin_email, admin_password=PASSWORD)
    server, thread, base_url = _serve(create_app(settings, hub))
    hub.base_url = base_url  # the deployment's own address: the alert WebSocket checks Origin against it
    yield LiveHub(base_url, hub, agency_id, admin_email)
    server.should_exit = True
    thread.join(timeout=10)
    hub.extras["engine"].dispose()


@pytest.fixture(scope="module")
def admin_api(live_hub: LiveHub) -> httpx.Client:
    """The agency administrator, logged on over HTTP with an authenticator enrolled at real time.

    Module-scoped because a second log-on would need a fresh TOTP time step (codes are single-use).
    """
    client = api_log_on(live_hub.base_url, live_hub.admin_email, PASSWORD, timeout=10)
    yield client
    client.close()


def new_agency_user(admin_api: httpx.Client, role: str) -> str:
    """A user the browser will log on as; the authenticator is enrolled there, at first log-on."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@lakeport.test"
    r = admin_api.post("/api/agency/users", json={"email": email, "display_name": f"{role.title()} Tester",
                                                  "role": role, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return email


def new_owner(live: LiveHub, name: str = "Owen") -> tuple[str, httpx.Client]:
    """An owner signed up and logged on over HTTP (owners need no authenticator)."""
    client = httpx.Client(base_url=live.base_url, timeout=10)
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@owners.test"
    r = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "display_name": name,
                                              "kind": "resident"})
    assert r.status_code == 201, r.text
    r = client.post("/api/auth/logon", json={"email": email, "password": PASSWORD, "accept_banner": True})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return email, client


def log_on(page, base_url: str, email: str, password: str = PASSWORD, *, acknowledge: bool = True) -> None:
    """Fill in the log-on page as a person would (the code field stays empty)."""
    page.goto(f"{base_url}/login")
    if acknowledge:
        page.get_by_label("I acknowledge the system use notification above").check()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log on").click()


def enrol_in_browser(page) -> None:
    """First log-on of an agency user: read the secret the page shows, answer with a code for it."""
    secret = page.locator("#totp-secret").filter(has_text=re.compile(r"^[A-Z2-7]{16,}$"))
    secret.wait_for()
    assert page.locator("#totp-uri").inner_text().startswith("otpauth://totp/")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret.inner_text()).now())
    page.get_by_role("button", name="Confirm and continue").click()


@pytest.fixture(scope="module")
def browser():
    require_service(CHROMIUM.exists(), "Chromium", "apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) per test; console errors are collected for assertions."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB", timezone_id="UTC")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    context.close()
