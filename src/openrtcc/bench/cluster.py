"""A city-mode hub on this machine, process by process: NATS JetStream, several `rtcc serve` processes sharing
one port (SO_REUSEPORT), and `rtcc worker` processes, over one PostgreSQL database.

`rtcc bench city` and the fault tests drive it; each process can be killed with SIGKILL and started again.
Loopback only. Every serve process also listens on a private port of its own (its health and metrics).

    cluster = CityCluster(work_dir, database_url, serve=3, workers=1)
    cluster.start()                      # NATS, migrations, processes; returns when every one is ready
    cluster.base_url                     # the one address clients use
    cluster.kill("serve", 0); cluster.restart("serve", 0)
    cluster.stop()
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from openrtcc.adapters.bus.nats_server import NatsServerProcess, free_port
from openrtcc.adapters.db.engine import migrate


@dataclass
class HubProcess:
    role: str  # serve | worker
    index: int
    private_port: int  # this process's own /healthz, /readyz and /metrics
    log_path: Path
    popen: subprocess.Popen | None = None
    starts: int = 0

    @property
    def name(self) -> str:
        return f"{self.role}-{self.index}"

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.private_port}"


@dataclass
class CityCluster:
    work_dir: Path
    database_url: str
    serve: int = 1
    workers: int = 1
    port: int | None = None
    nats: NatsServerProcess | None = None
    env: dict[str, str] = field(default_factory=dict)  # more RTCC_* settings for every process
    processes: list[HubProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.work_dir = Path(self.work_dir)
        self.port = self.port or free_port()
        self._secret = secrets.token_hex(32)
        if self.nats is None:
            self.nats = NatsServerProcess(self.work_dir / "nats")
        for i in range(self.serve):
            self.processes.append(HubProcess("serve", i, free_port(), self.work_dir / "logs" / f"serve-{i}.log"))
        for i in range(self.workers):
            self.processes.append(HubProcess("worker", i, free_port(), self.work_dir / "logs" / f"worker-{i}.log"))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    def process_env(self, proc: HubProcess | None = None) -> dict[str, str]:
        """The environment of every hub process (and of commands run against the cluster, like `rtcc agency`)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
        env.update({
            "RTCC_DATABASE_URL": self.database_url,
            "RTCC_NATS_URL": self.nats.url,
            "RTCC_DATA_DIR": str(self.data_dir),
            "RTCC_SECRET_KEY": self._secret,
            "RTCC_BASE_URL": self.base_url,
            # Up to 5 processes x 20 connections stay under PostgreSQL's default max_connections (100).
            "RTCC_DATABASE_POOL_SIZE": "8",
            "RTCC_DATABASE_MAX_OVERFLOW": "12",
            "RTCC_LOG_FORMAT": "json",
        })
        for key in ("RTCC_MODEL_DIR",):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(self.env)
        if proc is not None:
            env["RTCC_PROCESS_NAME"] = proc.name
        return env

    # ------------------------------------------------------------------ whole cluster

    def start(self, timeout_s: float = 60.0) -> CityCluster:
        (self.work_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.nats.process is None or self.nats.process.poll() is not None:
            self.nats.start()
        migrate(self.database_url)
        for proc in self.processes:
            self._spawn(proc)
        self.wait_ready(timeout_s)
        return self

    def stop(self) -> None:
        for proc in self.processes:
            if proc.alive:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.processes:
            if proc.popen is not None:
                try:
                    proc.popen.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.popen.kill()
                    proc.popen.wait(timeout=5)
        self.nats.stop()

    def wait_ready(self, timeout_s: float = 60.0, processes: list[HubProcess] | None = None) -> None:
        deadline = time.monotonic() + timeout_s
        for proc in processes or self.processes:
            while not self.ready(proc):
                if not proc.alive:
                    raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{self.log_tail(proc)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{proc.name} was not ready within {timeout_s:g} s:\n{self.log_tail(proc)}")
                time.sleep(0.2)

    # ------------------------------------------------------------------ one process

    def process(self, role: str, index: int = 0) -> HubProcess:
        return next(p for p in self.processes if p.role == role and p.index == index)

    def kill(self, role: str, index: int = 0) -> None:
        """`kill -9`: no shutdown handler runs."""
        proc = self.process(role, index)
        if proc.alive:
            os.kill(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait(timeout=10)

    def restart(self, role: str, index: int = 0, timeout_s: float = 60.0) -> None:
        proc = self.process(role, index)
        if proc.alive:
            self.kill(role, index)
        self._spawn(proc)
        self.wait_ready(timeout_s, [proc])

    def ready(self, proc: HubProcess) -> bool:
        try:
            with urllib.request.urlopen(f"{proc.health_url}/readyz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def log_tail(self, proc: HubProcess, chars: int = 4000) -> str:
        try:
            return proc.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"

    def pids(self) -> dict[str, int]:
        """Process name -> pid of every running process, NATS included (for resource sampling)."""
        found = {p.name: p.pid for p in self.processes if p.alive}
        if self.nats.process is not None and self.nats.process.poll() is None:
            found["nats"] = self.nats.pid
        return found

    def _spawn(self, proc: HubProcess) -> None:
        proc.log_path.parent.mkdir(parents=True, exist_ok=True)
        if proc.role == "serve":
            args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--reuse-port",
                    "--private-port", str(proc.private_port)]
        else:
            args = ["worker", "--host", "127.0.0.1", "--port", str(proc.private_port)]
        log = open(proc.log_path, "ab")
        proc.popen = subprocess.Popen([sys.executable, "-m", "openrtcc.cli", *args], env=self.process_env(proc),
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        proc.starts += 1
