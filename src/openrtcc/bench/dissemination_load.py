"""The dissemination benchmark's load, in a spawned child: plate hits through the ingest API and incidents
opened through the incidents API, each on its own fixed schedule, as an edge box and a dispatcher would."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

TICK_S = 0.1  # a read batch every 100 ms: an edge box's send interval


@dataclass(frozen=True, slots=True)
class LoadPlan:
    base_url: str
    read_key: str  # a read source's key (bearer)
    operator_token: str  # an operator's session (bearer), for POST /api/incidents
    alerts_per_s: float  # plate hits
    incidents_per_s: float
    seconds: float
    hits: list[str]  # listed plates, one per hit, never twice (one alert each)
    misses_per_hit: float
    city: tuple[float, float, float, float]  # min_lat, min_lon, max_lat, max_lon
    categories: tuple[str, ...]


@dataclass(slots=True)
class LoadResult:
    reads_sent: int = 0
    hits_sent: int = 0
    incidents_sent: int = 0
    incident_ids: list[str] = field(default_factory=list)
    send_seconds: float = 0.0
    ingest_ms: list[float] = field(default_factory=list)
    incident_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu_s: float = 0.0


def _point(rng: random.Random, city) -> tuple[float, float]:
    return rng.uniform(city[0], city[2]), rng.uniform(city[1], city[3])


def _send_reads(plan: LoadPlan, out: LoadResult) -> None:
    rng = random.Random(21)
    client = httpx.Client(base_url=plan.base_url, headers={"Authorization": f"Bearer {plan.read_key}"}, timeout=30)
    per_tick = plan.alerts_per_s * TICK_S
    owed, n, hit_i = 0.0, 0, 0
    began = time.monotonic()
    for tick in range(round(plan.seconds / TICK_S)):
        time.sleep(max(0.0, began + tick * TICK_S - time.monotonic()))
        owed += per_tick
        reads = []
        while owed >= 1 and hit_i < len(plan.hits):
            owed -= 1
            plates = [plan.hits[hit_i]] + [f"ZZ{rng.randrange(10**5):05d}" for _ in range(
                int(plan.misses_per_hit) + (rng.random() < plan.misses_per_hit % 1))]
            hit_i += 1
            for plate in plates:
                lat, lon = _point(rng, plan.city)
                reads.append({"read_id": f"bench-{n}", "plate": plate, "state": "CA", "confidence": 0.93,
                              "captured_at": datetime.now(UTC).isoformat(), "lat": lat, "lon": lon})
                n += 1
        if not reads:
            continue
        start = time.monotonic()
        r = client.post("/api/ingest/reads", json={"version": 1, "reads": reads})
        out.ingest_ms.append((time.monotonic() - start) * 1000)
        if r.status_code != 200:
            out.errors.append(f"ingest {r.status_code}: {r.text[:200]}")
            continue
        out.reads_sent += len(reads)
        out.hits_sent = hit_i
    out.send_seconds = max(out.send_seconds, time.monotonic() - began)
    client.close()


def _open_incidents(plan: LoadPlan, out: LoadResult) -> None:
    if plan.incidents_per_s <= 0:
        return
    rng = random.Random(22)
    client = httpx.Client(base_url=plan.base_url, headers={"Authorization": f"Bearer {plan.operator_token}"},
                          timeout=30)
    every = 1.0 / plan.incidents_per_s
    began = time.monotonic()
    for i in range(round(plan.seconds * plan.incidents_per_s)):
        time.sleep(max(0.0, began + i * every - time.monotonic()))
        lat, lon = _point(rng, plan.city)
        body = {"category": rng.choice(plan.categories), "priority": rng.randint(1, 4),
                "title": f"Bench incident {i}", "description": "Benchmark incident opened by the dispatcher load.",
                "lat": lat, "lon": lon, "address": f"{100 + i % 900} Bench Ave"}
        start = time.monotonic()
        r = client.post("/api/incidents", json=body)
        out.incident_ms.append((time.monotonic() - start) * 1000)
        if r.status_code != 201:
            out.errors.append(f"incident {r.status_code}: {r.text[:200]}")
            if r.status_code in (404, 405):  # this build has no incidents API: alerts only
                break
            continue
        out.incidents_sent += 1
        out.incident_ids.append(r.json()["id"])
    out.send_seconds = max(out.send_seconds, time.monotonic() - began)
    client.close()


def drive(plan: LoadPlan) -> LoadResult:
    """Both schedules at once, each in its own thread; returns what was sent and how long the requests took."""
    out = LoadResult()
    cpu_began = time.process_time()
    threads = [threading.Thread(target=fn, args=(plan, out), daemon=True) for fn in (_send_reads, _open_incidents)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.cpu_s = time.process_time() - cpu_began
    return out
