"""Readiness: can this process do its work now? Each dependency it needs is probed, briefly, and the answer
names the check that failed with a short fixed reason, never a URL, a host name or an error's text.

Probes are registered by the composition root (`operations_wiring`): the database (reachable, schema at head),
NATS (connected, JetStream answering) in city mode, the media store. A probe is a callable returning "ok" or a
short reason ("unavailable", "not_migrated", ...); a probe that raises counts as "failed", one that takes longer
than PROBE_TIMEOUT_S as "timeout" (it is not started again while it still runs). Answers are cached for
CACHE_S, so a load balancer polling every process often costs one round of probes a second.

Background work: the process's background items (hub.extras["background"] on a worker, "serve_background" on a
serve process, both in the embedded default) are asked `alive()` when they have it: an item that answers False
makes the process not ready (check "background", reason "stopped: <its name>"). A background consumer (a thread
or a coroutine on the NATS link's loop) gives itself a cheap `alive()` (its thread or task still running) and a
`name`, and the readiness check covers it.

Draining: after `drain()` (SIGTERM) every answer is "draining" (503), so a load balancer stops sending while the
server finishes what it has.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field

from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)

OK = "ok"
CACHE_S = 1.0
PROBE_TIMEOUT_S = 2.0
Probe = Callable[[], str]


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)  # check -> "ok" or a short reason
    draining: bool = False

    @property
    def ready(self) -> bool:
        return not self.draining and all(v == OK for v in self.checks.values())

    def as_json(self) -> dict:
        status = "draining" if self.draining else "ready" if self.ready else "not_ready"
        return {"status": status, "checks": dict(self.checks)}


class ReadinessChecks:
    """The probes of one process, their cached answer and the draining flag."""

    def __init__(self, hub: Hub, cache_s: float = CACHE_S, timeout_s: float = PROBE_TIMEOUT_S):
        self.hub, self.cache_s, self.timeout_s = hub, cache_s, timeout_s
        self._probes: dict[str, Probe] = {}
        self._running: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, str]] | None = None
        self._draining = threading.Event()

    def add(self, name: str, probe: Probe) -> None:
        self._probes[name] = probe
        self._cached = None

    def drain(self) -> None:
        self._draining.set()

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    def report(self, background: Iterable[object] = ()) -> Readiness:
        checks = dict(self._probed())
        stopped = [_name(item) for item in background if _stopped(item)]
        if stopped:
            checks["background"] = "stopped: " + ", ".join(sorted(stopped))
        return Readiness(checks, draining=self.draining)

    def _probed(self) -> dict[str, str]:
        with self._lock:  # concurrent polls share one round of probes
            now = self.hub.clock.now().timestamp()
            if self._cached is not None and now - self._cached[0] < self.cache_s:
                return self._cached[1]
            results = self._run_probes()
            self._cached = (now, results)
            return results

    def _run_probes(self) -> dict[str, str]:
        for name, probe in self._probes.items():
            if name not in self._running or self._running[name].done():
                self._running[name] = _start(probe, name)
        wait(list(self._running.values()), timeout=self.timeout_s)
        return {name: self._answer(name, future) for name, future in self._running.items()}

    def _answer(self, name: str, future: Future) -> str:
        if not future.done():
            log.warning("readiness: the %s check did not answer within %.1f s", name, self.timeout_s)
            return "timeout"
        try:
            answer = future.result()
        except Exception as exc:  # the type only: an error's text may carry a URL or a host
            log.warning("readiness: the %s check failed (%s)", name, type(exc).__name__)
            return "failed"
        return answer if isinstance(answer, str) else "failed"


def _start(probe: Probe, name: str) -> Future:
    """The probe on a daemon thread of its own: one stuck on a dead host never holds up the process's exit."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(probe())
        except BaseException as exc:  # handed to the reader, who logs its type
            future.set_exception(exc)

    threading.Thread(target=run, name=f"readiness:{name}", daemon=True).start()
    return future


def readiness_checks(hub: Hub) -> ReadinessChecks:
    """The process's readiness checks (made on first use: a hub built without probes is simply ready)."""
    checks = hub.extras.get("readiness")
    if checks is None:
        checks = hub.extras.setdefault("readiness", ReadinessChecks(hub))
    return checks


def readiness(hub: Hub, background: Iterable[object] = ()) -> Readiness:
    return readiness_checks(hub).report(background)


def _stopped(item: object) -> bool:
    alive = getattr(item, "alive", None)
    if not callable(alive):
        return False
    try:
        return not alive()
    except Exception:  # a liveness question that raises is a no
        return True


def _name(item: object) -> str:
    name = getattr(item, "name", None)
    return name if isinstance(name, str) and name else type(item).__name__
