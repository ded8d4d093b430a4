"""`rtcc bench registry`: registration, radius search and map load at city scale on the embedded default.

Targets (issue): with 100,000 cameras, radius search through the HTTP API p99 <= 10 ms; the map opens
with 40,000 cameras in <= 1.5 s in headless Chromium; registration writes >= 500 cameras/s.
"""

from __future__ import annotations

import logging
import math
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from openrtcc.bench.load import (
    Box,
    in_child_process,
    register_batches_concurrently,
    register_concurrently,
    search_sequentially,
)
from openrtcc.bench.report import RegistryFigures, print_table, write_section
from openrtcc.bench.server import LoopbackServer
from openrtcc.bench.world import (
    OWNERS_PER_BULK_CAMERA,
    BenchWorld,
    add_staff,
    build_world,
    bulk_camera,
    bulk_owners,
    owner_session,
    staff_session,
)
from openrtcc.domain.accounts import Role
from openrtcc.domain.audit import AuditEntry
from openrtcc.web.app import create_app

log = logging.getLogger(__name__)

MAP_SHARE = 0.4  # the city whose map is opened holds 40% of all cameras: 40,000 of 100,000
BULK_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class BenchPlan:
    cameras: int = 100_000
    registrations: int = 5_000
    owner_sessions: int = 4
    batch_registrations: int = 5_000
    batch_size: int = 50
    searches: int = 2_000
    warmup_searches: int = 100
    radius_m: float = 300.0
    browser: bool = True
    seed: int = 42

    @property
    def city_cameras(self) -> int:
        return round(self.cameras * MAP_SHARE)

    @property
    def http_registrations(self) -> int:
        return min(self.registrations, self.city_cameras)


def _camera_body(world: BenchWorld, rng: random.Random, n: int) -> dict:
    p = world.random_point(rng, world.city_box)
    return {"agency_id": world.city_id, "name": f"Registered camera {n}", "lat": p.lat, "lon": p.lon,
            "address": f"{100 + n % 9_000} Registry St", "bearing_deg": rng.randrange(360), "fov_deg": 90,
            "range_m": 30, "public_facing_attested": True, "make": "Hanwha Vision", "model": "XNO-6080R",
            "owner_retention_days": 14, "tier": "registered"}


def _token_of(client: httpx.Client) -> str:
    """The bearer secret of a logged-on client, which is then closed: the client process takes over."""
    client.close()
    return client.headers["Authorization"].removeprefix("Bearer ")


def measure_registration(world: BenchWorld, base_url: str, plan: BenchPlan, rng: random.Random) -> tuple[int, float]:
    """Concurrent owner sessions POST /api/owner/cameras from a client process; returns (registered, seconds)."""
    tokens = [_token_of(owner_session(base_url, world.password, n)) for n in range(plan.owner_sessions)]
    bodies = [_camera_body(world, rng, n) for n in range(plan.http_registrations)]
    shares = [bodies[i::len(tokens)] for i in range(len(tokens))]
    b = world.city_box
    done, elapsed, errors = in_child_process(register_concurrently, base_url, tokens, shares,
                                             Box(b.min_lat, b.min_lon, b.max_lat, b.max_lon))
    if errors:
        raise RuntimeError(f"{len(errors)} registrations failed, first: {errors[0]}")
    return done, elapsed


def measure_batch_registration(world: BenchWorld, base_url: str, plan: BenchPlan,
                               rng: random.Random) -> tuple[int, float]:
    """Concurrent owner sessions POST batches to /api/owner/cameras/batch; returns (registered, seconds)."""
    tokens = [_token_of(owner_session(base_url, world.password, 100 + n)) for n in range(plan.owner_sessions)]
    count = min(plan.batch_registrations, plan.city_cameras)
    # Likely duplicates are flagged rather than refused here: random spots make a few, and each still costs
    # the full duplicate check.
    bodies = [{**_camera_body(world, rng, 100_000 + n), "allow_duplicate": True} for n in range(count)]
    batches = [bodies[i:i + plan.batch_size] for i in range(0, len(bodies), plan.batch_size)]
    shares = [batches[i::len(tokens)] for i in range(len(tokens))]
    done, elapsed, errors = in_child_process(register_batches_concurrently, base_url, tokens, shares)
    if errors:
        raise RuntimeError(f"{len(errors)} batch registrations failed, first: {errors[0]}")
    return done, elapsed


