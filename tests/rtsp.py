"""Fixture: the real RTSP server of tests/rtsp_server.py on a loopback port, for the whole test session."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import require_service

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")
SERVER = ROOT / "tests" / "rtsp_server.py"
VIDEO = ROOT.parent / "shared" / "data" / "alpr" / "video" / "cars.mp4"
INSTALL = ("apt-get install -y gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 "
           "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav")


@dataclass(frozen=True)
class RtspServer:
    port: int

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"


@pytest.fixture(scope="session")
def rtsp_server():
    require_service(VIDEO.is_file(), "the ALPR data set (../shared/data/alpr)", "place it beside the checkout")
    require_service(SYSTEM_PYTHON.is_file(), "Debian's python3 with GStreamer bindings", INSTALL)
    proc = subprocess.Popen([str(SYSTEM_PYTHON), str(SERVER), "--file", str(VIDEO)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        if not first.startswith("READY "):
            proc.wait(timeout=10)
            err = proc.stderr.read()
            require_service(proc.returncode != 3, f"GStreamer RTSP server ({err.strip()})", INSTALL)
            pytest.fail(f"the RTSP server did not start (exit {proc.returncode}): {err}")
        yield RtspServer(int(first.split()[1]))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(proc.stderr.read() if proc.stderr else "", file=sys.stderr, end="")
