"""The whole box: a real `rtcc edge --config` process against a real hub (uvicorn on loopback) and the real
RTSP server, with the box-hub network running through a TCP fault proxy.

One module-scoped hub, box and camera; the tests run in order and each leaves the box running for the next:
enrol and connect (health reaches the hub), recording encrypted at rest, plate reads from the looping
clip reach the hub exactly once across a `kill -9` of the box, a hub outage and a network cut.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from openrtcc.adapters.db.tables import camera_health, edge_box, plate_read
from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
from openrtcc.services.admin import create_agency
from openrtcc.web.app import create_app
from tests.conftest import LAKEPORT, PASSWORD, camera_body
from tests.edge_hub import free_port
from tests.fault_proxy import FaultProxy
from tests.rtsp import rtsp_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow
CAMERA_PASSWORD = "s3cret-Camera-pw"  # in the camera URL (the test server asks for none): must never be printed


class HubServer:
    """The hub on a fixed loopback port, stopped and started again at will (an outage, then a return)."""

    def __init__(self, app):
        self.app, self.port, self.server, self.thread = app, free_port(), None, None

    def start(self) -> None:
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, name="e2e-edge-hub", daemon=True)
        self.thread.start()
        _until(lambda: self.server.started, 20, "the hub did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Site:
    hub: object
    server: HubServer
    proxy: FaultProxy
    agency_id: str
    camera_id: str
    config: Path
    data_dir: Path
    box: subprocess.Popen | None = None
    logs: list[Path] = field(default_factory=list)

    def start_box(self) -> None:
        log_path = self.data_dir.parent / f"edge-{len(self.logs)}.log"
        self.logs.append(log_path)
        with open(log_path, "w") as out:
            self.box = subprocess.Popen(_rtcc("edge", "--config", str(self.config)), stdout=out,
                                        stderr=subprocess.STDOUT, env=_env())

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs)

    def rows(self, table, *where):
        with self.hub.extras["engine"].connect() as conn:
            return list(conn.execute(select(table).where(*where)))


def _rtcc(*args: str) -> list[str]:
    return [sys.executable, "-m", "openrtcc.cli", *args]


def _env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _until(check, timeout: float, what: str, site: Site | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s" + (f"\n--- box log ---\n{site.log_text()[-4000:]}" if site else ""))


@pytest.fixture(scope="module")
def site(tmp_path_factory, rtsp_server):  # noqa: F811
    data = tmp_path_factory.mktemp("edge-e2e")
    settings = Settings(data_dir=data / "hub", database_url=f"sqlite:///{data / 'hub.db'}", smtp_host=None,
                        tile_url="")
    hub = build_hub(settings, run_migrations=True, fast_hashing=True)
    agency_id = create_agency(hub, slug="lakeport", name="Lakeport Police", jurisdiction=LAKEPORT,
                              admin_email="admin@lakeport.test", admin_password=PASSWORD)
    server = HubServer(create_app(settings, hub))
    server.start()
    proxy = FaultProxy(("127.0.0.1", server.port))
    owner = _owner(f"http://127.0.0.1:{server.port}")
    sharing = {"mode": "always", "share_live": True, "share_recorded": True, "share_reads_with": [agency_id]}
    r = owner.post("/api/owner/cameras", json=camera_body(agency_id, tier="integrated", sharing=sharing))
    assert r.status_code == 201, r.text
    camera_id = r.json()["id"]
    config = data / "edge.toml"
    config.write_text(f"""
[edge]
name = "Corner shop"
data_dir = "box"
hub_url = "http://{proxy.address}"

[recording]
segment_seconds = 2
reserve_bytes = 0

[plate_reading]
model_dir = "{os.environ.get('RTCC_MODEL_DIR', '')}"
frames_per_second = 4
threads = 1

[[cameras]]
id = "{camera_id}"
name = "Shop front"
url = "{rtsp_server.url('cars').replace('rtsp://', f'rtsp://shop:{CAMERA_PASSWORD}@')}"
record = true
plate_reading = true
""")
    code = owner.post("/api/owner/edges/codes", json={"name": "Corner shop"}).json()["code"]
    done = subprocess.run(_rtcc("edge", "--config", str(config), "enrol", "--code", code), capture_output=True,
                          text=True, env=_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    edge_id = done.stdout.split("edge ")[1].split()[0]
    r = owner.put(f"/api/owner/cameras/{camera_id}/edge", json={"edge_id": edge_id})
    assert r.status_code == 200, r.text
    s = Site(hub, server, proxy, agency_id, camera_id, config, data / "box")
    s.start_box()
    yield s
    if s.box is not None and s.box.poll() is None:
        s.box.kill()
        s.box.wait()
    proxy.close()
    server.stop()
    hub.extras["engine"].dispose()


def _owner(base_url: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10)
    email = f"owner-{uuid.uuid4().hex[:6]}@owners.test"
    r = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Shop Owner",
                                              "kind": "business"})
    assert r.status_code == 201, r.text
    r = client.post("/api/auth/logon", json={"email": email, "password": PASSWORD, "accept_banner": True})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return client


def test_the_enrolled_box_connects_and_its_camera_health_reaches_the_hub(site):
    [box] = _until(lambda: site.rows(edge_box, edge_box.c.connected.is_(True)), 20, "the box connected", site)
    assert box.name == "Corner shop"
    health = _until(lambda: [h for h in site.rows(camera_health, camera_health.c.camera_id == site.camera_id)
                             if h.online and h.fps], 25, "the camera reported online with its fps", site)
    assert health[0].fps >= 5 and health[0].edge_id == box.id
    assert CAMERA_PASSWORD not in site.log_text()


def test_sigterm_stops_the_box_in_order_within_seconds(site):
    started = time.monotonic()
    site.box.send_signal(signal.SIGTERM)
    assert site.box.wait(timeout=15) == 0
    assert time.monotonic() - started < 10, site.log_text()[-3000:]
    site.start_box()
