"""The whole box: a real `rtcc edge --config` process against a real hub (uvicorn on loopback) and the real
RTSP server, with the box-hub network running through a TCP fault proxy.

One module-scoped hub, box and camera; the tests run in order and each leaves the box running for the next:
enrol and connect (health reaches the hub), recording encrypted at rest, plate reads from the looping
clip on the hub exactly once, across a network cut; live view ended by the owner's revocation; an orderly
stop whose recording plays back; then, with the disk full, a hub outage with a `kill -9` of the box in it.
"""

from __future__ import annotations

import io
import json
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

import av
import httpx
import pytest
import uvicorn
from sqlalchemy import select

from openrtcc.adapters.db.tables import camera_health, edge_box, plate_read
from openrtcc.bootstrap import build_hub
from openrtcc.cli import main
from openrtcc.config import Settings
from openrtcc.services.admin import create_agency
from openrtcc.web.app import create_app
from tests.alpr_cli import MODELS, require_alpr_files
from tests.api_log_on import api_log_on as _log_on
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
    owner: httpx.Client
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

    @property
    def edge_id(self) -> str:
        return json.loads((self.data_dir / "credentials.json").read_text())["edge_id"]

    def hub_read_keys(self) -> list[str]:
        """The box's read ids as the hub stored them (one agency shares: one row per read)."""
        with self.hub.extras["engine"].connect() as conn:
            return [r[0] for r in conn.execute(select(plate_read.c.read_key).where(
                plate_read.c.read_key.like(f"{self.edge_id}:%")))]

    def box_queue(self) -> tuple[int, dict[str, int]]:
        """(the camera's last sequence number, queued reads by state), read beside the running box."""
        db = sqlite3.connect(f"file:{self.data_dir / 'reads.sqlite3'}?mode=ro", uri=True, timeout=10)
        try:
            row = db.execute("SELECT last_seq FROM camera_seq WHERE camera_id = ?", (self.camera_id,)).fetchone()
            states = dict(db.execute("SELECT state, count(*) FROM read GROUP BY state").fetchall())
        except sqlite3.OperationalError:  # the box has not created its queue yet
            return 0, {}
        finally:
            db.close()
        return (row[0] if row else 0), states

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
    require_alpr_files()
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
model_dir = "{MODELS}"
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
    s = Site(hub, server, proxy, agency_id, camera_id, config, data / "box", owner)
    s.start_box()
    yield s
    if s.box is not None and s.box.poll() is None:
        s.box.kill()
        s.box.wait()
    owner.close()
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
    [health] = _until(lambda: [h for h in site.rows(camera_health, camera_health.c.camera_id == site.camera_id)
                               if h.online], 25, "the camera reported online", site)
    assert health.edge_id == box.id  # its fps is checked once it has had a whole interval (below)
    assert CAMERA_PASSWORD not in site.log_text()


def _segment_files(site: Site) -> list[Path]:
    return sorted((site.data_dir / "video").glob(f"*/{site.camera_id}/*.seg"))


def test_recording_is_encrypted_at_rest(site):
    [health] = _until(lambda: [h for h in site.rows(camera_health, camera_health.c.camera_id == site.camera_id)
                               if h.fps], 25, "the camera's fps on the hub", site)
    assert health.online and health.fps >= 5 and health.bitrate_kbps > 100 and health.last_frame_at
    files = _until(lambda: [f for f in _segment_files(site) if f.stat().st_size > 50_000], 30,
                   "a recorded segment on disk", site)
    data = files[0].read_bytes()
    assert data.startswith(b"RTCCSEG\0")
    assert b"ftyp" not in data and b"\x00\x00\x00\x01\x67" not in data  # no MP4 box, no H.264 SPS
    ts_packets = sum(1 for i in range(0, len(data) - 188 * 8, 188) if all(data[i + 188 * k] == 0x47 for k in range(8)))
    assert ts_packets < 3  # plaintext MPEG-TS has its sync byte every 188 bytes


def _reads_settled(site: Site, at_least: int):
    """Every read the box has numbered is on the hub, once, and nothing waits on the box."""
    last_seq, states = site.box_queue()
    keys = site.hub_read_keys()
    if last_seq < at_least or states.get("pending") or len(keys) != last_seq:
        return None
    return last_seq, keys


def _assert_exactly_once(site: Site, last_seq: int, keys: list[str]) -> None:
    assert sorted(keys) == sorted(f"{site.edge_id}:{site.camera_id}:{n}" for n in range(1, last_seq + 1))
    assert site.box_queue()[1].get("quarantined", 0) == 0


def test_plate_reads_reach_the_hub_exactly_once(site):
    last_seq, keys = _until(lambda: _reads_settled(site, 1), 40, "a plate read on the hub", site)
    _assert_exactly_once(site, last_seq, keys)


def test_reads_cross_a_network_cut_once(site):
    site.proxy.blackhole()
    before, _ = site.box_queue()  # anything numbered later is read behind the cut
    try:
        held, _ = _until(lambda: site.box_queue()[0] > before and site.box_queue(), 40, "a read behind the cut", site)
        time.sleep(2)
        assert f"{site.edge_id}:{site.camera_id}:{held}" not in site.hub_read_keys()  # the cut holds it back
        assert site.box_queue()[1].get("pending")
    finally:
        site.proxy.restore()
    last_seq, keys = _until(lambda: _reads_settled(site, before + 1), 60, "the reads after the cut", site)
    _assert_exactly_once(site, last_seq, keys)