def bulk_fill(world: BenchWorld, plan: BenchPlan, registered: int, rng: random.Random) -> tuple[int, float]:
    """Fill the city and the county up to the plan with bulk imports; returns (cameras, seconds)."""
    began = time.perf_counter()
    wanted = [(world.city_id, world.city_box, plan.city_cameras - registered),
              (world.county_id, world.county_box, plan.cameras - plan.city_cameras)]
    owners = bulk_owners(world, max(1, math.ceil(sum(w[2] for w in wanted) * OWNERS_PER_BULK_CAMERA)))
    n = 0
    for agency_id, box, count in wanted:
        for first in range(0, count, BULK_BATCH):
            batch = [bulk_camera(rng, world, agency_id, box, owners[(n + i) % len(owners)], n + i)
                     for i in range(min(BULK_BATCH, count - first))]
            with world.hub.uow() as uow:
                uow.cameras.add_many(batch)
                uow.record(AuditEntry("bench.bulk_import", "success", None, agency_id, f"agency:{agency_id}",
                                      "bench", {"cameras": len(batch)}))
                uow.commit()
            n += len(batch)
    return n, time.perf_counter() - began


def measure_radius_search(world: BenchWorld, base_url: str, plan: BenchPlan,
                          rng: random.Random) -> tuple[list[float], float]:
    """One keep-alive analyst client in a client process; returns (sorted latencies in ms, mean result count)."""
    token = _token_of(staff_session(base_url, add_staff(world, Role.ANALYST, "search-analyst"), world.password))
    bodies = []
    for _ in range(plan.warmup_searches + plan.searches):
        p = world.random_point(rng, world.city_box, margin=0.02)
        bodies.append({"lat": p.lat, "lon": p.lon, "radius_m": plan.radius_m, "purpose": "criminal_investigation",
                       "offence": "220", "case_number": "BENCH-1", "note": "benchmark canvass"})
    latencies, results = in_child_process(search_sequentially, base_url, token, bodies, plan.warmup_searches)
    return sorted(latencies), results / max(1, plan.searches)


def run_bench(plan: BenchPlan, data_dir: Path) -> RegistryFigures:
    """Every phase in order on a fresh hub in `data_dir`; the figures, nothing written yet."""
    rng = random.Random(plan.seed)
    world = build_world(data_dir)
    figures = RegistryFigures(cameras=plan.cameras, map_cameras=plan.city_cameras)
    try:
        with LoopbackServer(create_app(world.settings, world.hub)) as base_url:
            log.info("registering %s cameras through the HTTP API", plan.http_registrations)
            figures.http_registered, figures.http_seconds = measure_registration(world, base_url, plan, rng)
            figures.owner_sessions = plan.owner_sessions
            log.info("registering %s cameras in batches of %s", plan.batch_registrations, plan.batch_size)
            figures.batch_registered, figures.batch_seconds = measure_batch_registration(world, base_url, plan, rng)
            figures.batch_size = plan.batch_size
            log.info("bulk import up to %s cameras", plan.cameras)
            figures.bulk_imported, figures.bulk_seconds = bulk_fill(world, plan,
                                                                  figures.http_registered + figures.batch_registered,
                                                                  rng)
            log.info("%s radius searches", plan.searches)
            figures.search_ms, figures.mean_results = measure_radius_search(world, base_url, plan, rng)
            figures.radius_m, figures.warmup_searches = plan.radius_m, plan.warmup_searches
            if plan.browser:
                from openrtcc.bench.browser import measure_map_load

                email = add_staff(world, Role.ANALYST, "map-analyst")
                session = staff_session(base_url, email, world.password)
                figures.map = measure_map_load(base_url, session)
                session.close()
    finally:
        world.hub.extras["engine"].dispose()
    return figures


def run_registry_bench(cameras: int = 100_000, output: Path = Path("docs/benchmarks.md"), browser: bool = True,
                       **plan_overrides) -> int:
    """The `rtcc bench registry` command: run, print the table, write the results section. 0 when all pass."""
    plan = BenchPlan(cameras=cameras, browser=browser, **plan_overrides)
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-") as tmp:
        figures = run_bench(plan, Path(tmp))
    print_table(figures)
    write_section(output, figures)
    print(f"\nresults written to {output}")
    return 0 if figures.all_pass else 1
