"""Resource use per process during `rtcc bench city`: CPU (% of one core) and resident memory, once a second.

The hub's processes are sampled by pid (serve-i, worker-i, nats, the load drivers); PostgreSQL's backends are
found by the scratch database's name in their process title and summed (their private memory only: the shared
buffers would otherwise be counted once per backend).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

POSTGRES = "postgresql"


@dataclass(slots=True)
class Usage:
    cpu: list[float] = field(default_factory=list)  # % of one core, per sample
    rss_mb: list[float] = field(default_factory=list)

    @property
    def cpu_mean(self) -> float:
        return sum(self.cpu) / len(self.cpu) if self.cpu else 0.0

    @property
    def cpu_max(self) -> float:
        return max(self.cpu, default=0.0)

    @property
    def rss_max(self) -> float:
        return max(self.rss_mb, default=0.0)


@dataclass(slots=True)
class ResourceSample:
    by_process: dict[str, Usage] = field(default_factory=dict)
    machine_cpu: list[float] = field(default_factory=list)  # % of all cores together
    pg_backends: int = 0  # the most seen at once


class ResourceSampler:
    """`pids()` is asked each second (a restarted process gets a new pid); a thread of the bench's own."""

    def __init__(self, pids: Callable[[], dict[str, int]], database_name: str, interval_s: float = 1.0):
        self.pids, self.database_name, self.interval_s = pids, database_name, interval_s
        self.sample = ResourceSample()
        self._procs: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-resources", daemon=True)

    def __enter__(self) -> ResourceSampler:
        psutil.cpu_percent(None)
        self._measure()  # primes every process's CPU counter: the first real sample covers one interval
        self.sample = ResourceSample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._measure()

    def _measure(self) -> None:
        seen: dict[str, tuple[float, float]] = {}
        for name, pid in self.pids().items():
            got = self._read(pid, private=False)
            if got is not None:
                seen[name] = got
        backends = [self._read(p.pid, private=True) for p in self._postgres_backends()]
        backends = [b for b in backends if b is not None]
        if backends:
            seen[POSTGRES] = (sum(b[0] for b in backends), sum(b[1] for b in backends))
            self.sample.pg_backends = max(self.sample.pg_backends, len(backends))
        for name, (cpu, rss) in seen.items():
            usage = self.sample.by_process.setdefault(name, Usage())
            usage.cpu.append(cpu)
            usage.rss_mb.append(rss)
        self.sample.machine_cpu.append(psutil.cpu_percent(None))

    def _read(self, pid: int, private: bool) -> tuple[float, float] | None:
        try:
            proc = self._procs.get(pid)
            fresh = proc is None
            if fresh:  # its CPU counter starts now: its first share is read at the next sample
                proc = self._procs[pid] = psutil.Process(pid)
            cpu = proc.cpu_percent(None)
            mem = proc.memory_info()
            rss = mem.rss - (getattr(mem, "shared", 0) if private else 0)
            return (0.0 if fresh else cpu), rss / 1e6
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            self._procs.pop(pid, None)
            return None

    def _postgres_backends(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            try:
                cmd = " ".join(proc.info["cmdline"] or [])
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if cmd.startswith("postgres:") and f" {self.database_name} " in f" {cmd} ":
                found.append(proc)
        return found
