"""Fixture: the real RTSP camera server (openrtcc/bench/rtsp_camera_server.py, run by Debian's python3) on a
loopback port, for the whole test session."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from openrtcc.bench.rtsp_camera_server import INSTALL, SYSTEM_PYTHON, CameraServer, CameraServerUnavailable
from tests.services import require_service

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT.parent / "shared" / "data" / "alpr" / "video" / "cars.mp4"


@dataclass(frozen=True)
class RtspServer:
    port: int
    pid: int

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"


def start_camera_server(loops: dict[str, Path] | None = None, port: int = 0) -> CameraServer:
    """A server of one's own (the caller stops it), skipping the test when GStreamer is not installed."""
    require_service(VIDEO.is_file(), "the ALPR data set (../shared/data/alpr)", "place it beside the checkout")
    require_service(SYSTEM_PYTHON.is_file(), "Debian's python3 with GStreamer bindings", INSTALL)
    try:
        return CameraServer(VIDEO, loops=loops, port=port)
    except CameraServerUnavailable as e:
        require_service(False, str(e), INSTALL)
        raise


@pytest.fixture(scope="session")
def rtsp_server():
    server = start_camera_server()
    try:
        yield RtspServer(server.port, server.pid)
    finally:
        print(server.stop(), file=sys.stderr, end="")
