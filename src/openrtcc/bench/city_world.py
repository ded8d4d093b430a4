"""`rtcc bench city`'s world: a scratch PostgreSQL database seeded in-process with a city's cameras, its owners'
edge boxes (each with its cameras linked and sharing their plate reads with the police), a hot list and the
operators who watch the alerts.

Seeding goes through the repositories in a few audited transactions (like `rtcc bench registry`'s bulk import),
not through 40,000 HTTP calls: the load test measures the reads and alerts, not the registration.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import secrets
import string
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg

from openrtcc import __version__
from openrtcc.adapters.db.engine import migrate
from openrtcc.bench.world import BenchWorld, build_world, bulk_camera, bulk_owners
from openrtcc.domain.accounts import Role, User
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.cameras import Camera, CameraStatus, SharingMode, SharingPolicy, Tier, ViewCone
from openrtcc.domain.geo import Point
from openrtcc.services.edge_enrolment import KEY_PREFIX, secret_hash
from openrtcc.services.edge_reads import edge_source_id
from openrtcc.services.hotlist_index import hotlist_index
from openrtcc.services.hotlists import import_hot_list

log = logging.getLogger(__name__)
CHUNK = 5_000  # rows per audited seeding transaction
SITE_SPREAD_M = 40.0  # a box's cameras sit around one site (a shop front, a car park)
MIN_LIST_ENTRIES = 20_000
MISS_PLATES = 50_000
PLATE_CHARS = string.ascii_uppercase + string.digits


@dataclass(frozen=True, slots=True)
class SeededEdge:
    edge_id: str
    key: str  # shown once at enrolment; the driver authenticates with it
    camera_ids: tuple[str, ...]


@dataclass(slots=True)
class SeededCity:
    agency_id: str
    password: str  # every seeded operator's
    cameras: int
    edges: list[SeededEdge] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)  # listed plates, each sent once: one alert each
    misses: list[str] = field(default_factory=list)  # plates on no list
    list_entries: int = 0
    operator_emails: list[str] = field(default_factory=list)
    seconds: float = 0.0  # seeding wall time


@contextmanager
def scratch_database(admin_url: str, label: str) -> Iterator[str]:
    """A fresh database beside the others on the server given, migrated to head; dropped at the end."""
    name = f"rtcc_bench_city_{label}_{uuid.uuid4().hex[:8]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def random_plates(rng: random.Random, n: int, avoid: set[str] = frozenset()) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        plate = "".join(rng.choice(PLATE_CHARS) for _ in range(7))
        if plate not in avoid:
            out.add(plate)
    return sorted(out)


def seed_city(database_url: str, data_dir: Path, secret_key: str, *, cameras: int, edges: int, operators: int,
              expected_hits: int, min_list_entries: int = MIN_LIST_ENTRIES, seed: int = 17) -> SeededCity:
    """Everything the load needs, in the database the cluster will serve (and its data dir: keys live there)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    world = build_world(data_dir, database_url=database_url, secret_key=secret_key)
    try:
        city = SeededCity(world.city_id, world.password, cameras)
        per_edge = max(1, min(8, cameras // max(1, edges)))
        registered = max(0, cameras - edges * per_edge)
        owners = bulk_owners(world, edges + math.ceil(registered / 25))  # box owners first
        city.edges = _seed_edges(world, rng, owners[:edges], per_edge)
        _seed_registered_cameras(world, rng, registered, owners[edges:])
        city.hits, city.list_entries = _seed_hot_list(world, rng, expected_hits, min_list_entries)
        city.misses = _misses(world, random.Random(seed + 1))
        city.operator_emails = _seed_operators(world, operators)
        log.info("seeded %s cameras, %s boxes, %s list entries, %s operators in %.1f s", cameras, edges,
                 city.list_entries, operators, time.perf_counter() - started)
    finally:
        world.hub.extras["engine"].dispose()
    city.seconds = time.perf_counter() - started
    return city


def _seed_edges(world: BenchWorld, rng: random.Random, owners: list[str], per_edge: int) -> list[SeededEdge]:
    """Boxes as enrolment makes them (an id, a key kept as its hash), one per owner, each at a site with its
    cameras linked, integrated and sharing their reads with the city's police."""
    count = len(owners)
    now = world.hub.clock.now()
    policy = SharingPolicy(SharingMode.ALWAYS, True, True, share_reads_with=(world.city_id,))
    seeded: list[SeededEdge] = []
    for start in range(0, count, CHUNK // per_edge):
        with world.hub.uow() as uow:
            boxes, cams = [], []
            for i in range(start, min(count, start + CHUNK // per_edge)):
                edge_id, key = str(uuid.uuid4()), KEY_PREFIX + secrets.token_urlsafe(32)
                uow.edges.add_edge(edge_id, owners[i], f"Bench box {i}", secret_hash(key), now, __version__)
                site = world.random_point(rng, world.city_box, margin=0.01)
                box_cams = [_edge_camera(rng, world, owners[i], edge_id, site, policy, i, j) for j in range(per_edge)]
                cams += box_cams
                boxes.append(SeededEdge(edge_id, key, tuple(c.id for c in box_cams)))
                _add_edge_source(uow, edge_id, f"Bench box {i}", world.city_id, now)
            uow.cameras.add_many(cams)
            uow.record(AuditEntry("bench.bulk_edges", "success", None, world.city_id, None, "bench",
                                  {"edges": len(boxes), "cameras": len(cams)}))
            uow.commit()
        seeded += boxes
    return seeded


def _add_edge_source(uow, edge_id: str, name: str, agency_id: str, at) -> None:
    """The (box, agency) read source a box's first shared read makes (services/edge_reads.py): these boxes have
    been sending reads for a while, so the load measures the steady state, not 2,000 first batches at once."""
    unusable = hashlib.sha256(b"edge-source:" + secrets.token_bytes(32)).hexdigest()  # reached by the edge key
    uow.read_sources.add(id=edge_source_id(edge_id, agency_id), agency_id=agency_id, name=f"Edge box {name}"[:120],
                         kind="edge", key_hash=unusable, default_state=None, created_by=None, created_at=at)


def _edge_camera(rng: random.Random, world: BenchWorld, owner_id: str, edge_id: str, site: Point,
                 policy: SharingPolicy, box: int, n: int) -> Camera:
    bearing = rng.uniform(0, 2 * math.pi)
    dist = rng.uniform(0, SITE_SPREAD_M)
    spot = Point(site.lat + dist * math.cos(bearing) / 111_320,
                 site.lon + dist * math.sin(bearing) / (111_320 * math.cos(math.radians(site.lat))))
    now = world.hub.clock.now() - timedelta(days=rng.uniform(0, 400))
    return Camera(str(uuid.uuid4()), world.city_id, owner_id, f"Box {box} camera {n + 1}", spot,
                  f"{100 + box % 9_000} Bench Ave", ViewCone(float(rng.randrange(360)), 90.0, 30.0), Tier.INTEGRATED,
                  policy, True, "Axis", "P1465-LE-3 LPR", 30, CameraStatus.ACTIVE, now, now, edge_id=edge_id)


def _seed_registered_cameras(world: BenchWorld, rng: random.Random, count: int, owners: list[str]) -> None:
    """The rest of the city's cameras: registered and integrated ones of residents and businesses (no box)."""
    if count <= 0:
        return
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        cams = [bulk_camera(rng, world, world.city_id, world.city_box, owners[(start + i) % len(owners)], start + i)
                for i in range(n)]
        with world.hub.uow() as uow:
            uow.cameras.add_many(cams)
            uow.record(AuditEntry("bench.bulk_import", "success", None, world.city_id, None, "bench",
                                  {"cameras": n}))
            uow.commit()


def _seed_hot_list(world: BenchWorld, rng: random.Random, expected_hits: int,
                   min_entries: int) -> tuple[list[str], int]:
    """An NCIC stolen-vehicle list imported as an agency does; each hit the driver sends is a distinct entry,
    so every hit raises exactly one alert (no repeat-sighting suppression in the way)."""
    entries = max(min_entries, math.ceil(expected_hits * 1.05) + 100)
    listed = random_plates(rng, entries)
    ncic = "LIC,LIS,VMA,VCO\n" + "".join(f"{p},CA,TOYT,BLK\n" for p in listed)
    import_hot_list(world.hub, world.admin, name="Bench stolen vehicles", fmt="ncic", data=ncic.encode())
    hits = rng.sample(listed, min(entries, expected_hits + 50))
    return hits, entries


def _misses(world: BenchWorld, rng: random.Random) -> list[str]:
    """Plates that match no entry of the agency's lists, fuzzily included (a read of a listed plate with one
    character misread alerts too): a miss must raise no alert, or alerts would be miscounted."""
    candidates = random_plates(rng, MISS_PLATES)
    matched = hotlist_index(world.hub).match_many(world.city_id, [(p, "CA") for p in candidates])
    return [p for p, hits in zip(candidates, matched, strict=True) if not hits]


def _seed_operators(world: BenchWorld, count: int) -> list[str]:
    """Officers as an administrator adds them (each audited), in one transaction and with one password hash
    for all (hashing is made slow on purpose); each enrols its authenticator at its first log-on."""
    hub, now = world.hub, world.hub.clock.now()
    password_hash = hub.passwords.hash(world.password)
    users = [User(hub.ids.new_id(), f"operator{i}@city.bench.example", f"Operator {i}", Role.OFFICER,
                  world.city_id, password_hash, None, False, None, None, False, now, None) for i in range(count)]
    with hub.uow() as uow:
        uow.accounts.add_users(users)
        for u in users:
            uow.record(world.admin.entry("user.create", f"user:{u.id}", role=Role.OFFICER.value))
        uow.commit()
    return [u.email for u in users]