def _agency_user(base_url: str, role: str) -> httpx.Client:
    """A new agency user of the given role, logged on with an authenticator enrolled at real time."""
    admin = _log_on(base_url, "admin@lakeport.test")
    email = f"{role}-{uuid.uuid4().hex[:6]}@lakeport.test"
    r = admin.post("/api/agency/users", json={"email": email, "display_name": f"{role.title()} Tester", "role": role,
                                               "password": PASSWORD})
    assert r.status_code == 201, r.text
    admin.close()
    return _log_on(base_url, email)


def test_live_view_through_the_box_ends_when_the_owner_revokes_and_both_logs_show_it(site, capsys):
    officer = _agency_user(str(site.owner.base_url), "officer")
    r = officer.post(f"/api/cameras/{site.camera_id}/live", json={"purpose": "robbery reported at the shop"})
    assert r.status_code == 201, r.text
    status_url = r.json()["status_url"]
    live = _until(lambda: (st := officer.get(status_url).json())["segments"] >= 2 and st, 20,
                  "live segments from the box", site)
    assert live["state"] == "live" and live["confirmed_by_box"]
    sharing = {"mode": "always", "share_live": False, "share_recorded": True}  # reads stay shared (kept)
    r = site.owner.put(f"/api/owner/cameras/{site.camera_id}",
                       json=camera_body(site.agency_id, tier="integrated", sharing=sharing))
    assert r.status_code == 200, r.text
    ended = _until(lambda: (st := officer.get(status_url).json())["state"] == "ended" and st, 8,
                   "the live session ended after the revocation", site)
    assert ended["end_reason"]
    officer.close()
    assert main(["edge", "--config", str(site.config), "log"]) == 0  # `rtcc edge log`, beside the running box
    printed = capsys.readouterr().out
    assert any(" live " in line and "allowed" in line for line in printed.splitlines()), printed
    box_log = _until(lambda: site.owner.get(f"/api/owner/cameras/{site.camera_id}/edge-access-log").json(), 10,
                     "the box's log on the hub", site)
    assert any(e["kind"] == "live" and e["outcome"] == "allowed" for e in box_log), box_log
    assert any(e["kind"] == "reads" and e["outcome"] == "allowed" for e in box_log), box_log  # reads that left


def test_sigterm_stops_the_box_in_order_and_the_recording_plays(site):
    started = time.monotonic()
    site.box.send_signal(signal.SIGTERM)
    assert site.box.wait(timeout=15) == 0
    assert time.monotonic() - started < 10, site.log_text()[-3000:]
    assert CAMERA_PASSWORD not in site.log_text()
    from openrtcc.domain.clock import SystemClock
    from openrtcc.edge.alarms import Alarms
    from openrtcc.edge.config import load_edge_config
    from openrtcc.edge.segment_store import SegmentStore

    config = load_edge_config(site.config)
    store = SegmentStore(config.edge.data_dir, config.recording, Alarms(SystemClock().now), SystemClock())
    try:
        segments = sorted(store.segments(site.camera_id), key=lambda seg: seg.started_at)
        assert len(segments) >= 3 and all(seg.ended_at for seg in segments)
        assert segments[-1].complete  # the open segment was sealed whole by the orderly stop
        whole, last = store.read_plaintext(segments[-2]), store.read_plaintext(segments[-1])
    finally:
        store.close()
    assert _frames(whole) >= 30 and _frames(last) >= 1  # 2 s segments of 25 fps video, decoded back


def _frames(mpegts: bytes) -> int:
    with av.open(io.BytesIO(mpegts), format="mpegts") as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_full_disk_a_hub_outage_and_a_kill_9_lose_no_read(site):
    """The box restarts with no room for video: recording stops with disk_full, which the owner sees; then the
    hub goes down while the box reads, a read waits in the box's queue, the box is killed (-9) with it there
    and restarted, and the hub comes back: every read arrives, once."""
    site.config.write_text(site.config.read_text().replace("reserve_bytes = 0\n", "reserve_bytes = 0\nmax_bytes = 1\n"))
    site.start_box()
    _until(lambda: [b for b in site.owner.get("/api/owner/edges").json()
                    if b["connected"] and any(a["code"] == "disk_full" for a in b["alarms"])], 30,
           "disk_full in the box's status on the hub", site)
    site.server.stop()
    before, _ = site.box_queue()  # numbered after the hub went down
    try:
        held, _ = _until(lambda: site.box_queue()[0] > before and site.box_queue(), 40, "a read queued while the "
                         "hub is down and the disk full", site)
        assert site.box_queue()[1].get("pending")
        site.box.send_signal(signal.SIGKILL)
        site.box.wait(timeout=10)
        site.start_box()
    finally:
        site.server.start()
    last_seq, keys = _until(lambda: _reads_settled(site, held), 40, "the queued reads on the hub", site)
    _assert_exactly_once(site, last_seq, keys)
