"""`rtcc serve` as a process: with RTCC_LOG_FORMAT=json every line it writes (uvicorn's own included) is a JSON
record; on SIGTERM it answers /readyz 503 `draining` while still serving for RTCC_SHUTDOWN_DRAIN_S, then stops."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import httpx
import pytest

from openrtcc.adapters.bus.nats_server import free_port
from tests.edge_hub import wait_for


def answer(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2)
    except httpx.TransportError:
        return None


@pytest.mark.slow
def test_serve_drains_on_sigterm_and_logs_json_lines(tmp_path, sqlite_template):
    port = free_port()
    (tmp_path / "data").mkdir()
    shutil.copy(sqlite_template, tmp_path / "data" / "rtcc.db")  # migrated already: the start is the hub's alone
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}  # the embedded default
    env.update({"RTCC_DATA_DIR": str(tmp_path / "data"), "RTCC_LOG_FORMAT": "json", "RTCC_PROCESS_NAME": "serve-drain",
                "RTCC_SHUTDOWN_DRAIN_S": "1.5", "RTCC_BASE_URL": f"http://127.0.0.1:{port}"})
    with open(tmp_path / "serve.log", "wb") as stderr:  # the child keeps its own descriptor
        proc = subprocess.Popen([sys.executable, "-m", "openrtcc.cli", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: (r := answer(f"{base}/readyz")) is not None and r.status_code == 200, 120, "the hub ready")
        proc.send_signal(signal.SIGTERM)
        r = wait_for(lambda: (r := answer(f"{base}/readyz")) is not None and r.status_code == 503 and r, 5,
                     "/readyz to answer draining")
        assert r.json()["status"] == "draining"
        assert answer(f"{base}/healthz").status_code == 200  # still serving while the balancer notices
        proc.wait(timeout=60)
        assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it stopped on
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = (tmp_path / "serve.log").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line: one JSON object
    assert all(rec["process"] == "serve-drain" and rec["role"] == "serve" for rec in records)
    messages = [(rec["logger"], rec["message"]) for rec in records]
    assert ("uvicorn.error", "Application startup complete.") in messages
    assert any(logger == "openrtcc.web.draining_server" and message.startswith("draining:")
               for logger, message in messages)
    assert ("uvicorn.error", "Application shutdown complete.") in messages
