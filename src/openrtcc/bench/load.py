"""The benchmark's HTTP clients, run in a separate process so that they do not take the server's GIL.

A real hub's clients are browsers and scripts elsewhere; sharing the server's interpreter would charge
their JSON and socket work to the server. Each function here runs in a spawned child and returns plain data.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import httpx

RETRIES_ON_LIKELY_DUPLICATE = 5


def in_child_process(fn, *args):
    """Run `fn(*args)` in a freshly spawned interpreter (never forked from a process with threads)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


@dataclass(frozen=True, slots=True)
class Box:
    """Where a camera refused as a likely duplicate of the owner's own is moved to."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def random_spot(self, rng: random.Random) -> tuple[float, float]:
        return rng.uniform(self.min_lat, self.max_lat), rng.uniform(self.min_lon, self.max_lon)


def _register_one_by_one(client: httpx.Client, bodies: list[dict], out: dict, box: Box, seed: int) -> None:
    rng = random.Random(seed)
    for body in bodies:
        for _ in range(RETRIES_ON_LIKELY_DUPLICATE):
            r = client.post("/api/owner/cameras", json=body)
            if r.status_code != 409:
                break
            lat, lon = box.random_spot(rng)
            body = {**body, "lat": lat, "lon": lon}
        if r.status_code == 201:
            out["done"] += 1
        else:
            out["errors"].append(f"{r.status_code} {r.text[:200]}")


def _register_batches(client: httpx.Client, batches: list[list[dict]], out: dict) -> None:
    for batch in batches:
        r = client.post("/api/owner/cameras/batch", json={"cameras": batch})
        if r.status_code == 201:
            out["done"] += len(r.json())
        else:
            out["errors"].append(f"{r.status_code} {r.text[:200]}")


def _sessions_at_once(base_url: str, tokens: list[str], work: list, run) -> tuple[int, float, list[str]]:
    """One thread and keep-alive client per owner session, started together; `run(client, work, out, i)`
    does one session's share. Returns (registered, seconds, errors)."""
    clients = [httpx.Client(base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {t}"})
               for t in tokens]
    results = [{"done": 0, "errors": []} for _ in tokens]
    start = threading.Barrier(len(tokens) + 1)

    def session(i: int) -> None:
        start.wait()
        run(clients[i], work[i], results[i], i)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    for c in clients:
        c.close()
    return sum(r["done"] for r in results), elapsed, [e for r in results for e in r["errors"]]


def register_concurrently(base_url: str, tokens: list[str], bodies: list[list[dict]],
                          box: Box) -> tuple[int, float, list[str]]:
    """Each owner session POSTs its cameras one by one to /api/owner/cameras."""
    return _sessions_at_once(base_url, tokens, bodies,
                             lambda client, mine, out, i: _register_one_by_one(client, mine, out, box, i))


def register_batches_concurrently(base_url: str, tokens: list[str],
                                  batches: list[list[list[dict]]]) -> tuple[int, float, list[str]]:
    """Each owner session POSTs its batches to /api/owner/cameras/batch."""
    return _sessions_at_once(base_url, tokens, batches,
                             lambda client, mine, out, _i: _register_batches(client, mine, out))


def search_sequentially(base_url: str, token: str, bodies: list[dict], warmup: int) -> tuple[list[float], int]:
    """One keep-alive client; returns (latencies in ms after the warm-up, cameras returned after it)."""
    latencies, results = [], 0
    with httpx.Client(base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        for i, body in enumerate(bodies):
            began = time.perf_counter()
            r = client.post("/api/agency/search/radius", json=body)
            ms = (time.perf_counter() - began) * 1000
            r.raise_for_status()
            if i >= warmup:
                latencies.append(ms)
                results += len(r.json())
    return latencies, results
