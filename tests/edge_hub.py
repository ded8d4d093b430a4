"""A real hub (the test's own: its backend and clock) on a loopback port, for the edge link tests, and the
helpers that enrol a box with it through the real API."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import uvicorn

from openrtcc.edge.config import EdgeConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app, port: int | None = None, **ssl) -> tuple[uvicorn.Server, threading.Thread, int]:
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off", **ssl))
    thread = threading.Thread(target=server.run, name="edge-test-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub did not start on its loopback port")
        time.sleep(0.02)
    return server, thread, port


@dataclass
class EdgeHub:
    url: str
    hub: object
    world: object
    app: object = None  # with app, server and thread: a served hub that can stop and start again on its port
    server: object = None
    thread: object = None

    def code(self, owner) -> str:
        r = owner.post("/api/owner/edges/codes", json={"name": "Box"})
        assert r.status_code == 201, r.text
        return r.json()["code"]

    def config(self, tmp_path, cameras: list[dict] | None = None, **edge) -> EdgeConfig:
        return EdgeConfig.model_validate({"edge": {"name": "garage", "data_dir": str(tmp_path / "edge"),
                                                   "hub_url": self.url, **edge}, "cameras": cameras or []})

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def restart(self) -> None:
        self.server, self.thread, _ = serve(self.app, int(self.url.rsplit(":", 1)[1]))


@pytest.fixture
def live_edge_hub(app, hub, world):
    server, thread, port = serve(app)
    edge_hub = EdgeHub(f"http://127.0.0.1:{port}", hub, world, app, server, thread)
    yield edge_hub
    edge_hub.stop()


class OffsetClock:
    """The box's clock: the hub's (injected) clock plus a fixed error, to show skew detection."""

    def __init__(self, base, offset_s: float = 0.0):
        self.base, self.offset = base, timedelta(seconds=offset_s)

    def now(self) -> datetime:
        return self.base.now() + self.offset


def wait_for(predicate, timeout_s: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@dataclass
class Box:
    config: EdgeConfig
    creds: object
    gate: object
    alarms: object
    access_log: object
    link: object
    clock: object

    def stop(self) -> None:
        self.link.stop()
        self.access_log.close()


def start_box(edge_hub: EdgeHub, owner, tmp_path, camera_ids: list[str], *, skew_s: float = 0.0,
              **edge) -> Box:
    """Enrol a box through the real API and connect its real HubLink; returns once the hub welcomed it."""
    from openrtcc.edge.access_log import EdgeAccessLog, access_log_path
    from openrtcc.edge.alarms import Alarms
    from openrtcc.edge.enrolment import enrol
    from openrtcc.edge.hub_link import HubLink
    from openrtcc.edge.policy_gate import PolicyGate

    url = edge.pop("camera_url", "rtsp://192.0.2.10/stream")
    config = edge_hub.config(tmp_path, [{"id": c, "name": f"cam {c[:6]}", "url": url}
                                        for c in camera_ids], **edge)
    creds = enrol(config, edge_hub.code(owner))
    clock = OffsetClock(edge_hub.hub.clock, skew_s)
    alarms = Alarms(clock.now)
    gate = PolicyGate(config, config.edge.data_dir / "policy.json")
    log = EdgeAccessLog(access_log_path(config), clock.now)
    link = HubLink(config, creds, gate, clock=clock, alarms=alarms, access_log=log, min_backoff_s=0.2,
                   max_backoff_s=1.0)
    link.start()
    wait_for(link.connected.is_set, what="the link to connect")
    return Box(config, creds, gate, alarms, log, link, clock)
