"""A real hub (the test's own: its backend and clock) on a loopback port, for the edge link tests, and the
helpers that enrol a box with it through the real API."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import pytest
import uvicorn

from openrtcc.edge.config import EdgeConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app, **ssl) -> tuple[uvicorn.Server, threading.Thread, int]:
    port = free_port()
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

    def code(self, owner) -> str:
        r = owner.post("/api/owner/edges/codes", json={"name": "Box"})
        assert r.status_code == 201, r.text
        return r.json()["code"]

    def config(self, tmp_path, cameras: list[dict] | None = None, **edge) -> EdgeConfig:
        return EdgeConfig.model_validate({"edge": {"name": "garage", "data_dir": str(tmp_path / "edge"),
                                                   "hub_url": self.url, **edge}, "cameras": cameras or []})


@pytest.fixture
def live_edge_hub(app, hub, world):
    server, thread, port = serve(app)
    yield EdgeHub(f"http://127.0.0.1:{port}", hub, world)
    server.should_exit = True
    thread.join(timeout=10)
